#include "session/outgoing_object.hpp"

#include <algorithm>

#include "codec/message_writer.hpp"
#include "common/text.hpp"
#include "session/command_tree.hpp"

namespace omadm {

namespace {

using way = object_segments::way;

// The most of an outgoing value put in one message: it bounds what one
// "object" call returns, and the chunks of a device without MaxMsgSize.
constexpr unsigned long long k_max_piece = 256 * 1024;

// Room a large object's messages need besides the chunk's command: a few
// bytes of data, Meta/Size, MoreData, and the Statuses of an answer.
constexpr size_t k_chunk_room = 256;

unsigned long long value_size(const backend_command &bc)
{
    return bc.has_data_size ? bc.data_size : bc.data.size();
}

}  // namespace

outgoing_object_sender::outgoing_object_sender(exchange_context &ctx,
                                               object_segments &segments,
                                               const reply_builder &reply)
    : ctx_(ctx), segments_(segments), reply_(reply)
{
}

std::optional<std::string>
outgoing_object_sender::unsendable(const backend_command &bc,
                                   bool session_start) const
{
    const session_state &st = ctx_.st;
    std::string too_large = "command too large for the device's MaxMsgSize ("
                            + std::to_string(st.device_max_msg_size)
                            + " bytes)";
    if (is_session_abort(bc)) return {};
    if (!carries_value(bc.verb)) {
        if (reply_.fits_alone(bc, session_start)) return {};
        return too_large;
    }
    unsigned long long size = value_size(bc);
    if (st.device_max_obj_size && size > st.device_max_obj_size)
        return "data of " + std::to_string(size)
               + " bytes is larger than the device's MaxObjSize ("
               + std::to_string(st.device_max_obj_size) + " bytes)";
    if (!bc.has_data_size && reply_.fits_alone(bc, session_start)) return {};
    backend_command bare = bc;  // as a large object: chunks must fit
    bare.has_data_size = false;
    bare.data.assign(k_chunk_room, 'x');
    if (reply_.fits_alone(bare, session_start)) return {};
    return too_large;
}

bool outgoing_object_sender::is_large(const backend_command &bc,
                                      bool session_start) const
{
    return carries_value(bc.verb)
           && (bc.has_data_size || !reply_.fits_alone(bc, session_start));
}

// 213 (or 200) takes the next one; anything else ends the object, as the
// command's Status.
void outgoing_object_sender::chunk_answered(int code, exchange_request &r)
{
    if (code == 213 || code == 200) {
        ctx_.st.outgoing.acked = true;
        return;
    }
    r.statuses.push_back({ctx_.st.outgoing.command_id, code, {}});
    end();
}

void outgoing_object_sender::check(exchange_request &r, bool package_ends)
{
    const session_state &st = ctx_.st;
    if (!st.sending) return;
    const char *why = nullptr;
    if (!st.outgoing.acked && package_ends)
        why = "the device did not answer a chunk of the large object";
    else if (st.outgoing.stalled >= 2)
        why = "no room for a chunk of the large object within the "
              "device's MaxMsgSize";
    if (why == nullptr) return;
    r.failed.push_back({st.outgoing.command_id, why});
    end();
}

void outgoing_object_sender::end()
{
    session_state &st = ctx_.st;
    if (!st.outgoing.fetch)
        segments_.drop(way::out, st.outgoing.serial,
                       segments_of(st.outgoing.size));
    st.sending = false;
}

// An inline value moves to the object store (the session keeps the
// command without it).
bool outgoing_object_sender::start(const backend_command &bc)
{
    session_state &st = ctx_.st;
    outgoing_object o;
    o.command = bc;
    o.command.data.clear();
    o.command_id = bc.id;
    o.size = value_size(bc);
    o.fetch = bc.has_data_size;
    o.acked = true;  // nothing to wait for before the first
    o.serial = ++st.object_serial;
    bool stored = true;
    for (unsigned n = 0; !o.fetch && stored && n < segments_of(o.size); n++)
        stored = segments_.put(
            way::out, o.serial, n,
            std::string_view(bc.data).substr(n * k_segment, k_segment));
    st.outgoing = std::move(o);
    if (!stored) {
        end();
        return false;
    }
    st.sending = true;
    return true;
}

object_piece outgoing_object_sender::next_piece()
{
    const session_state &st = ctx_.st;
    const outgoing_object &o = st.outgoing;
    unsigned long long left = o.size - o.sent;
    unsigned long long room
        = st.device_max_msg_size ? st.device_max_msg_size : k_max_piece;
    asked_ = std::min({left, room, k_max_piece});
    object_piece p;
    if (o.fetch) {
        p.fetch
            = object_request(ctx_.device_id(), o.command_id, o.sent, asked_);
        return p;
    }
    p.lost = !load(o.sent, asked_, piece_);
    return p;
}

// Up to len bytes of the value from offset, cut back to a character
// boundary (a byte or three more are read to see where one ends).
bool outgoing_object_sender::load(unsigned long long offset,
                                  unsigned long long len,
                                  std::string &out) const
{
    const outgoing_object &o = ctx_.st.outgoing;
    unsigned long long end = std::min(o.size, offset + len + 3);
    out.clear();
    for (unsigned long long at = offset; at < end;) {
        unsigned n = (unsigned) (at / k_segment);
        auto seg = segments_.get(way::out, o.serial, n);
        if (!seg) return false;
        unsigned long long from = at - n * k_segment;
        unsigned long long want = std::min(end - at, k_segment - from);
        if (seg->size() < from + want) return false;
        out.append(*seg, from, want);
        at += want;
    }
    out.resize(utf8_prefix(out, len));
    return true;
}

std::string outgoing_object_sender::on_piece(int status,
                                             const std::string &body)
{
    std::string why;
    unsigned long long size = 0;
    if (status == 404) {
        why = "backend object answered 404: the command is gone";
    } else if (status != 200) {
        why = backend_reason("object", status);
    } else if (!parse_object_reply(body, piece_, size, why)) {
        // why set
    } else if (size != ctx_.st.outgoing.size || piece_.size() > asked_
               || (piece_.empty() && asked_ > 0)) {
        why = "backend object answer does not match the command's "
              "data_size";
    }
    return why;
}

bool outgoing_object_sender::add_chunk(message &m, unsigned &next_cmd_id)
{
    session_state &st = ctx_.st;
    outgoing_object &o = st.outgoing;
    backend_command bc = o.command;
    bc.data.clear();
    bc.has_data_size = false;
    std::string_view rest = piece_;

    std::map<std::string, std::string> keys;
    unsigned next = next_cmd_id;
    command c = to_syncml(bc, m.hdr.msg_id, next, keys);
    item &it = c.items.front();
    if (o.sent == 0) it.meta.size = std::to_string(o.size);

    // Room for data: the limit less the message with an empty chunk; then
    // less what escaping adds (each byte cut takes at least one off).
    size_t limit = st.device_max_msg_size;
    size_t room = k_max_piece;
    message_writer budget(m, ctx_.enc, limit);
    if (limit) {
        it.more_data = true;
        size_t base = budget.size_with(c);
        room = base < limit ? std::min<size_t>(room, limit - base) : 0;
    }
    size_t len = utf8_prefix(rest, std::min(rest.size(), room));
    for (;;) {
        if (len == 0 && o.sent < o.size) {
            o.stalled++;  // see check()
            return false;
        }
        it.data.assign(rest.substr(0, len));
        it.more_data = o.sent + len < o.size;
        size_t size = budget.size_with(c);
        if (limit == 0 || size <= limit) break;
        size_t excess = size - limit;
        len = utf8_prefix(rest, excess < len ? len - excess : len / 2);
    }
    m.body.push_back(std::move(c));
    next_cmd_id = next;
    o.sent += len;
    o.stalled = 0;
    if (o.sent < o.size) {
        o.chunk_key = keys.begin()->first;  // its Status: chunk_answered()
        o.acked = false;
    } else {
        st.outstanding.insert(keys.begin(), keys.end());
        end();
    }
    return true;
}

}  // namespace omadm
