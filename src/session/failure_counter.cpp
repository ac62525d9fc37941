#include "session/failure_counter.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace omadm {

std::string peer_group(std::string_view peer)
{
    unsigned char a[16];
    std::string text(peer);
    if (inet_pton(AF_INET6, text.c_str(), a) != 1) return text;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0,    0,
                                                0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v4_mapped, v4_mapped + 12, a)) return text;
    std::fill(a + 8, a + 16, 0);
    char out[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, a, out, sizeof(out)) ? out : text;
}

failure_counter::failure_counter(const exchange_context &ctx,
                                 const omadm_store_t &store)
    : ctx_(ctx), store_(store)
{
}

failure_counter::~failure_counter()
{
    try {
        release();
    } catch (...) {
        // out of memory building a key: the count stays one too high
    }
}

std::string failure_counter::key() const
{
    return failures_key(ctx_.device_id(), peer_group(peer_));
}

std::string failure_counter::address_key() const
{
    return failures_key("", peer_group(peer_));
}

bool failure_counter::over(const std::optional<std::string> &count,
                           unsigned limit) const
{
    auth_failures f;
    return count && deserialize(*count, f) && f.count >= limit
           && ctx_.now - f.window_start
                  < (long long) ctx_.cf.auth_failure_window;
}

bool failure_counter::throttled()
{
    unsigned limit = ctx_.cf.max_auth_failures;
    if (limit == 0) return false;
    before_ = store_.get(key());
    return over(before_, limit)
           || over(store_.get(address_key()),
                   limit * k_address_failures_factor);
}

bool failure_counter::reserve()
{
    if (ctx_.cf.max_auth_failures == 0) return true;
    if (!count_failure(key(), before_)) return false;
    reserved_ = true;
    return true;
}

void failure_counter::release()
{
    if (!reserved_) return;
    if (before_) {
        store_.put(key(), *before_, ctx_.cf.auth_failure_window);
    } else {
        store_.remove(key());
    }
    reserved_ = false;
}

void failure_counter::guessed_wrong()
{
    if (!reserved_) return;
    reserved_ = false;
    std::string k = address_key();
    count_failure(k, store_.get(k));
}

// One more failure on top of `current` (the stored count, if any).
bool failure_counter::count_failure(const std::string &key,
                                    const std::optional<std::string> &current)
{
    const omadm_config_t &cf = ctx_.cf;
    auth_failures f;
    if (!current || !deserialize(*current, f)
        || ctx_.now - f.window_start >= (long long) cf.auth_failure_window) {
        f = auth_failures{0, (long long) ctx_.now};
    }
    f.count++;
    long long left = f.window_start + cf.auth_failure_window - ctx_.now;
    return store_.put(key, serialize(f), left > 0 ? (unsigned) left : 1);
}

bool failure_counter::commit()
{
    if (change_ == change::failure && ctx_.cf.max_auth_failures) {
        // afresh: a backend call passed
        std::string k = address_key();
        bool kept = count_failure(k, store_.get(k));
        return count_failure(key(), store_.get(key())) && kept;
    }
    if (change_ == change::reset) store_.remove(key());
    return true;
}

}  // namespace omadm
