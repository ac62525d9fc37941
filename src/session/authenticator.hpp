// Who sent a device message: Basic and MD5 Creds, syncml:auth-MAC (the
// x-syncml-hmac header, protocol digest §5.5), the failure throttle and the
// server's own credentials.  Each step returns an auth_outcome, a value the
// exchange acts on; nothing is left in flags for it to test later.
//
// Decisions (the spec leaves them open or is terse):
// * A login is verified with the device's nonce as the backend holds it.
//   A digest right for one of the nonces it held before, or for the empty
//   nonce, is stale: 401 with the current nonce, not counted.  A nonce
//   never issued proves nothing.
// * HMAC session.  A device that sends x-syncml-hmac (where omadm_auth
//   accepts hmac) logs in as with an MD5 Cred; success answers 212 with a
//   Chal of Type syncml:auth-MAC carrying a fresh NextNonce, stored by the
//   backend with that exchange.  Every later message of the session must
//   carry a MAC over that nonce (the MAC is integrity, not a login), and
//   every answer carries the next one: a captured message verifies neither
//   again within the session nor as the login of a new one.
// * A message of an HMAC session whose MAC is missing or wrong is refused
//   like a wrong Cred: 401 + a syncml:auth-MAC Chal, counted by
//   omadm_auth_failures; the session is no longer authenticated.
// * The challenge follows the scheme the device tried (omadm_challenge is
//   for a device that tried none); a throttled sender's carries no nonce.
#pragma once

#include <optional>
#include <string>

#include "auth/nonce.hpp"
#include "auth/scheme.hpp"
#include "auth/verdict.hpp"
#include "session/context.hpp"
#include "session/credential_cache.hpp"
#include "session/failure_counter.hpp"
#include "session/server_credentials.hpp"

namespace omadm {

// The Chal of a 401 or 407.
struct challenge {
    int code = 0;  // 401 | 407
    auth_scheme scheme = auth_scheme::md5;
    nonce next;  // none for Basic, or for a throttled sender
};

struct auth_outcome {
    enum class step {
        ask_nonce,    // call the backend's "nonce" with body; on_nonce()
        ask_auth,     // call "auth" with body; on_auth()
        challenge,    // answer 401/407 with chal
        admitted,     // on to the exchange
        unavailable,  // 503, nothing acknowledged
        device_gone,  // the backend forgot the device during its session
    };
    explicit auth_outcome(step s) : what(s) {}

    step what;
    verdict v = verdict::none;  // $omadm_auth, when this step decides it
    std::string reason;         // $omadm_error, when there is one
    std::string body;           // ask_*
    omadm::challenge chal;      // challenge
};

class authenticator {
public:
    // body: the exact bytes the message came as (a MAC covers them).
    authenticator(exchange_context &ctx, const omadm_store_t &counters,
                  std::string_view body);

    // The request's x-syncml-hmac header (one call at most).
    void set_hmac(std::string_view value);
    void set_peer(std::string_view addr) { counter_.set_peer(addr); }

    // A message without a live session of its own.
    auth_outcome login();
    // A message of an authenticated session (ctx.st): its MAC, or the
    // server's secrets, may need the backend.
    auth_outcome in_session();
    // The backend's answers.
    auth_outcome on_nonce(int status, const std::string &body);
    auth_outcome on_auth(int status, const std::string &body);
    // The backend refused a login's exchange with 409: another message
    // used the nonce first (a retry racing, or a replay).
    auth_outcome nonce_taken();
    // The backend refused the exchange with 409 "credentials changed": the
    // record this message was verified against is out of date.  Forgets
    // it and asks `auth`, to verify the message again.
    auth_outcome credentials_changed();
    // The exchange answered 200: the copy of the record takes the nonces
    // it stored (and the server nonce the device issued, if any).
    void exchanged(const std::string &server_next_nonce);
    // The exchange said the device is gone.
    void forget_credentials() { creds_.forget(ctx_.device_id()); }
    // Whether this message was verified against a kept copy, not an
    // answer of `auth` in this message.
    bool verified_from_copy() const { return record_ && from_copy_; }
    // What an exchange verified by this message carries ("" for none).
    const std::string &credential_version() const;
    // The exchange gave up (503): an attempt counted is not a guess.
    void abandon() { counter_.release(); }

    // The answer of an admitted message: a session that starts here takes
    // the device's name and scheme, and the nonces the answer hands out.
    void admit(session_state &st, bool session_start);
    // The Chal of an authenticated answer (type and the nonce for the
    // device's next session, or its next message), if it has one.
    bool answer_chal(meta &chal) const;
    // The nonces an exchange request carries (used_nonce, next_nonce).
    bool hands_out_nonce() const { return !next_.empty(); }
    const nonce &used_nonce() const { return used_; }
    const nonce &next_nonce() const { return next_; }

    // What a MAC-signed message's print is made of: its bytes and MAC
    // ("" for a message without x-syncml-hmac).
    std::string signed_print() const;
    // The x-syncml-hmac of an answer to a device that used a MAC.
    std::string sign(std::string_view body) const;

    // The scheme of the credentials the message tried (none: it had none).
    auth_scheme tried_scheme() const { return scheme_; }

    server_credentials &server() { return server_; }
    // After the answer, the failure count's change; false when a failure
    // could not be counted.
    bool commit() { return counter_.commit(); }

private:
    enum class mode { login, session };
    struct presented_mac {  // the x-syncml-hmac header
        bool present = false, parsed = false;
        std::string user, mac, why;
    };

    enum class login_check { ok, stale, wrong };

    auth_outcome start_hmac();
    // The record kept for the device if it verifies this message, else
    // the backend's (`auth`).
    auth_outcome ask_credentials(const std::string &user);
    auth_outcome ask_auth(const std::string &user);
    login_check check_login(const auth_reply &r, nonce &used) const;
    bool session_mac_ok(const auth_reply &r) const;
    auth_outcome failed(std::string reason);
    auth_outcome stale(std::string reason);
    auth_outcome challenge_with(int code, verdict v, std::string reason);
    auth_outcome unavailable(std::string reason);
    auth_outcome session_verified(const auth_reply &r);
    auth_outcome login_verified(const auth_reply &r);
    bool proves(const std::string &inner, const nonce &n) const;
    auth_scheme challenge_scheme() const;

    exchange_context &ctx_;
    failure_counter counter_;
    server_credentials server_;
    mode mode_ = mode::login;
    std::string body_;  // kept only where HMAC is accepted
    presented_mac mac_;
    auth_scheme scheme_ = auth_scheme::none;  // the one the device tried
    std::string user_;    // the name presented, then the registered one
    std::string secret_;  // md5: Cred/Data; basic: md5_inner
    omadm::challenge chal_;
    nonce used_, next_;  // the nonce this message used, the next one
    credential_cache creds_;
    std::optional<auth_reply> record_;  // what this message verified with
    std::string asked_for_;  // the user name `auth` is asked with
    bool from_copy_ = false;  // record_ came from creds_
    unsigned rechecks_ = 0;  // credentials_changed() in this message
};

}  // namespace omadm
