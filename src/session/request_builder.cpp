#include "session/request_builder.hpp"

#include <algorithm>
#include <set>

#include "common/text.hpp"
#include "session/command_tree.hpp"

namespace omadm {

bool device_done(const exchange_context &ctx, bool answers_our_package)
{
    return ctx.msg.final || answers_our_package;
}

request_builder::request_builder(exchange_context &ctx, authenticator &auth,
                                 device_answers &answers,
                                 incoming_objects &incoming,
                                 outgoing_object_sender &outgoing)
    : ctx_(ctx), auth_(auth), answers_(answers), incoming_(incoming),
      outgoing_(outgoing)
{
}

exchange_request request_builder::build(bool session_start,
                                        bool answers_our_package,
                                        std::string &note)
{
    session_state &st = ctx_.st;
    const message &msg = ctx_.msg;
    exchange_request r;
    r.device_id = ctx_.device_id();
    r.session_id = ctx_.session_id();
    r.msg_id = msg.hdr.msg_id;
    r.session_start = session_start;
    if (session_start || auth_.hands_out_nonce()) {  // or an HMAC message
        r.used_nonce = auth_.used_nonce().b64();
        r.next_nonce = auth_.next_nonce().b64();
    }
    r.max_commands = ctx_.cf.max_commands;

    // A Status or Results without MsgRef answers our last message.
    const std::string last_server = std::to_string(st.server_msg_id);
    auto outstanding_key = [&](const command &c) {
        return (c.msg_ref.empty() ? last_server : c.msg_ref) + ":"
               + std::string(trim(c.cmd_ref));
    };

    bool aborted = false;
    // A Get's Status waits for the end of the device's package (held):
    // its Results may come in a later message of it.
    bool package_ends = msg.final || device_aborted(msg);
    for (const auto &c : msg.body) {
        if (c.name == "Replace") {
            for (const auto &it : c.items) {
                if (it.source.rfind("./DevInfo/", 0) == 0)
                    r.devinfo[it.source] = it.data;
            }
        } else if (c.name == "Alert") {
            std::string code(trim(c.data));
            if (code == "1200" || code == "1201" || code == "1222") continue;
            if (std::any_of(c.items.begin(), c.items.end(),
                            [](const item &it) { return it.more_data; })) {
                answers_.codes[c.cmd_id] = "406";  // chunks: Results only
                continue;
            }
            if (code == "1223") aborted = true;
            device_alert a;
            a.code = code;
            a.correlator = c.correlator;
            for (const auto &it : c.items) {
                a.items.push_back(
                    {it.source, it.target,
                     it.meta.type.empty() ? c.meta.type : it.meta.type,
                     it.meta.format.empty() ? c.meta.format : it.meta.format,
                     it.meta.mark, it.data});
            }
            r.alerts.push_back(std::move(a));
        } else if (c.name == "Status") {
            if (trim(c.cmd_ref) == "0") continue;
            std::string key = outstanding_key(c);
            auto found = st.outstanding.find(key);
            int code;
            if (!parse_code(c.data, code)) continue;
            if (st.sending && key == st.outgoing.chunk_key) {
                outgoing_.chunk_answered(code, r);
                continue;
            }
            if (found == st.outstanding.end()) continue;
            if (!package_ends && trim(c.cmd) == "Get") {
                st.held[key] = code;
                continue;
            }
            status_report sr{found->second, code, {}};
            // a user-interaction alert's answer: text, selected choices
            for (const auto &it : c.items)
                sr.items.push_back({it.source, it.target, it.data});
            r.statuses.push_back(std::move(sr));
            answers_.answered.insert(key);
        } else if (c.name == "Results") {
            auto found = st.outstanding.find(outstanding_key(c));
            bool known = found != st.outstanding.end();
            for (const auto &it : c.items) {
                if (it.more_data || st.receiving) {
                    incoming_.receive(c, it, known ? &found->second : nullptr,
                                      r);
                    continue;
                }
                if (!known) continue;
                r.results.push_back(
                    {found->second, it.source,
                     it.meta.format.empty() ? c.meta.format : it.meta.format,
                     it.meta.type.empty() ? c.meta.type : it.meta.type,
                     it.data});
            }
        }
    }
    // The device's package (or the session) ended with its object
    // incomplete.
    if (st.receiving && package_ends) incoming_.fail(424);
    if (package_ends) {
        // An exchange applies Results before Statuses: the Statuses held
        // go with the package's last Results (ahead of this message's).
        std::vector<status_report> earlier;
        for (const auto &h : st.held) {
            auto found = st.outstanding.find(h.first);
            if (found == st.outstanding.end()) continue;
            earlier.push_back({found->second, h.second, {}});
            answers_.answered.insert(h.first);
        }
        r.statuses.insert(r.statuses.begin(), earlier.begin(), earlier.end());
        st.held.clear();
    }
    incoming_.settle(r);
    bool done = device_done(ctx_, answers_our_package);
    outgoing_.check(r, done && !aborted);
    // After a device abort (1223) the server sends no commands (§3.2);
    // none either while the device's package goes on (no Final, or a large
    // object not complete) or while ours does (commands kept in the
    // session, a large object, go first), §3.3.
    if (aborted || !done || !st.pending.empty() || st.receiving || st.sending)
        r.max_commands = 0;
    take_back_refused(r, note);
    return r;
}

// The device's Status on our SyncHdr: only an authenticated message may
// set the nonce we sign with; a refusal (401/407) of our Cred means the
// device executed none of our last message, and its Statuses for those
// commands are not outcomes.
void request_builder::take_back_refused(exchange_request &r, std::string &note)
{
    session_state &st = ctx_.st;
    const device_verdict_on_us &said = auth_.server().device_said();
    if (!said.chal.empty()) st.server_nonce = said.chal;
    r.server_next_nonce = said.chal.b64();
    if (!st.server_cred_sent || (said.code != 401 && said.code != 407)) return;
    std::string prefix = std::to_string(st.server_msg_id) + ":";
    std::set<std::string> ids;
    for (const auto &[key, id] : st.outstanding) {
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        ids.insert(id);
        answers_.answered.insert(key);
    }
    // ... a chunk of a large object among them: the object starts over
    const std::string &chunk = st.outgoing.chunk_key;
    if (chunk.compare(0, prefix.size(), prefix) == 0) {
        ids.insert(st.outgoing.command_id);
        if (st.sending) outgoing_.end();
    }
    auto refused = [&](const auto &x) { return ids.count(x.command_id) > 0; };
    r.statuses.erase(
        std::remove_if(r.statuses.begin(), r.statuses.end(), refused),
        r.statuses.end());
    r.results.erase(std::remove_if(r.results.begin(), r.results.end(), refused),
                    r.results.end());
    r.failed.erase(std::remove_if(r.failed.begin(), r.failed.end(), refused),
                   r.failed.end());
    r.requeue.assign(ids.begin(), ids.end());
    if (st.server_resends >= 1) {
        // Refused again: end the session, the commands stay queued.
        r.max_commands = 0;
        note = "device refused the server's credentials again";
        return;
    }
    st.server_resends++;
    note = "device refused the server's credentials: sending them again";
}

exchange_request request_builder::failed(std::vector<failed_report> failed,
                                         unsigned max_commands) const
{
    exchange_request r;
    r.device_id = ctx_.device_id();
    r.session_id = ctx_.session_id();
    r.msg_id = ctx_.msg.hdr.msg_id;
    r.failed = std::move(failed);
    r.max_commands = max_commands;
    return r;
}

}  // namespace omadm
