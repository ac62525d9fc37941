// Large objects (§3.3): a device's Results arriving in chunks, kept in the
// object store until the last one; and a backend command whose value does
// not fit one message, sent a chunk per message, each waiting for the
// device's Status 213 before the next.
//
// Both keep their bytes in the object store in segments of at most
// k_segment bytes, so a chunk costs work in proportion to its size, not to
// the object's: the segment "<object_key>\n<i|o><serial>:<n>".
#include "session/exchange.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "session/command_tree.hpp"

namespace omadm {

namespace {

// The most of an outgoing value put in one message: it bounds what one
// "object" call returns, and the chunks of a device without MaxMsgSize.
constexpr unsigned long long k_max_piece = 256 * 1024;

constexpr unsigned long long k_segment = 64 * 1024;

// Room a large object's messages need besides the chunk's command: a few
// bytes of data, Meta/Size, MoreData, and the Statuses of an answer.
constexpr size_t k_chunk_room = 256;

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
    if (!parse_kept_commands({raw}, cmds)) return false;
    out = std::move(cmds.front());
    return true;
}

void drop_statuses(std::vector<status_report> &v, const std::string &id)
{
    v.erase(std::remove_if(
                v.begin(), v.end(),
                [&](const status_report &s) { return s.command_id == id; }),
            v.end());
}

unsigned segments_of(unsigned long long size)
{
    return (unsigned) ((size + k_segment - 1) / k_segment);
}

}  // namespace

const omadm_store_t &exchange::objects() const
{
    return cf_.object_store ? *cf_.object_store : store_;
}

std::string exchange::segment_key(bool incoming, unsigned serial,
                                  unsigned n) const
{
    return object_key(device_id_, session_id_) + (incoming ? "\ni" : "\no")
           + std::to_string(serial) + ":" + std::to_string(n);
}

bool exchange::put_segment(const std::string &key, const std::string &val)
{
    return objects().put(objects().ctx, key.data(), key.size(), val.data(),
                         val.size(), cf_.session_ttl)
           == OMADM_OK;
}

// Removed with the answer (persist()): a retried message finds them.
void exchange::drop_segments(bool incoming, unsigned serial, unsigned count)
{
    for (unsigned n = 0; n < count; n++)
        drops_.push_back(segment_key(incoming, serial, n));
}

// The segments of the objects going on live as long as the session: the
// store would expire the early ones of a slow object first.
void exchange::keep_objects_alive()
{
    if (objects().touch == nullptr) return;
    auto touch = [&](bool incoming, unsigned serial, unsigned count) {
        for (unsigned n = 0; n < count; n++) {
            std::string key = segment_key(incoming, serial, n);
            objects().touch(objects().ctx, key.data(), key.size(),
                            cf_.session_ttl);
        }
    };
    if (st_.receiving) touch(true, st_.incoming.serial, st_.incoming.segments);
    if (st_.sending && !st_.outgoing.fetch)
        touch(false, st_.outgoing.serial, segments_of(st_.outgoing.size));
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
        fail_incoming(424);  // a new object before the last one ended

    if (!st_.receiving) {
        if (get_id == nullptr) {  // answers nothing of ours: ignored
            answer_codes_.erase(c.cmd_id);
            return;
        }
        const meta &cm = c.meta;
        st_.receiving = true;
        st_.incoming = incoming_object{};
        st_.incoming.command_id = *get_id;
        st_.incoming.source = it.source;
        st_.incoming.format
            = it.meta.format.empty() ? cm.format : it.meta.format;
        st_.incoming.type = it.meta.type.empty() ? cm.type : it.meta.type;
        st_.incoming.serial = ++st_.object_serial;
        const std::string &size = it.meta.size.empty() ? cm.size : it.meta.size;
        unsigned long long declared = 0;
        if (!size.empty()
            && (!parse_decimal(size, 18, declared)
                || declared > cf_.max_object_size)) {
            code = "416";
            fail_incoming(416);
            return;
        }
        st_.incoming.declared = declared;
    }

    incoming_object &o = st_.incoming;
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
    if (it.more_data) {
        // One chunk per message: more would each rewrite the last segment.
        int stored = chunk_stored_ ? 400 : store_chunk(it.data);
        chunk_stored_ = true;
        code = std::to_string(stored);
        if (stored != 213) fail_incoming(stored);
        return;
    }
    if (o.declared && total != o.declared) {
        code = "424";
        fail_incoming(424);
        return;
    }
    std::string value;
    if (!load_incoming(value)) {
        code = "500";  // expired or evicted meanwhile
        fail_incoming(500);
        return;
    }
    value += it.data;
    r.results.push_back(
        {o.command_id, o.source, o.format, o.type, std::move(value)});
    object_outcomes_.push_back({o.command_id, 200, o.get_status});
    drop_segments(true, o.serial, o.segments);
    st_.receiving = false;
    code = "200";
}

// A chunk goes into the last segment, or starts one when that is full.
// The segment is cut back first to what the session acknowledged.  213,
// or 420 when the object zone is full, 500 when it lost the segment.
int exchange::store_chunk(const std::string &data)
{
    incoming_object &o = st_.incoming;
    if (data.empty()) return 213;
    std::string buf;
    if (o.segments > 0 && o.tail < k_segment) {
        std::string key = segment_key(true, o.serial, o.segments - 1);
        if (!store_get(objects(), key, buf) || buf.size() < o.tail) return 500;
        buf.resize(o.tail);
        buf += data;
        if (!put_segment(key, buf)) return 420;
        o.tail = buf.size();
    } else {
        if (!put_segment(segment_key(true, o.serial, o.segments), data))
            return 420;
        o.segments++;
        o.tail = data.size();
    }
    o.received += data.size();
    return 213;
}

bool exchange::load_incoming(std::string &out)
{
    const incoming_object &o = st_.incoming;
    out.clear();
    out.reserve(o.received);
    for (unsigned n = 0; n < o.segments; n++) {
        std::string seg;
        if (!store_get(objects(), segment_key(true, o.serial, n), seg))
            return false;
        if (n + 1 == o.segments) {
            if (seg.size() < o.tail) return false;
            seg.resize(o.tail);
        }
        out += seg;
    }
    return out.size() == o.received;
}

void exchange::fail_incoming(int code)
{
    object_outcomes_.push_back(
        {st_.incoming.command_id, code, st_.incoming.get_status});
    // segments written by this message, beyond those acknowledged, too
    drop_segments(true, st_.incoming.serial, st_.incoming.segments + 1);
    st_.receiving = false;
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
        if (o.code != 200) forget_held(o.command_id);
        bool reported = std::any_of(r.statuses.begin(), r.statuses.end(),
                                    [&](const status_report &s) {
                                        return s.command_id == o.command_id;
                                    });
        if (o.code == 200) {
            if (!reported && o.held_status)
                r.statuses.push_back({o.command_id, o.held_status, {}});
            continue;
        }
        drop_statuses(r.statuses, o.command_id);
        r.statuses.push_back({o.command_id, o.code, {}});
    }
}

// A failed object is the Get's outcome: its own Status, held until the
// package's end, is not reported after it.
void exchange::forget_held(const std::string &command_id)
{
    for (auto h = st_.held.begin(); h != st_.held.end();) {
        auto found = st_.outstanding.find(h->first);
        if (found != st_.outstanding.end() && found->second == command_id) {
            answered_.insert(h->first);
            h = st_.held.erase(h);
        } else {
            ++h;
        }
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
    end_sending();
}

// Before the exchange: a chunk never answered, or no room for one twice,
// ends the object; the backend learns why with `failed`.
void exchange::check_sending(exchange_request &r, bool package_ends)
{
    if (!st_.sending) return;
    const char *why = nullptr;
    if (!st_.outgoing.acked && package_ends)
        why = "the device did not answer a chunk of the large object";
    else if (st_.outgoing.stalled >= 2)
        why = "no room for a chunk of the large object within the "
              "device's MaxMsgSize";
    if (why == nullptr) return;
    r.failed.push_back({st_.outgoing.command_id, why});
    end_sending();
}

void exchange::end_sending()
{
    if (!st_.outgoing.fetch)
        drop_segments(false, st_.outgoing.serial,
                      segments_of(st_.outgoing.size));
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
    backend_command bare = bc;  // as a large object: chunks must fit
    bare.has_data_size = false;
    bare.data.assign(k_chunk_room, 'x');
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

// The answer, once the commands are known.  A large object first in line
// starts; the bytes of its next chunk come from the backend ("object") or
// from its segments.
void exchange::answer()
{
    if (commands_go_out() && !st_.sending && !kept_.empty()
        && is_large(kept_.front())) {
        std::string id = kept_.front().id;
        if (!start_sending()) {
            ask_failed({{id, "the object zone has no room for the large "
                             "object"}});
            return;
        }
    }
    if (!commands_go_out() || !st_.sending || !st_.outgoing.acked) {
        respond_authenticated();
        return;
    }
    const outgoing_object &o = st_.outgoing;
    unsigned long long left = o.size - o.sent;
    unsigned long long room
        = st_.device_max_msg_size ? st_.device_max_msg_size : k_max_piece;
    asked_ = std::min({left, room, k_max_piece});
    if (o.fetch) {
        ask(op::object, "object",
            object_request(device_id_, o.command_id, o.sent, asked_));
        return;
    }
    if (!load_outgoing(o.sent, asked_, fetched_)) {
        std::string id = o.command_id;
        end_sending();
        ask_failed({{id, "the large object was evicted from the object "
                         "zone"}});
        return;
    }
    respond_authenticated();
}

// The first command kept leaves kept_ to go out in chunks; an inline
// value moves to the object store (the session keeps the command without
// it).  False when the store has no room.
bool exchange::start_sending()
{
    const backend_command &bc = kept_.front();
    outgoing_object o;
    o.command = without_data(kept_raw_.front());
    o.command_id = bc.id;
    o.size = value_size(bc);
    o.fetch = bc.has_data_size;
    o.acked = true;  // nothing to wait for before the first
    o.serial = ++st_.object_serial;
    bool stored = true;
    for (unsigned n = 0; !o.fetch && stored && n < segments_of(o.size); n++)
        stored = put_segment(segment_key(false, o.serial, n),
                             bc.data.substr(n * k_segment, k_segment));
    kept_.erase(kept_.begin());
    kept_raw_.erase(kept_raw_.begin());
    st_.outgoing = std::move(o);
    if (!stored) {
        end_sending();
        return false;
    }
    st_.sending = true;
    return true;
}

// Up to len bytes of the value from offset, cut back to a character
// boundary (a byte or three more are read to see where one ends).
bool exchange::load_outgoing(unsigned long long offset, unsigned long long len,
                             std::string &out)
{
    const outgoing_object &o = st_.outgoing;
    unsigned long long end = std::min(o.size, offset + len + 3);
    out.clear();
    for (unsigned long long at = offset; at < end;) {
        unsigned n = (unsigned) (at / k_segment);
        std::string seg;
        if (!store_get(objects(), segment_key(false, o.serial, n), seg))
            return false;
        unsigned long long from = at - n * k_segment;
        unsigned long long want = std::min(end - at, k_segment - from);
        if (seg.size() < from + want) return false;
        out.append(seg, from, want);
        at += want;
    }
    out.resize(utf8_prefix(out, len));
    return true;
}

void exchange::on_object()
{
    std::string why;
    if (backend_status_ == 0 || backend_status_ >= 500) {
        backend_failed(backend_reason("object", backend_status_));
        return;
    }
    unsigned long long size = 0;
    if (backend_status_ == 404) {
        why = "backend object answered 404: the command is gone";
    } else if (backend_status_ != 200) {
        why = backend_reason("object", backend_status_);
    } else if (!parse_object_reply(backend_body_, fetched_, size, why)) {
        // why set
    } else if (size != st_.outgoing.size || fetched_.size() > asked_
               || (fetched_.empty() && asked_ > 0)) {
        why = "backend object answer does not match the command's "
              "data_size";
    } else {
        respond_authenticated();
        return;
    }
    // Not a passing failure: asking again would get the same.  The object
    // fails to the backend, and the answer goes on without it.
    std::string id = st_.outgoing.command_id;
    end_sending();
    ask_failed({{id, why}});
}

// The next chunk (fetched_ holds its bytes), as large as the device's
// MaxMsgSize allows; false when not even a character fits.
bool exchange::add_chunk(message &m, unsigned &n)
{
    outgoing_object &o = st_.outgoing;
    backend_command bc;
    if (!parse_command(o.command, bc)) {  // our own JSON: cannot happen
        end_sending();
        return false;
    }
    bc.data.clear();
    bc.has_data_size = false;
    std::string_view rest = fetched_;

    std::map<std::string, std::string> keys;
    unsigned next = n;
    command c = to_syncml(bc, m.hdr.msg_id, next, keys);
    item &it = c.items.front();
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
        room = base < limit ? std::min<size_t>(room, limit - base) : 0;
    }
    size_t len = utf8_prefix(rest, std::min(rest.size(), room));
    for (;;) {
        if (len == 0 && o.sent < o.size) {
            o.stalled++;  // see check_sending()
            return false;
        }
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
    o.stalled = 0;
    if (o.sent < o.size) {
        o.chunk_key = keys.begin()->first;  // its Status: chunk_answered()
        o.acked = false;
    } else {
        st_.outstanding.insert(keys.begin(), keys.end());
        end_sending();
    }
    return true;
}

}  // namespace omadm
