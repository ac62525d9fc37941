#include "session/reply_builder.hpp"

#include "session/command_tree.hpp"

namespace omadm {

namespace {

// room kept when a command is checked to fit in a message alone: later
// messages of the package have longer MsgIDs / MsgRefs (but no Chal)
constexpr size_t k_size_slack = 64;

}  // namespace

reply_builder::reply_builder(exchange_context &ctx, authenticator &auth,
                             const device_answers &answers)
    : ctx_(ctx), auth_(auth), answers_(answers)
{
}

void reply_builder::declare_limits(message &m) const
{
    if (ctx_.cf.max_message_size)
        m.hdr.meta.max_msg_size = std::to_string(ctx_.cf.max_message_size);
    if (ctx_.cf.max_object_size)
        m.hdr.meta.max_obj_size = std::to_string(ctx_.cf.max_object_size);
}

message reply_builder::skeleton() const
{
    const header &dev = ctx_.msg.hdr;
    message m;
    m.version = ctx_.msg.version;
    m.hdr.session_id = dev.session_id;
    m.hdr.msg_id = std::to_string(ctx_.st.server_msg_id + 1);
    m.hdr.target = dev.source;
    m.hdr.source = ctx_.server_id;
    m.hdr.resp_uri = resp_uri();
    declare_limits(m);
    m.final = true;
    return m;
}

std::string reply_builder::resp_uri() const
{
    if (ctx_.resp_uri.empty()) return std::string();
    std::string uri = ctx_.resp_uri;
    if (ctx_.st.token.empty()) return uri;  // no session yet
    uri += uri.find('?') == std::string::npos ? "?s=" : "&s=";
    uri += ctx_.st.token;
    // the node that keeps the session, for a front proxy's routing
    if (ctx_.cf.node_id_len)
        uri.append("&n=").append(ctx_.cf.node_id, ctx_.cf.node_id_len);
    return uri;
}

command reply_builder::hdr_status(const std::string &code) const
{
    const header &dev = ctx_.msg.hdr;
    command s;
    s.name = "Status";
    s.msg_ref = dev.msg_id;
    s.cmd_ref = "0";
    s.cmd = "SyncHdr";
    if (!dev.target.empty()) s.target_refs.push_back(dev.target);
    s.source_refs.push_back(dev.source);
    s.data = code;
    return s;
}

void reply_builder::add_statuses(message &m, const std::string &code,
                                 unsigned &next_cmd_id) const
{
    const auto &own_codes = answers_.codes;
    m.body.reserve(m.body.size() + ctx_.msg.body.size());  // one at most each
    for (const auto &c : ctx_.msg.body) {
        // Statuses and Results are answers themselves, but for a Results
        // carrying a large object's chunk; NoResp asks for none.
        auto own = code == "200" ? own_codes.find(c.cmd_id) : own_codes.end();
        if (c.name == "Status" || c.no_resp) continue;
        if (c.name == "Results" && own == own_codes.end()) continue;
        command s;
        s.name = "Status";
        s.cmd_id = std::to_string(next_cmd_id++);
        s.msg_ref = ctx_.msg.hdr.msg_id;
        s.cmd_ref = c.cmd_id;
        s.cmd = c.name;
        if (c.name == "Results" && !c.items.empty())
            s.source_refs.push_back(c.items.front().source);
        s.data = own == own_codes.end() ? code : own->second;
        m.body.push_back(std::move(s));
    }
}

message reply_builder::version_refusal(std::string &reason) const
{
    const header &dev = ctx_.msg.hdr;
    const std::string &dtd = dev.ver_dtd;
    bool dtd_ok = dtd == "1.1" || dtd == "1.2";
    bool proto_ok = dtd_ok && dev.ver_proto == "DM/" + dtd;
    // A known VerDTD with a foreign VerProto is a protocol problem (513);
    // anything else (unknown DTD, namespace disagreeing) is 505.
    const char *code = dtd_ok && !proto_ok ? "513" : "505";
    reason
        = dtd_ok && !proto_ok ? "unsupported VerProto" : "unsupported VerDTD";

    message m;
    m.version = dtd == "1.1" ? syncml_version::v1_1 : syncml_version::v1_2;
    m.hdr.session_id = dev.session_id;
    m.hdr.msg_id = "1";
    m.hdr.target = dev.source;
    m.hdr.source = ctx_.server_id;
    declare_limits(m);
    command s = hdr_status(code);
    s.cmd_id = "1";
    m.body.push_back(std::move(s));
    m.final = true;
    return m;
}

message reply_builder::refusal(const challenge &chal) const
{
    std::string code = std::to_string(chal.code);
    message m = skeleton();
    command s = hdr_status(code);
    s.cmd_id = "1";
    s.has_chal = true;
    s.chal.format = "b64";
    s.chal.type = cred_type(chal.scheme);
    if (chal.scheme != auth_scheme::basic) s.chal.next_nonce = chal.next.b64();
    m.body.push_back(std::move(s));
    unsigned n = 2;
    add_statuses(m, code, n);
    return m;
}

message reply_builder::device_gone() const
{
    message m = skeleton();
    command s = hdr_status("403");
    s.cmd_id = "1";
    m.body.push_back(std::move(s));
    unsigned n = 2;
    add_statuses(m, "403", n);
    return m;
}

message reply_builder::authenticated_head(bool session_start) const
{
    message m = skeleton();
    command s = hdr_status(session_start ? "212" : "200");
    s.cmd_id = "1";
    s.has_chal = auth_.answer_chal(s.chal);
    m.body.push_back(std::move(s));
    auth_.server().add_cred(m, ctx_.st);
    return m;
}

bool reply_builder::fits_alone(const backend_command &bc,
                               bool session_start) const
{
    size_t limit = ctx_.st.device_max_msg_size;
    if (limit == 0) return true;
    message head = authenticated_head(session_start);
    std::map<std::string, std::string> scratch;
    unsigned n = 2;
    command c = to_syncml(bc, head.hdr.msg_id, n, scratch);
    return message_writer(head, ctx_.enc).size_with(c) + k_size_slack <= limit;
}

size_t reply_builder::pack(message &m, unsigned &next_cmd_id,
                           const std::vector<backend_command> &cmds,
                           size_t stop) const
{
    message_writer budget(m, ctx_.enc, ctx_.st.device_max_msg_size);
    size_t sent = 0;
    for (; sent < stop; sent++) {
        std::map<std::string, std::string> keys;
        unsigned n = next_cmd_id;
        command c = to_syncml(cmds[sent], m.hdr.msg_id, n, keys);
        if (!budget.fits(c)) break;
        budget.add(c);
        m.body.push_back(std::move(c));
        next_cmd_id = n;
        ctx_.st.outstanding.insert(keys.begin(), keys.end());
    }
    return sent;
}

}  // namespace omadm
