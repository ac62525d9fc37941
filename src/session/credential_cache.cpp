#include "session/credential_cache.hpp"

#include <openssl/crypto.h>

namespace omadm {

std::string credentials_key(std::string_view device_id)
{
    std::string k("c:");
    k.append(device_id);
    return k;
}

credential_cache::credential_cache(const omadm_store_t *store,
                                   const omadm_store_t *login_store)
{
    if (!store) return;
    store_.emplace(*store);
    login_store_.emplace(login_store ? *login_store : *store);
}

std::optional<auth_reply> credential_cache::get(std::string_view device_id) const
{
    if (!store_) return std::nullopt;
    std::optional<std::string> v = store_->get(credentials_key(device_id));
    if (!v) return std::nullopt;
    auth_reply r;
    std::string why;
    bool ok = parse_auth_reply(*v, r, why) && !r.credential_version.empty();
    OPENSSL_cleanse(v->data(), v->size());
    if (!ok) return std::nullopt;
    return r;
}

void credential_cache::keep(std::string_view device_id, const auth_reply &r) const
{
    if (store_) put(*store_, device_id, r);
}

void credential_cache::keep_after_login(std::string_view device_id,
                                        const auth_reply &r) const
{
    if (login_store_) put(*login_store_, device_id, r);
}

void credential_cache::put(const kv_store &to, std::string_view device_id,
                           const auth_reply &r) const
{
    std::string key = credentials_key(device_id);
    if (r.credential_version.empty()) {
        to.remove(key);
        return;
    }
    std::string v = to_json(r);
    if (!to.put(key, v, credential_cache_ttl)) to.remove(key);
    OPENSSL_cleanse(v.data(), v.size());
}

void credential_cache::forget(std::string_view device_id) const
{
    if (store_) store_->remove(credentials_key(device_id));
}

}  // namespace omadm
