// The authentication parts of the exchange that go beyond a Cred element:
// syncml:auth-MAC (x-syncml-hmac, protocol digest §5.5) and the server
// authenticating itself to the device (§5.2 "server->client", §5.3).
//
// Decisions (the spec leaves them open or is terse):
// * HMAC session.  A device that sends x-syncml-hmac (where omadm_auth
//   accepts hmac) is verified with its stored nonce like an MD5 Cred
//   (stale nonces, throttle, 401 + fresh Chal).  Success answers 212 with a
//   Chal of Type syncml:auth-MAC carrying a fresh NextNonce, stored by the
//   backend with that exchange (next_nonce).  212, not 200: the device is
//   authenticated for the session, yet every later message of the session
//   must still carry a MAC, because the MAC is integrity, not a login.
// * A new nonce with every answer: each answer of an HMAC session carries a
//   Chal with the NextNonce the device's next message must be signed with
//   (the latest nonce the device received, as §5.3 says a client uses),
//   stored by the backend with that message's exchange, which the session
//   makes anyway.  With one nonce per session a captured message would
//   verify again: replayed inside the session, or as the login of a new
//   one.  A device that lost an answer resends its message with the nonce
//   it has; the module resends its kept answer, or the backend recognises
//   the repeated exchange.
// * A message of an HMAC session whose MAC is missing or wrong is refused
//   like a wrong Cred: 401 + Chal syncml:auth-MAC with a fresh nonce,
//   counted by omadm_auth_failures; the session is no longer authenticated,
//   so the device must authenticate again (with the new nonce).
// * Our responses to a device that used HMAC carry x-syncml-hmac made with
//   the server's credentials (from the backend's auth answer) and the
//   nonce the device issued to the server; without server credentials the
//   response is not signed (there is no secret to sign with).
// * Server Cred (omadm_server_auth md5|basic): in the SyncHdr of every
//   authenticated response until the device answers 212 on our SyncHdr.
//   MD5 uses the nonce the device issued in its latest Chal (kept in the
//   session, and stored by the backend as server_next_nonce for the next
//   session); a device 401/407 on our SyncHdr means it executed nothing
//   of our last message: those commands go back to queued (requeue) and
//   the backend hands them out again with a fresh Cred, once; a second
//   refusal ends the session with them queued.
#include <algorithm>
#include <set>

#include "auth/base64.hpp"
#include "auth/hmac_auth.hpp"
#include "auth/md5_auth.hpp"
#include "common/text.hpp"
#include "session/exchange.hpp"

namespace omadm {

int exchange::set_hmac(std::string_view value)
{
    if (state_ != state::fresh) return OMADM_EINVAL;
    has_hmac_ = true;
    hmac_header h;
    hmac_ok_ = parse_hmac_header(value, h, hmac_why_);
    if (hmac_ok_) {
        hmac_user_ = std::move(h.username);
        hmac_mac_ = std::move(h.mac);
    }
    return OMADM_OK;
}

unsigned exchange::challenge_scheme() const
{
    // A device is challenged in the scheme it tried (auth_scheme_ is set
    // only for one the location accepts); omadm_challenge is for a device
    // that tried none.
    if (auth_scheme_ == "hmac") return OMADM_AUTH_HMAC;
    if (auth_scheme_ == "md5") return OMADM_AUTH_MD5;
    if (auth_scheme_ == "basic") return OMADM_AUTH_BASIC;
    return cf_.auth_challenge;
}

void exchange::start_hmac()
{
    auth_scheme_ = "hmac";
    mac_used_ = true;
    if (!hmac_ok_) {
        auth_failed("bad x-syncml-hmac header");
        error_ += ": " + hmac_why_;
        return;
    }
    presented_user_ = hmac_user_;
    // The header names the sender, as Source/LocName does (§1).
    if (!msg_.hdr.source_name.empty() && msg_.hdr.source_name != hmac_user_) {
        auth_failed("x-syncml-hmac username differs from LocName");
        return;
    }
    if (!reserve_attempt()) return;
    ask(op::auth, "auth", auth_request(device_id_, presented_user_));
}

bool exchange::hmac_matches(const std::string &inner,
                            const std::string &nonce_b64) const
{
    std::string nonce;
    return base64_decode(nonce_b64, nonce)
           && hmac_verify(inner, nonce, raw_body_, hmac_mac_);
}

void exchange::verify_presented(const auth_reply &r, bool &ok, bool &stale)
{
    stale = false;
    if (auth_scheme_ == "basic") {
        ok = secure_equal(trim(r.inner), presented_secret_);
        return;
    }
    bool mac = auth_scheme_ == "hmac";
    auto matches = [&](const std::string &nonce) {
        return mac ? hmac_matches(r.inner, nonce)
                   : digest_matches(r.inner, nonce);
    };
    // A nonce never issued proves nothing: a digest over the empty nonce
    // (a client's first message, before it has one) is only stale.
    ok = !r.nonce.empty() && matches(r.nonce);
    for (size_t i = 0; !ok && !stale && i < r.previous_nonces.size(); i++) {
        stale = !r.previous_nonces[i].empty() && matches(r.previous_nonces[i]);
    }
    if (!ok && !stale) stale = matches("");
    used_nonce_ = r.nonce;
}

// The device's Status on our last SyncHdr: 212 accepts our Cred for the
// session, 401/407 refuses our whole message; a Chal gives the nonce for
// our next Cred, taken (and stored by the backend) only once the message
// is authenticated: apply_server_status().
void exchange::read_server_status()
{
    if (server_status_read_) return;
    server_status_read_ = true;
    for (const auto &c : msg_.body) {
        if (c.name != "Status" || trim(c.cmd_ref) != "0") continue;
        if (!parse_code(c.data, device_hdr_code_)) device_hdr_code_ = 0;
        if (c.has_chal && !trim(c.chal.next_nonce).empty()) {
            device_chal_nonce_.assign(trim(c.chal.next_nonce));
        }
        if (device_hdr_code_ == 212 && st_.server_cred_sent)
            st_.server_authenticated = true;
        break;
    }
}

bool exchange::session_needs_auth()
{
    read_server_status();
    if (st_.scheme == "hmac") return true;
    // the server's Cred needs its secret from the backend
    return cf_.server_auth != 0 && !st_.server_authenticated;
}

void exchange::ask_session_auth()
{
    mid_session_auth_ = true;
    std::string user = st_.username;
    if (st_.scheme == "hmac") {
        auth_scheme_ = "hmac";
        mac_used_ = true;
        if (!has_hmac_ || !hmac_ok_) {
            st_.authenticated = false;
            st_.scheme.clear();
            auth_failed(has_hmac_ ? "bad x-syncml-hmac header"
                                  : "x-syncml-hmac missing in an HMAC session");
            return;
        }
        user = hmac_user_;
    }
    ask(op::auth, "auth", auth_request(device_id_, user));
}

void exchange::on_session_auth(const auth_reply &r)
{
    if (st_.scheme == "hmac") {
        bool ok = r.username == hmac_user_ && !st_.mac_nonce.empty()
                  && hmac_matches(r.inner, st_.mac_nonce);
        if (!ok) {
            st_.authenticated = false;
            st_.scheme.clear();
            throttle_ = throttle_change::increment;  // a MAC was checked
            auth_failed("invalid x-syncml-hmac");
            return;
        }
        // Every answer carries the nonce the next message must be signed
        // with, stored by the backend (compare-and-swap on this one) before
        // the device sees it: a captured message can then be replayed
        // neither within the session nor as the login of a new one.
        used_nonce_ = st_.mac_nonce;
        next_nonce_ = base64_encode(random_nonce());
    }
    ask_exchange(false);
}

void exchange::take_server_credentials(const auth_reply &r)
{
    read_server_status();
    server_user_ = r.server_username.empty()
                       ? std::string(cf_.server_id, cf_.server_id_len)
                       : r.server_username;
    server_inner_ = r.server_inner;
    server_basic_ = r.server_basic;
    if (st_.server_nonce.empty()) st_.server_nonce = r.server_nonce;
}

void exchange::apply_server_status(exchange_request &r)
{
    read_server_status();
    // Only an authenticated message may set the nonce we sign with.
    if (!device_chal_nonce_.empty()) st_.server_nonce = device_chal_nonce_;
    r.server_next_nonce = device_chal_nonce_;
    if (!st_.server_cred_sent
        || (device_hdr_code_ != 401 && device_hdr_code_ != 407)) {
        return;
    }
    // The device refused our last message whole and executed none of it:
    // its Statuses for those commands are not outcomes.
    std::string prefix = std::to_string(st_.server_msg_id) + ":";
    std::set<std::string> ids;
    for (const auto &[key, id] : st_.outstanding) {
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        ids.insert(id);
        answered_.insert(key);
    }
    // ... a chunk of a large object among them: the object starts over
    const std::string &chunk = st_.outgoing.chunk_key;
    if (chunk.compare(0, prefix.size(), prefix) == 0) {
        ids.insert(st_.outgoing.command_id);
        if (st_.sending) end_sending();
    }
    auto refused = [&](const auto &x) { return ids.count(x.command_id) > 0; };
    r.statuses.erase(
        std::remove_if(r.statuses.begin(), r.statuses.end(), refused),
        r.statuses.end());
    r.results.erase(std::remove_if(r.results.begin(), r.results.end(), refused),
                    r.results.end());
    r.failed.erase(std::remove_if(r.failed.begin(), r.failed.end(), refused),
                   r.failed.end());
    r.requeue.assign(ids.begin(), ids.end());
    if (st_.server_resends >= 1) {
        // Refused again: end the session, the commands stay queued.
        r.max_commands = 0;
        error_ = "device refused the server's credentials again";
        return;
    }
    st_.server_resends++;
    error_ = "device refused the server's credentials: sending them again";
}

void exchange::on_authenticated()
{
    st_.username = presented_user_;
    if (auth_scheme_ == "hmac") {
        st_.scheme = "hmac";
        st_.mac_nonce = next_nonce_;
    } else {
        st_.scheme.clear();
        st_.mac_nonce.clear();
    }
}

void exchange::add_server_cred(message &m)
{
    st_.server_cred_sent = false;
    if (cf_.server_auth == 0 || st_.server_authenticated) return;
    cred c;
    c.meta.format = "b64";
    if (cf_.server_auth == OMADM_AUTH_BASIC) {
        if (server_basic_.empty()) return;
        c.meta.type = "syncml:auth-basic";
        c.data = server_basic_;
    } else {
        if (server_inner_.empty()) return;
        std::string nonce;
        if (!base64_decode(st_.server_nonce, nonce)) nonce.clear();
        c.meta.type = "syncml:auth-md5";
        c.data = md5_digest(server_inner_, nonce);
    }
    m.hdr.has_cred = true;
    m.hdr.cred = std::move(c);
    m.hdr.source_name = server_user_;
    st_.server_cred_sent = true;
}

void exchange::sign_response(const std::string &body)
{
    response_hmac_.clear();
    if (!mac_used_ || server_inner_.empty()) return;
    std::string nonce;
    if (!base64_decode(st_.server_nonce, nonce)) nonce.clear();
    response_hmac_
        = hmac_header_value(server_user_, hmac_mac(server_inner_, nonce, body));
}

}  // namespace omadm
