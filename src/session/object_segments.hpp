// Where large objects wait (§3.3): the chunks of a device's object until
// its last one, and the inline value of one of ours being sent.  Both keep
// their bytes in the object store in segments of at most k_segment bytes,
// so a chunk costs work in proportion to its size, not to the object's:
// the segment "<object_key>\n<i|o><serial>:<n>".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "session/context.hpp"
#include "session/kv_store.hpp"

namespace omadm {

constexpr unsigned long long k_segment = 64 * 1024;

inline unsigned segments_of(unsigned long long size)
{
    return (unsigned) ((size + k_segment - 1) / k_segment);
}

class object_segments {
public:
    enum class way { in, out };

    object_segments(const exchange_context &ctx, const omadm_store_t &store);

    std::optional<std::string> get(way w, unsigned serial, unsigned n) const;
    bool put(way w, unsigned serial, unsigned n, std::string_view val) const;
    // Removed with the answer (flush()): a retried message finds them.
    void drop(way w, unsigned serial, unsigned count);
    // The segments of the objects going on live as long as the session:
    // the store would expire the early ones of a slow object first.
    void keep_alive(const session_state &st) const;
    void flush();

private:
    std::string key(way w, unsigned serial, unsigned n) const;

    const exchange_context &ctx_;
    kv_store store_;
    std::vector<std::string> drops_;  // keys done with
};

}  // namespace omadm
