// One of our commands whose value does not fit a message of the device
// (§3.3): an Add or Replace sent as a large object, one chunk per message
// as large as the device's MaxMsgSize allows, Meta/Size on the first,
// MoreData on all but the last, each after the device's 213 for the one
// before.  The value comes from the object store (an inline value moved
// there) or in pieces from the backend's "object" call.
#pragma once

#include "session/object_segments.hpp"
#include "session/reply_builder.hpp"  // the messages chunks go in

namespace omadm {

// Where the bytes of the next chunk come from: the "object" call to make
// (its body), or none when they came from the object store; lost: evicted
// from the store meanwhile.
struct object_piece {
    bool lost = false;
    std::string fetch;  // the "object" request, when not empty
};

// Reads and writes ctx.st.outgoing and ctx.st.sending.
class outgoing_object_sender {
public:
    outgoing_object_sender(exchange_context &ctx, object_segments &segments,
                           const reply_builder &reply);

    bool sending() const { return ctx_.st.sending; }

    // Why the command can never be sent, or nothing.
    std::optional<std::string> unsendable(const backend_command &bc,
                                          bool session_start) const;
    // Sent as a large object: a value fetched in pieces, or one too large
    // for a message of its own.
    bool is_large(const backend_command &bc, bool session_start) const;

    // The device's Status for a chunk but the last.
    void chunk_answered(int code, exchange_request &r);
    // Before the exchange: a chunk never answered, or no room for one
    // twice, ends the object; the backend learns why with `failed`.
    void check(exchange_request &r, bool package_ends);
    void end();

    // The command starts going out; false when the store has no room for
    // its value.
    bool start(const backend_command &bc);

    // The bytes of the next chunk.
    object_piece next_piece();
    // The backend's "object" answer: "" when it is the piece asked for,
    // else why the object fails (the backend unreachable or failing is
    // the caller's: status 0 or 5xx).
    std::string on_piece(int status, const std::string &body);

    // The next chunk into m, as large as the device's MaxMsgSize allows;
    // false when not even a character fits.
    bool add_chunk(message &m, unsigned &next_cmd_id);

private:
    bool load(unsigned long long offset, unsigned long long len,
              std::string &out) const;

    exchange_context &ctx_;
    object_segments &segments_;
    const reply_builder &reply_;
    std::string piece_;             // the bytes of the next chunk
    unsigned long long asked_ = 0;  // ... their length as asked for
};

}  // namespace omadm
