// Large objects (§3.3): a device's Results arriving in chunks, kept in the
// object store until the last one; and a backend command whose value does
// not fit one message, sent a chunk per message, each waiting for the
// device's Status 213 before the next.
#include "exchange.hpp"

#include <algorithm>

#include "command_tree.hpp"
#include "text.hpp"

namespace omadm {

namespace {

// The most of an outgoing value put in one message: it bounds what one
// "object" call returns, and the chunks of a device without MaxMsgSize.
constexpr unsigned long long k_max_piece = 256 * 1024;

// Data a chunk must at least have room for, besides its command.
constexpr size_t k_min_chunk = 16;

// Meta/Size: decimal bytes.
bool to_size(std::string_view text, unsigned long long &out)
{
    text = trim(text);
    if (text.empty() || text.size() > 18) return false;
    unsigned long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (unsigned) (c - '0');
    }
    out = v;
    return true;
}

bool chunkable(const backend_command &bc)
{
    return bc.verb == "Add" || bc.verb == "Replace";
}

unsigned long long value_size(const backend_command &bc)
{
    return bc.has_data_size ? bc.data_size : bc.data.size();
}

bool parse_command(const std::string &raw, backend_command &out)
{
    std::vector<backend_command> cmds;
    std::string                  why;
    if (!parse_exchange_reply("{\"commands\":[" + raw + "]}", cmds, why)
        || cmds.size() != 1)
        return false;
    out = std::move(cmds.front());
    return true;
}

void drop_statuses(std::vector<status_report> &v, const std::string &id)
{
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const status_report &s) {
                               return s.command_id == id;
                           }),
            v.end());
}

}  // namespace

const omadm_store_t &exchange::objects() const
{
    return cf_.object_store ? *cf_.object_store : store_;
}

// ---- from the device -----------------------------------------------------

// An Item of a Results that is a chunk (MoreData) or ends the object being
// received.  get_id: backend id of the Get answered, nullptr when unknown.
// Our Status for the Results: 213 for a chunk kept, 200 for the object
// complete, else why it failed.
void exchange::receive_chunk(const command &c, const item &it,
                             const std::string *get_id, exchange_request &r)
{
    std::string &code = answer_codes_[c.cmd_id];
    if (st_.receiving && st_.incoming.source != it.source)
        fail_incoming(424);     // a new object before the last one ended

    if (!st_.receiving) {
        if (get_id == nullptr) {    // answers nothing of ours: ignored
            answer_codes_.erase(c.cmd_id);
            return;
        }
        const meta &cm = c.meta;
        st_.receiving = true;
        st_.incoming = incoming_object{};
        st_.incoming.command_id = *get_id;
        st_.incoming.source = it.source;
        st_.incoming.format = it.meta.format.empty() ? cm.format
                                                     : it.meta.format;
        st_.incoming.type = it.meta.type.empty() ? cm.type : it.meta.type;
        const std::string &size = it.meta.size.empty() ? cm.size
                                                       : it.meta.size;
        unsigned long long declared = 0;
        if (!size.empty()
            && (!to_size(size, declared) || declared > cf_.max_object_size)) {
            code = "416";
            fail_incoming(416);
            return;
        }
        st_.incoming.declared = declared;
    }

    incoming_object   &o = st_.incoming;
    unsigned long long total = o.received + it.data.size();
    if (o.declared && total > o.declared) {
        code = "424";
        fail_incoming(424);
        return;
    }
    if (total > cf_.max_object_size) {
        code = "413";
        fail_incoming(413);
        return;
    }

    // What the stored answers acknowledged, then this chunk: a message
    // retried after a failure appends its chunk once.
    std::string key = object_key(device_id_, session_id_);
    std::string buf;
    if (o.received > 0
        && (!store_get(objects(), key, buf) || buf.size() < o.received)) {
        code = "500";           // expired or evicted from a full zone
        fail_incoming(500);
        return;
    }
    buf.resize(o.received);
    buf += it.data;

    if (it.more_data) {
        if (objects().put(objects().ctx, key.data(), key.size(), buf.data(),
                          buf.size(), cf_.session_ttl)
            != OMADM_OK) {
            code = "420";       // the object zone is full
            fail_incoming(420);
            return;
        }
        o.received = total;
        code = "213";
        return;
    }
    if (o.declared && total != o.declared) {
        code = "424";
        fail_incoming(424);
        return;
    }
    r.results.push_back({o.command_id, o.source, o.format, o.type,
                         std::move(buf)});
    object_outcomes_.push_back({o.command_id, 200, o.get_status});
    st_.receiving = false;
    drop_object_ = true;
    code = "200";
}

void exchange::fail_incoming(int code)
{
    object_outcomes_.push_back(
        {st_.incoming.command_id, code, st_.incoming.get_status});
    st_.receiving = false;
    drop_object_ = true;
}

// The Get's own Status waits for its object, which ends it: the backend
// takes a command's first Status only.  A failed object is reported as the
// Get's failure.
void exchange::settle_objects(exchange_request &r)
{
    if (st_.receiving) {
        for (const auto &s : r.statuses) {
            if (s.command_id == st_.incoming.command_id)
                st_.incoming.get_status = s.status;
        }
        drop_statuses(r.statuses, st_.incoming.command_id);
    }
    for (const auto &o : object_outcomes_) {
        bool reported = std::any_of(
            r.statuses.begin(), r.statuses.end(),
            [&](const status_report &s) { return s.command_id == o.command_id; });
        if (o.code == 200) {
            if (!reported && o.held_status)
                r.statuses.push_back({o.command_id, o.held_status, {}});
            continue;
        }
        drop_statuses(r.statuses, o.command_id);
        r.statuses.push_back({o.command_id, o.code, {}});
    }
}

// ---- to the device -------------------------------------------------------

// The device's Status for a chunk but the last: 213 (or 200) takes the
// next one; anything else ends the object, as the command's Status.
void exchange::chunk_answered(int code, exchange_request &r)
{
    if (code == 213 || code == 200) {
        st_.outgoing.acked = true;
        return;
    }
    r.statuses.push_back({st_.outgoing.command_id, code, {}});
    st_.sending = false;
}

// Why the command can never be sent, or nothing.
std::optional<std::string> exchange::unsendable(const backend_command &bc)
{
    std::string too_large = "command too large for the device's MaxMsgSize ("
                            + std::to_string(st_.device_max_msg_size)
                            + " bytes)";
    if (is_session_abort(bc)) return {};
    if (!chunkable(bc)) {
        if (fits_alone(bc)) return {};
        return too_large;
    }
    unsigned long long size = value_size(bc);
    if (st_.device_max_obj_size && size > st_.device_max_obj_size)
        return "data of " + std::to_string(size)
               + " bytes is larger than the device's MaxObjSize ("
               + std::to_string(st_.device_max_obj_size) + " bytes)";
    if (!bc.has_data_size && fits_alone(bc)) return {};
    backend_command bare = bc;      // as a large object: chunks must fit
    bare.has_data_size = false;
    bare.data.assign(k_min_chunk, 'x');
    if (fits_alone(bare)) return {};
    return too_large;
}

// Sent as a large object: a value fetched in pieces, or one too large for
// a message of its own.
bool exchange::is_large(const backend_command &bc)
{
    return chunkable(bc) && (bc.has_data_size || !fits_alone(bc));
}

// Whether this answer may carry commands at all (§3.2, §3.3).
bool exchange::commands_go_out() const
{
    if (device_aborted(msg_) || !device_done() || st_.receiving) return false;
    return std::none_of(kept_.begin(), kept_.end(), is_session_abort);
}

// The answer, once the commands are known; a chunk of a fetched value
// needs one more backend call first.
void exchange::answer()
{
    if (chunk_due() && st_.outgoing.fetch) {
        unsigned long long left = st_.outgoing.size - st_.outgoing.sent;
        unsigned long long room = st_.device_max_msg_size
                                      ? st_.device_max_msg_size
                                      : k_max_piece;
        asked_ = std::min({left, room, k_max_piece});
        ask(op::object, "object",
            object_request(device_id_, st_.outgoing.command_id,
                           st_.outgoing.sent, asked_));
        return;
    }
    respond_authenticated();
}

// Whether this answer carries a chunk; starts sending the first command
// kept when it is a large object (it then leaves kept_).
bool exchange::chunk_due()
{
    if (!commands_go_out()) return false;
    if (st_.sending) return st_.outgoing.acked;
    if (kept_.empty() || !is_large(kept_.front())) return false;
    st_.sending = true;
    st_.outgoing = outgoing_object{};
    st_.outgoing.command = kept_raw_.front();
    st_.outgoing.command_id = kept_.front().id;
    st_.outgoing.size = value_size(kept_.front());
    st_.outgoing.fetch = kept_.front().has_data_size;
    st_.outgoing.acked = true;      // nothing to wait for before the first
    kept_.erase(kept_.begin());
    kept_raw_.erase(kept_raw_.begin());
    return true;
}

void exchange::on_object()
{
    if (backend_status_ == 404) {
        st_.sending = false;        // deleted meanwhile: nothing to send
        respond_authenticated();
        return;
    }
    if (backend_status_ != 200) {
        backend_failed(backend_reason("object", backend_status_));
        return;
    }
    unsigned long long size = 0;
    std::string        why;
    if (!parse_object_reply(backend_body_, fetched_, size, why)) {
        backend_failed(why);
        return;
    }
    if (size != st_.outgoing.size || fetched_.size() > asked_
        || (fetched_.empty() && asked_ > 0)) {
        backend_failed("backend object answer does not match the "
                       "command's data_size");
        return;
    }
    respond_authenticated();
}

// The next chunk, as large as the device's MaxMsgSize allows; false when
// not even a character fits (the object waits for a roomier message).
bool exchange::add_chunk(message &m, unsigned &n)
{
    outgoing_object &o = st_.outgoing;
    backend_command  bc;
    if (!parse_command(o.command, bc)) {    // our own JSON: cannot happen
        st_.sending = false;
        return false;
    }
    std::string value = std::move(bc.data);
    std::string_view rest;
    if (o.fetch)
        rest = fetched_;
    else if (o.sent <= value.size())
        rest = std::string_view(value).substr(o.sent);
    bc.data.clear();
    bc.has_data_size = false;

    std::map<std::string, std::string> keys;
    unsigned next = n;
    command  c = to_syncml(bc, m.hdr.msg_id, next, keys);
    item    &it = c.items.front();
    if (o.sent == 0) it.meta.size = std::to_string(o.size);

    // Room for data: the limit less the message with an empty chunk; then
    // less what escaping adds (each byte cut takes at least one off).
    size_t limit = st_.device_max_msg_size;
    size_t room = k_max_piece;
    if (limit) {
        it.more_data = true;
        m.body.push_back(c);
        size_t base = encoded_size(m);
        m.body.pop_back();
        if (base >= limit) return false;
        room = std::min<size_t>(room, limit - base);
    }
    size_t len = utf8_prefix(rest, std::min(rest.size(), room));
    for (;;) {
        if (len == 0 && o.sent < o.size) return false;
        it.data.assign(rest.substr(0, len));
        it.more_data = o.sent + len < o.size;
        m.body.push_back(c);
        size_t size = encoded_size(m);
        if (limit == 0 || size <= limit) break;
        m.body.pop_back();
        size_t excess = size - limit;
        len = utf8_prefix(rest, excess < len ? len - excess : len / 2);
    }
    n = next;
    o.sent += len;
    if (o.sent < o.size) {
        o.chunk_key = keys.begin()->first;  // its Status: chunk_answered()
        o.acked = false;
    } else {
        st_.outstanding.insert(keys.begin(), keys.end());
        st_.sending = false;
    }
    return true;
}

}  // namespace omadm
