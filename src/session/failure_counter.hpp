// omadm_auth_failures: the failed authentications of one device from one
// client address, and of one address over all devices (so that one address
// cannot spread counters over a fleet), counted in a store whose entries
// session churn cannot evict (cf.counter_store).  IPv6 addresses count by
// /64, the block one subscriber holds.
//
// A login's attempt is counted as failed before the backend is asked
// (reserve), so that parallel attempts cannot all pass the check during
// the round trip; a success resets the count, an attempt that turns out
// not to be a guess (the backend failed, the device is unknown, the nonce
// was stale) puts it back (release).  An attempt that cannot be counted is
// not evaluated: the caller answers 503, so a full store never opens the
// door to unlimited guesses.  The address's count over all devices is
// shared by everyone behind the address: it only ever goes up, by guesses
// that failed, since setting it back would undo what others counted
// meanwhile (the store has no atomic update).
#pragma once

#include <optional>
#include <string>

#include "session/context.hpp"
#include "session/kv_store.hpp"

namespace omadm {

// An address over all devices is throttled past this many times the
// per-device limit (a NAT of honest devices stays well below it).
constexpr unsigned k_address_failures_factor = 8;

// "2001:db8:1:2:3:4:5:6" -> "2001:db8:1:2::"; other text as it is.
std::string peer_group(std::string_view peer);

class failure_counter {
public:
    failure_counter(const exchange_context &ctx, const omadm_store_t &store);
    failure_counter(failure_counter &&) = default;
    // A message given up before its answer (the client went away, nginx
    // reloaded) gives back the attempt it reserved: nothing was learnt.
    ~failure_counter();

    void set_peer(std::string_view addr) { peer_.assign(addr); }

    // Reads the count (once, before a login is evaluated); true when the
    // sender has used up its guesses for the window.
    bool throttled();

    // The attempt counted as failed in advance; false when the store
    // could not keep the count.
    bool reserve();
    // Puts the count back as it was read, if an attempt was reserved.
    void release();
    // The reserved attempt was a wrong guess: it stays counted, and the
    // address's count goes up too.
    void guessed_wrong();

    // What the answer does to the count (commit()): a MAC checked within
    // a session and found wrong adds a failure; a session that starts
    // resets the count.
    void fail_on_commit() { change_ = change::failure; }
    void reset_on_commit() { change_ = change::reset; }
    // False when a failure could not be counted.
    bool commit();

private:
    enum class change { none, failure, reset };

    std::string key() const;
    std::string address_key() const;
    bool over(const std::optional<std::string> &count, unsigned limit) const;
    bool count_failure(const std::string &key,
                       const std::optional<std::string> &current);

    const exchange_context &ctx_;
    kv_store store_;
    std::string peer_;
    std::optional<std::string> before_;  // the count as first read
    bool reserved_ = false;
    change change_ = change::none;
};

}  // namespace omadm
