// Failed sign-ins of the enrollment services, counted per user and client
// address: after `max_failures` within `window` that pair is refused
// without a password check until the window has passed.  An outsider who
// guesses a user's password throttles its own address, not the user's.
// Kept in memory (a restart forgets the counts) for at most `max_keys`
// pairs; when that many are counted the oldest gives way.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace omadm_backend {

class LoginThrottle {
public:
    using Clock = std::chrono::steady_clock;

    LoginThrottle(size_t max_failures, std::chrono::seconds window,
                  size_t max_keys);

    // Seconds until `key` may try again; 0 when it may now.
    long wait_seconds(const std::string &key);
    void failed(const std::string &key);
    void succeeded(const std::string &key);

private:
    struct Count {
        Clock::time_point since;
        size_t failures = 0;
    };
    void make_room(Clock::time_point now);

    const size_t max_failures_;
    const std::chrono::seconds window_;
    const size_t max_keys_;
    std::mutex mu_;
    std::unordered_map<std::string, Count> counts_;
};

}  // namespace omadm_backend
