// omadm_store_t (include/omadm.h) as a C++ value: the shared store the
// glue implements on a zone and the unit tests in memory.  Keys are made
// here too, one family per prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "omadm.h"

namespace omadm {

class kv_store {
public:
    explicit kv_store(const omadm_store_t &s) : s_(&s) {}

    // The value, or none when absent; throws std::bad_alloc.
    std::optional<std::string> get(const std::string &key) const;
    // False when the store has no room even after eviction.
    bool put(const std::string &key, std::string_view val, unsigned ttl) const;
    void remove(const std::string &key) const;
    // A new ttl from now, where the store can (otherwise entries live
    // ttl from their last put).
    bool can_touch() const { return s_->touch != nullptr; }
    void touch(const std::string &key, unsigned ttl) const;

private:
    const omadm_store_t *s_;
};

// "s:<device>\n<session>": a device's session.  A device id holding '\n'
// could alias another pair, but only of ids the sender may claim anyway:
// the token, not the key, is what proves a session.
std::string session_key(std::string_view device_id,
                        std::string_view session_id);
// "f:<device>\n<address>": failures count per device and client address,
// so an outsider's wrong guesses throttle the outsider, not the device.
std::string failures_key(std::string_view device_id, std::string_view peer);
// "o:<device>\n<session>": the prefix of a session's object segments.
std::string object_key(std::string_view device_id, std::string_view session_id);

}  // namespace omadm
