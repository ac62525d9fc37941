#include "session/authenticator.hpp"

#include <openssl/crypto.h>

#include "auth/hmac_auth.hpp"
#include "auth/md5_auth.hpp"
#include "backend/contract.hpp"
#include "common/text.hpp"

namespace omadm {

authenticator::authenticator(exchange_context &ctx,
                             const omadm_store_t &counters,
                             std::string_view body)
    : ctx_(ctx), counter_(ctx, counters), server_(ctx),
      creds_(ctx.cf.credential_store, ctx.cf.login_credential_store)
{
    // the MAC covers the exact bytes received
    if (accepts(ctx.cf.auth_accept, auth_scheme::hmac)) body_.assign(body);
}

void authenticator::set_hmac(std::string_view value)
{
    mac_.present = true;
    hmac_header h;
    mac_.parsed = parse_hmac_header(value, h, mac_.why);
    if (mac_.parsed) {
        mac_.user = std::move(h.username);
        mac_.mac = std::move(h.mac);
    }
}

// ---- a login ---------------------------------------------------------------

auth_outcome authenticator::login()
{
    const omadm_config_t &cf = ctx_.cf;
    if (counter_.throttled()) {
        // No NextNonce: the device's stored nonce stays the valid one.
        auth_outcome o{auth_outcome::step::challenge};
        o.v = verdict::throttled;
        o.reason = "too many failed authentications";
        o.chal.code = 401;
        o.chal.scheme = challenge_scheme();
        return o;
    }
    if (mac_.present && accepts(cf.auth_accept, auth_scheme::hmac))
        return start_hmac();
    if (!ctx_.msg.hdr.has_cred)
        return challenge_with(407, verdict::missing, "credentials missing");

    const cred &c = ctx_.msg.hdr.cred;
    std::string_view format = trim(c.meta.format);
    if (!format.empty() && format != "b64")
        return failed("credential format not b64");
    // SyncML's default credential type is basic.
    auth_scheme tried = scheme_of_cred_type(c.meta.type);
    if (tried == auth_scheme::md5 && accepts(cf.auth_accept, tried)) {
        scheme_ = tried;
        user_ = ctx_.msg.hdr.source_name;
        secret_.assign(trim(c.data));
        if (secret_.empty()) return failed("empty md5 credential");
    } else if (tried == auth_scheme::basic && accepts(cf.auth_accept, tried)) {
        std::string user, pass;
        if (!parse_basic_credential(c.data, user, pass))
            return failed("malformed basic credential");
        scheme_ = tried;
        user_ = std::move(user);
        secret_ = md5_inner(user_, pass);
        OPENSSL_cleanse(pass.data(), pass.size());
    } else {
        return failed("credential type not accepted");
    }
    if (!counter_.reserve()) {
        return unavailable("session store full: failed authentications "
                           "cannot be counted");
    }
    return ask_credentials(user_);
}

auth_outcome authenticator::start_hmac()
{
    scheme_ = auth_scheme::hmac;
    if (!mac_.parsed) return failed("bad x-syncml-hmac header: " + mac_.why);
    user_ = mac_.user;
    // The header names the sender, as Source/LocName does (§1).
    const std::string &loc_name = ctx_.msg.hdr.source_name;
    if (!loc_name.empty() && loc_name != mac_.user)
        return failed("x-syncml-hmac username differs from LocName");
    if (!counter_.reserve()) {
        return unavailable("session store full: failed authentications "
                           "cannot be counted");
    }
    return ask_credentials(user_);
}

// Pure: whether r proves the message's credentials (used: the nonce
// they were made with).
authenticator::login_check authenticator::check_login(const auth_reply &r,
                                                      nonce &used) const
{
    bool ok = false, old = false;
    used = nonce();
    if (scheme_ == auth_scheme::basic) {
        ok = secure_equal(trim(r.inner), secret_);
    } else {
        // A nonce never issued proves nothing: a digest over the empty
        // nonce (a client's first message, before it has one) is stale.
        used = nonce::from_b64(r.nonce);
        ok = !used.empty() && proves(r.inner, used);
        for (size_t i = 0; !ok && !old && i < r.previous_nonces.size(); i++) {
            const std::string &prev = r.previous_nonces[i];
            old = !prev.empty() && proves(r.inner, nonce::from_b64(prev));
        }
        if (!ok && !old) old = proves(r.inner, nonce());
    }
    // Without LocName (most clients send none) the device named by
    // Source/LocURI is who logs in, under the name the backend holds; a
    // name given must be that one.
    if (!user_.empty() && r.username != user_) ok = old = false;
    if (ok) return login_check::ok;
    used = nonce();
    return old ? login_check::stale : login_check::wrong;
}

auth_outcome authenticator::login_verified(const auth_reply &r)
{
    login_check c = check_login(r, used_);
    user_ = r.username;
    if (c == login_check::stale) {
        // The device knows the password but missed the nonce that replaced
        // this one (an answer lost in transit): a new challenge, not a
        // failure, or a flaky network would lock honest devices out.
        return stale("stale nonce");
    }
    if (c == login_check::wrong) {
        // The guess was evaluated: it stays counted, whatever becomes of
        // the challenge that answers it (a failing nonce call included).
        counter_.guessed_wrong();
        return failed("invalid credentials");
    }
    if (ctx_.cf.auth_accept & (OMADM_AUTH_MD5 | OMADM_AUTH_HMAC))
        next_ = nonce::fresh();
    return auth_outcome{auth_outcome::step::admitted};
}

bool authenticator::proves(const std::string &inner, const nonce &n) const
{
    return scheme_ == auth_scheme::hmac ? n.mac_proves(inner, body_, mac_.mac)
                                        : n.md5_proves(inner, secret_);
}

auth_outcome authenticator::nonce_taken()
{
    // The digest was right for a nonce the device was issued, so this
    // proves the password: stale.
    return stale("nonce already used");
}

// ---- a message of a live session -------------------------------------------

auth_outcome authenticator::in_session()
{
    mode_ = mode::session;
    session_state &st = ctx_.st;
    if (st.scheme != auth_scheme::hmac && !server_.needed(st)) {
        auth_outcome o{auth_outcome::step::admitted};
        o.v = verdict::session;
        return o;
    }
    std::string user = st.username;
    if (st.scheme == auth_scheme::hmac) {
        scheme_ = auth_scheme::hmac;
        if (!mac_.present || !mac_.parsed) {
            st.authenticated = false;
            st.scheme = auth_scheme::none;
            return failed(mac_.present
                              ? "bad x-syncml-hmac header"
                              : "x-syncml-hmac missing in an HMAC session");
        }
        user = mac_.user;
    }
    auth_outcome o = ask_credentials(user);
    o.v = verdict::session;
    return o;
}

bool authenticator::session_mac_ok(const auth_reply &r) const
{
    const session_state &st = ctx_.st;
    return r.username == mac_.user && !st.mac_nonce.empty()
           && st.mac_nonce.mac_proves(r.inner, body_, mac_.mac);
}

auth_outcome authenticator::session_verified(const auth_reply &r)
{
    session_state &st = ctx_.st;
    if (st.scheme == auth_scheme::hmac) {
        if (!session_mac_ok(r)) {
            st.authenticated = false;
            st.scheme = auth_scheme::none;
            counter_.fail_on_commit();  // a MAC was checked
            return failed("invalid x-syncml-hmac");
        }
        // Every answer carries the nonce the next message must be signed
        // with, stored by the backend (compare-and-swap on this one) before
        // the device sees it.
        used_ = st.mac_nonce;
        next_ = nonce::fresh();
    }
    return auth_outcome{auth_outcome::step::admitted};
}

// ---- the backend's answers -------------------------------------------------

auth_outcome authenticator::on_auth(int status, const std::string &body)
{
    if (status == 404) {
        creds_.forget(ctx_.device_id());
        if (mode_ == mode::session)  // deleted during its session
            return auth_outcome{auth_outcome::step::device_gone};
        // Nothing is kept for a device the backend does not know.
        counter_.release();
        return failed("unknown device");
    }
    if (status != 200) return unavailable(backend_reason("auth", status));
    auth_reply r;
    std::string why;
    if (!parse_auth_reply(body, r, why)) return unavailable(why);
    server_.take(r, ctx_.st);
    creds_.keep(ctx_.device_id(), r);
    record_ = r;
    from_copy_ = false;
    return mode_ == mode::session ? session_verified(*record_)
                                  : login_verified(*record_);
}

auth_outcome authenticator::on_nonce(int status, const std::string &body)
{
    auth_outcome o{auth_outcome::step::challenge};
    // 404: unknown device; it still gets its challenge, which will fail.
    if (status == 200) {
        std::string held, why;
        auth_reply record;
        bool has_record;
        if (!parse_nonce_reply(body, held, record, has_record, why))
            return unavailable(why);
        if (!held.empty()) chal_.next = nonce::from_b64(held);
        // The login this challenge asks for needs no `auth` then.
        if (has_record) creds_.keep(ctx_.device_id(), record);
    } else if (status != 404) {
        return unavailable(backend_reason("nonce", status));
    }
    o.chal = chal_;
    return o;
}

// ---- the credential record -------------------------------------------------

// A kept record is used only where it verifies the message: a failure, a
// stale nonce or a wrong name is for the backend's own record to decide
// (the copy may be out of date), so the cache never refuses anyone nor
// counts a failure.  What it lets in, the exchange's credential_version
// confirms.
auth_outcome authenticator::ask_credentials(const std::string &user)
{
    asked_for_ = user;
    std::optional<auth_reply> r;
    if (rechecks_ == 0) r = creds_.get(ctx_.device_id());
    if (r) {
        nonce ignored;
        bool verifies = mode_ == mode::session
                            ? ctx_.st.scheme != auth_scheme::hmac
                                  || session_mac_ok(*r)
                            : check_login(*r, ignored) == login_check::ok;
        if (verifies) {
            server_.take(*r, ctx_.st);
            record_ = std::move(r);
            from_copy_ = true;
            return mode_ == mode::session ? session_verified(*record_)
                                          : login_verified(*record_);
        }
    }
    return ask_auth(user);
}

auth_outcome authenticator::credentials_changed()
{
    creds_.forget(ctx_.device_id());
    record_.reset();
    used_ = nonce();
    next_ = nonce();
    // Each round is an `auth` and an exchange; credentials that change
    // under every one of them are the backend's trouble, not the device's.
    if (++rechecks_ > 2) {
        counter_.release();
        return unavailable("backend credentials changed during the login");
    }
    if (mode_ == mode::login) user_ = asked_for_;
    auth_outcome o = ask_auth(asked_for_);
    if (mode_ == mode::session) o.v = verdict::session;
    return o;
}

void authenticator::exchanged(const std::string &server_next_nonce)
{
    if (!record_) {
        // the server nonce changed under a copy we did not load
        if (!server_next_nonce.empty()) creds_.forget(ctx_.device_id());
        return;
    }
    // As the backend stores them (docs/backend-api.md, `nonce`): the
    // replaced nonce joins the previous ones, newest first.
    auth_reply &r = *record_;
    if (!next_.empty()) {
        std::string next = next_.b64();
        if (!r.nonce.empty() && r.nonce != next) {
            r.previous_nonces.insert(r.previous_nonces.begin(), r.nonce);
            if (r.previous_nonces.size() > kept_previous_nonces)
                r.previous_nonces.resize(kept_previous_nonces);
        }
        r.nonce = std::move(next);
    }
    if (!server_next_nonce.empty()) r.server_nonce = server_next_nonce;
    creds_.keep_after_login(ctx_.device_id(), r);
}

const std::string &authenticator::credential_version() const
{
    static const std::string none;
    return record_ ? record_->credential_version : none;
}

// ---- outcomes ----------------------------------------------------------------

auth_outcome authenticator::ask_auth(const std::string &user)
{
    auth_outcome o{auth_outcome::step::ask_auth};
    o.body = auth_request(ctx_.device_id(), user);
    return o;
}

// Failures count only where a guess was evaluated: an attempt reserved
// before the backend check, or a MAC checked within a session.  A
// malformed credential proves nothing either way, and counting it would
// let anyone fill the store with counters.
auth_outcome authenticator::failed(std::string reason)
{
    return challenge_with(401, verdict::failed, std::move(reason));
}

auth_outcome authenticator::stale(std::string reason)
{
    counter_.release();
    return challenge_with(401, verdict::stale, std::move(reason));
}

// The device's nonce, which the backend keeps until a login uses it; the
// fresh one offered is stored only where it has none.  So a challenge that
// anyone can provoke never invalidates the nonce a device holds.
auth_outcome authenticator::challenge_with(int code, verdict v,
                                           std::string reason)
{
    chal_.code = code;
    chal_.scheme = challenge_scheme();
    auth_outcome o{auth_outcome::step::challenge};
    if (chal_.scheme != auth_scheme::basic) {
        chal_.next = nonce::fresh();
        o.what = auth_outcome::step::ask_nonce;
        o.body = nonce_request(ctx_.device_id(), chal_.next.b64());
    }
    o.v = v;
    o.reason = std::move(reason);
    o.chal = chal_;
    return o;
}

auth_outcome authenticator::unavailable(std::string reason)
{
    auth_outcome o{auth_outcome::step::unavailable};
    o.reason = std::move(reason);
    return o;
}

// A device is challenged in the scheme it tried (scheme_ is set only for
// one the location accepts); omadm_challenge is for a device that tried
// none.
auth_scheme authenticator::challenge_scheme() const
{
    if (scheme_ != auth_scheme::none) return scheme_;
    auth_scheme s = scheme_of_bits(ctx_.cf.auth_challenge);
    return s == auth_scheme::none ? auth_scheme::md5 : s;
}

// ---- the answer --------------------------------------------------------------

void authenticator::admit(session_state &st, bool session_start)
{
    if (session_start) {
        counter_.reset_on_commit();
        st.username = user_;
        if (scheme_ == auth_scheme::hmac) {
            st.scheme = auth_scheme::hmac;
            st.mac_nonce = next_;
        } else {
            st.scheme = auth_scheme::none;
            st.mac_nonce = nonce();
        }
    }
    if (!next_.empty() && st.scheme == auth_scheme::hmac) st.mac_nonce = next_;
}

bool authenticator::answer_chal(meta &chal) const
{
    // The nonce for the device's next session, or in an HMAC session its
    // next message (already stored by the backend with this exchange).
    if (next_.empty()) return false;
    chal.type = cred_type(scheme_ == auth_scheme::hmac ? auth_scheme::hmac
                                                       : auth_scheme::md5);
    chal.format = "b64";
    chal.next_nonce = next_.b64();
    return true;
}

std::string authenticator::signed_print() const
{
    if (!mac_.present || body_.empty()) return {};
    return body_ + '\n' + mac_.mac;
}

std::string authenticator::sign(std::string_view body) const
{
    if (scheme_ != auth_scheme::hmac) return {};
    return server_.sign(body, ctx_.st);
}

}  // namespace omadm
