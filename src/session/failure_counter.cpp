#include "session/failure_counter.hpp"

namespace omadm {

failure_counter::failure_counter(const exchange_context &ctx,
                                 const omadm_store_t &store)
    : ctx_(ctx), store_(store)
{
}

std::string failure_counter::key() const
{
    return failures_key(ctx_.device_id(), peer_);
}

bool failure_counter::throttled()
{
    const omadm_config_t &cf = ctx_.cf;
    if (cf.max_auth_failures > 0) before_ = store_.get(key());
    auth_failures f;
    return before_ && deserialize(*before_, f)
           && f.count >= cf.max_auth_failures
           && ctx_.now - f.window_start < (long long) cf.auth_failure_window;
}

bool failure_counter::reserve()
{
    if (ctx_.cf.max_auth_failures == 0) return true;
    if (!count_failure(before_)) return false;
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

// One more failure on top of `current` (the stored count, if any).
bool failure_counter::count_failure(const std::optional<std::string> &current)
{
    const omadm_config_t &cf = ctx_.cf;
    auth_failures f;
    if (!current || !deserialize(*current, f)
        || ctx_.now - f.window_start >= (long long) cf.auth_failure_window) {
        f = auth_failures{0, (long long) ctx_.now};
    }
    f.count++;
    long long left = f.window_start + cf.auth_failure_window - ctx_.now;
    return store_.put(key(), serialize(f), left > 0 ? (unsigned) left : 1);
}

bool failure_counter::commit()
{
    if (change_ == change::failure && ctx_.cf.max_auth_failures) {
        return count_failure(store_.get(key()));  // fresh: a call passed
    }
    if (change_ == change::reset) store_.remove(key());
    return true;
}

}  // namespace omadm
