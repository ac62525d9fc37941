// Copies of devices' credential records (the backend's `auth` answer) in
// the zone, so that a login, or a message of an HMAC session, needs no
// `auth` call (docs/backend-api.md, contract version 2).
//
// Why a copy can never let in what the backend would refuse: only a
// record that carries a credential_version is kept, every exchange
// verified against a record carries that version, and the backend refuses
// it (409 "credentials changed") atomically with the nonce's
// compare-and-swap when the credentials changed since; the authenticator
// then forgets the copy and asks `auth`.  A copy that does not verify a
// message decides nothing either: the message goes to `auth` as without a
// cache.  So the cache only ever saves calls.
//
// Best effort: a copy from a challenge or an `auth` call, which anyone can
// provoke for registered ids, takes free room only (cf.credential_store
// evicts nothing), so it never pushes a session out; the copy a
// successful login leaves (cf.login_credential_store) may evict like the
// login's own session, so that copies survive in a zone full of sessions.
// The values are secret (MD5 inner values): nothing here logs them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backend/contract.hpp"
#include "omadm.h"
#include "session/kv_store.hpp"

namespace omadm {

class credential_cache {
public:
    // store NULL: nothing is kept, get() finds nothing; login_store NULL:
    // store.
    credential_cache(const omadm_store_t *store,
                     const omadm_store_t *login_store);

    std::optional<auth_reply> get(std::string_view device_id) const;
    // A record without credential_version (an older backend) is not kept;
    // one the store has no room for leaves no older copy behind.
    void keep(std::string_view device_id, const auth_reply &r) const;
    // The same, for the record of a login that succeeded.
    void keep_after_login(std::string_view device_id, const auth_reply &r) const;
    void forget(std::string_view device_id) const;

private:
    void put(const kv_store &to, std::string_view device_id,
             const auth_reply &r) const;

    std::optional<kv_store> store_;
    std::optional<kv_store> login_store_;
};

// "c:<device>": a device's credential record.
std::string credentials_key(std::string_view device_id);

// How long a copy lives: a device's next session soon after this one
// saves its `auth`; a later one asks again.
constexpr unsigned credential_cache_ttl = 600;
// The previous nonces a copy keeps after a login replaced its nonce, as
// the reference backend does; a backend keeping more is asked when a
// device uses an older one (the copy does not verify it).
constexpr size_t kept_previous_nonces = 4;

}  // namespace omadm
