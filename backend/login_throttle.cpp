#include "login_throttle.hpp"

#include <algorithm>

namespace omadm_backend {

LoginThrottle::LoginThrottle(size_t max_failures, std::chrono::seconds window,
                             size_t max_keys)
    : max_failures_(max_failures), window_(window), max_keys_(max_keys)
{}

long LoginThrottle::wait_seconds(const std::string &key)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(key);
    if (it == counts_.end() || it->second.failures < max_failures_) return 0;
    auto left = it->second.since + window_ - Clock::now();
    if (left <= Clock::duration::zero()) {
        counts_.erase(it);
        return 0;
    }
    return std::max<long>(
        1, static_cast<long>(
               std::chrono::ceil<std::chrono::seconds>(left).count()));
}

void LoginThrottle::failed(const std::string &key)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    auto it = counts_.find(key);
    if (it != counts_.end() && now - it->second.since >= window_) {
        counts_.erase(it);
        it = counts_.end();
    }
    if (it == counts_.end()) {
        make_room(now);
        it = counts_.emplace(key, Count{now, 0}).first;
    }
    it->second.failures++;
}

void LoginThrottle::succeeded(const std::string &key)
{
    std::lock_guard<std::mutex> lock(mu_);
    counts_.erase(key);
}

// Expired counts go first; if all are live, the one counting longest.
void LoginThrottle::make_room(Clock::time_point now)
{
    if (counts_.size() < max_keys_) return;
    for (auto it = counts_.begin(); it != counts_.end();) {
        it = now - it->second.since >= window_ ? counts_.erase(it) : ++it;
    }
    if (counts_.size() < max_keys_) return;
    auto oldest = std::min_element(
        counts_.begin(), counts_.end(), [](const auto &a, const auto &b) {
            return a.second.since < b.second.since;
        });
    counts_.erase(oldest);
}

}  // namespace omadm_backend
