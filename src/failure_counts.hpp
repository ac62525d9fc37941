// Failed authentications, counted so that an outsider's wrong guesses
// throttle the outsider and not the device: per device and client address,
// and per address over all devices, so that one address cannot spread
// counters over a whole fleet.  IPv6 addresses count by /64, the block one
// subscriber holds.  Kept in the counter store as serialized auth_failures.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "omadm.h"

namespace omadm {

// An address over all devices is throttled past this many times the
// per-device limit (a NAT of honest devices stays well below it).
constexpr unsigned k_address_failures_factor = 8;

// "2001:db8:1:2:3:4:5:6" -> "2001:db8:1:2::"; other text as it is.
std::string peer_group(std::string_view peer);

class failure_counts {
public:
    // limit 0: nothing is counted and nothing is throttled.
    failure_counts(const omadm_store_t &store, std::string_view device_id,
                   std::string_view peer, unsigned limit, unsigned window,
                   time_t now);

    // Reads both counters; throttled() then says whether either is over.
    void load();
    bool throttled() const;

    // One more failure of the device from this address before the backend
    // is asked (so parallel attempts cannot all pass), undone by release();
    // false (nothing changed) when the store cannot keep it.
    bool reserve();
    void release();
    // The reserved guess was wrong: the address's count goes up too.
    bool failed();

    // One more failure on both, counted afresh; false when one could not
    // be kept.
    bool add();
    // A login: the device's count from this address starts over (the
    // address's stays: others behind the address may be guessing).
    void reset();

private:
    struct counter {
        std::string key;
        unsigned    limit = 0;
        std::optional<std::string> before;  // as load() read it
    };
    bool over(const counter &c) const;
    bool bump(const counter &c, const std::optional<std::string> &current);
    void restore(const counter &c);
    std::optional<std::string> read(const counter &c) const;

    const omadm_store_t &store_;
    unsigned window_;
    time_t   now_;
    counter  device_, address_;
};

}  // namespace omadm
