#include "failure_counts.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "exchange.hpp"     // store_get
#include "session_state.hpp"

namespace omadm {

std::string peer_group(std::string_view peer)
{
    unsigned char a[16];
    std::string   text(peer);
    if (inet_pton(AF_INET6, text.c_str(), a) != 1) return text;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v4_mapped, v4_mapped + 12, a)) return text;
    for (int i = 8; i < 16; i++) a[i] = 0;
    char out[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, a, out, sizeof(out)) ? out : text;
}

failure_counts::failure_counts(const omadm_store_t &store,
                               std::string_view device_id,
                               std::string_view peer, unsigned limit,
                               unsigned window, time_t now)
    : store_(store), window_(window), now_(now)
{
    std::string group = peer_group(peer);
    device_.key = failures_key(device_id, group);
    device_.limit = limit;
    address_.key = failures_key("", group);
    address_.limit = limit * k_address_failures_factor;
}

std::optional<std::string> failure_counts::read(const counter &c) const
{
    std::string blob;
    if (c.limit == 0 || !store_get(store_, c.key, blob)) return {};
    return blob;
}

void failure_counts::load()
{
    device_.before = read(device_);
    address_.before = read(address_);
}

bool failure_counts::over(const counter &c) const
{
    auth_failures f;
    return c.limit > 0 && c.before && deserialize(*c.before, f)
           && f.count >= c.limit
           && now_ - f.window_start < (long long) window_;
}

bool failure_counts::throttled() const
{
    return over(device_) || over(address_);
}

// One more failure on top of `current` (the stored counter, if any).
bool failure_counts::bump(const counter &c,
                          const std::optional<std::string> &current)
{
    if (c.limit == 0) return true;
    auth_failures f;
    if (!current || !deserialize(*current, f)
        || now_ - f.window_start >= (long long) window_) {
        f = auth_failures{0, (long long) now_};
    }
    f.count++;
    long long   left = f.window_start + window_ - now_;
    std::string blob = serialize(f);
    return store_.put(store_.ctx, c.key.data(), c.key.size(), blob.data(),
                      blob.size(), left > 0 ? (unsigned) left : 1)
           == OMADM_OK;
}

void failure_counts::restore(const counter &c)
{
    if (c.limit == 0) return;
    if (c.before) {
        store_.put(store_.ctx, c.key.data(), c.key.size(), c.before->data(),
                   c.before->size(), window_);
    } else {
        store_.remove(store_.ctx, c.key.data(), c.key.size());
    }
}

// The device's count from this address is reserved before the backend is
// asked and given back when nothing was learnt.  The address's count over
// all devices is shared by everyone behind the address: it only ever goes
// up, by the guesses that failed, since setting it back would undo what
// others counted meanwhile (the store has no atomic update).
bool failure_counts::reserve()
{
    return bump(device_, device_.before);
}

void failure_counts::release()
{
    restore(device_);
}

bool failure_counts::failed()
{
    return bump(address_, read(address_));
}

bool failure_counts::add()
{
    bool kept = bump(device_, read(device_));
    return failed() && kept;
}

void failure_counts::reset()
{
    if (device_.limit == 0) return;
    store_.remove(store_.ctx, device_.key.data(), device_.key.size());
}

}  // namespace omadm
