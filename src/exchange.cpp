#include "exchange.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base64.hpp"
#include "command_tree.hpp"
#include "md5_auth.hpp"
#include "text.hpp"

namespace omadm {

namespace {

const char k_text_type[] = "text/plain";
const char k_type_md5[] = "syncml:auth-md5";
const char k_type_basic[] = "syncml:auth-basic";
const char k_type_mac[] = "syncml:auth-MAC";
// backend rounds reporting failed commands for one device message
const unsigned k_max_failed_rounds = 8;
// room kept when a command is checked to fit in a message alone: later
// messages of the package have longer MsgIDs / MsgRefs (but no Chal)
const size_t k_size_slack = 64;

std::string hex(std::string_view bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

// The store calls back into C++ from C: never let an exception through.
struct sink_buffer {
    std::string value;
    bool        failed = false;
};

void sink(void *ctx, const char *val, size_t len)
{
    auto *b = static_cast<sink_buffer *>(ctx);
    try {
        b->value.assign(val, len);
    } catch (...) {
        b->failed = true;
    }
}

}  // namespace

std::string backend_reason(const char *op, int status)
{
    if (status == 0) return std::string("backend ") + op + " unreachable";
    return std::string("backend ") + op + " answered "
           + std::to_string(status);
}

bool to_number(std::string_view text, size_t max_digits,
               unsigned long long &out)
{
    text = trim(text);
    if (text.empty() || text.size() > max_digits) return false;
    unsigned long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (unsigned) (c - '0');
    }
    out = v;
    return true;
}

bool to_code(std::string_view text, int &out)
{
    unsigned long long v;
    if (!to_number(text, 9, v)) return false;
    out = (int) v;
    return true;
}

bool store_get(const omadm_store_t &s, const std::string &key,
               std::string &out)
{
    sink_buffer buf;
    if (s.get(s.ctx, key.data(), key.size(), sink, &buf) != OMADM_OK)
        return false;
    if (buf.failed) throw std::bad_alloc();
    out = std::move(buf.value);
    return true;
}

exchange::exchange(const omadm_config_t &cf, const omadm_store_t &store,
                   std::string_view body, encoding enc,
                   std::string_view token, time_t now)
    : cf_(cf), store_(store), now_(now), enc_(enc), token_(token)
{
    parsed_ = decode_message(body, enc_, cf_.limits, msg_, perr_);
    // the MAC covers the exact bytes received (exchange_auth.cpp)
    if (cf_.auth_accept & OMADM_AUTH_HMAC) raw_body_.assign(body);
}

exchange::~exchange()
{
    try {
        if (attempt_reserved_) release_attempt();
    } catch (...) {
        // out of memory building a key: the count stays one too high
    }
}

int exchange::set_peer(std::string_view addr)
{
    if (state_ != state::fresh) return OMADM_EINVAL;
    peer_.assign(addr);
    return OMADM_OK;
}

int exchange::run(omadm_action_t &act)
{
    switch (state_) {
    case state::fresh:
        begin();
        break;
    case state::awaiting:
        return OMADM_EINVAL;
    case state::answered:
        after_backend();
        break;
    case state::responded:
        break;
    }

    act = omadm_action_t{};
    act.body = out_body_.data();
    act.body_len = out_body_.size();
    if (state_ == state::awaiting) {
        act.kind = OMADM_ACT_BACKEND;
        act.op = op_name_.c_str();
        act.op_len = op_name_.size();
    } else {
        act.kind = OMADM_ACT_RESPOND;
        act.http_status = http_status_;
        act.content_type = content_type_;
    }
    return OMADM_OK;
}

int exchange::backend_done(int http_status, std::string_view body)
{
    if (state_ != state::awaiting) return OMADM_EINVAL;
    backend_status_ = http_status;
    backend_body_.assign(body);
    state_ = state::answered;
    return OMADM_OK;
}

const std::string *exchange::var(int which) const
{
    const std::string *v = nullptr;
    switch (which) {
    case OMADM_VAR_DEVICE_ID: v = &device_id_; break;
    case OMADM_VAR_SESSION_ID: v = &session_id_; break;
    case OMADM_VAR_AUTH: v = &auth_; break;
    case OMADM_VAR_MSG_ID: v = &msg_id_; break;
    case OMADM_VAR_ERROR: v = &error_; break;
    case OMADM_VAR_RESPONSE_HMAC: v = &response_hmac_; break;
    default: return nullptr;
    }
    return v->empty() ? nullptr : v;
}

// ---- steps ---------------------------------------------------------------

// What a message says, to tell a resend of it from another message with
// its MsgID: the token it came with and the decoded message (a resend in
// the other encoding is the same message), or for one signed with
// x-syncml-hmac its bytes and MAC, since the MAC vouches for the bytes.
std::string exchange::message_print() const
{
    std::string text = token_ + '\n';
    text += has_hmac_ && !raw_body_.empty()
                ? raw_body_ + '\n' + hmac_mac_
                : encode_message(msg_, encoding::xml);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int  len = 0;
    if (!EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(),
                    nullptr))
        throw std::runtime_error("SHA-256 failed");
    return hex(std::string_view(reinterpret_cast<const char *>(md), len));
}

// Until a session is kept our answers take the device's MsgID (less one
// here: server_msg_id is that of our last message), so the numbering
// needs no state, and it goes on from there once the session is kept.
unsigned long exchange::mirrored_msg_id() const
{
    unsigned long long n;
    return to_number(msg_.hdr.msg_id, 9, n) && n > 0
               ? (unsigned long) (n - 1)
               : 0;
}

// A device may repeat a message in the other encoding: the kept answer is
// re-encoded (it is our own message, so it decodes).  False when it cannot
// be: the message is then handled afresh.
bool exchange::in_request_encoding(std::string &kept) const
{
    encoding was = encoding_of(kept);
    if (was == enc_) return true;
    message     m;
    parse_error e;
    if (!decode_message(kept, was, omadm_limits_t{}, m, e)) return false;
    kept = encode_message(m, enc_);
    return true;
}

void exchange::begin()
{
    if (!parsed_) {
        error_ = perr_.reason;
        respond_text(perr_.too_big ? 413 : 400, perr_.reason);
        return;
    }
    device_id_ = msg_.hdr.source;
    session_id_ = msg_.hdr.session_id;
    msg_id_ = msg_.hdr.msg_id;

    if (msg_.version == syncml_version::unsupported) {
        respond_version();
        return;
    }

    std::string   blob;
    session_state stored;
    bool have = store_get(store_, session_key(device_id_, session_id_), blob)
                && deserialize(blob, stored);
    // Our answer to this very message was lost: send it again, touch
    // nothing.  Its print covers the token it came with and its
    // credentials, so only the sender of the original can repeat it;
    // another message with the same MsgID is a new attempt.
    // A login without a token is answered from the cache only while its
    // session goes on: once it ended, the same package 1 (a Basic device
    // reusing its SessionID) starts a new session.
    if (have && stored.authenticated && !stored.last_response.empty()
        && (!token_.empty() || !stored.ended)
        && msg_.hdr.msg_id == stored.last_device_msg_id
        && secure_equal(message_print(), stored.last_request_print)
        && in_request_encoding(stored.last_response)) {
        auth_ = "session";
        if (encoding_of(stored.last_response) == enc_)
            response_hmac_ = stored.last_response_hmac;
        respond_syncml(std::move(stored.last_response));
        return;
    }

    // Only the token minted when the session authenticated proves it; a
    // message without it has yet to authenticate, and until it does it
    // neither sees nor disturbs the session (persist()).
    owns_session_ = have && stored.authenticated && !token_.empty()
                    && secure_equal(token_, stored.token);

    if (owns_session_ && !stored.ended) {
        st_ = std::move(stored);
        answers_our_package_ = st_.package_open;
    } else {
        st_ = session_state{};
        st_.server_msg_id = mirrored_msg_id();
    }

    if (st_.authenticated) {
        auth_ = "session";
        if (session_needs_auth()) {     // MAC or server Cred: exchange_auth
            ask_session_auth();
            return;
        }
        ask_exchange(false);
        return;
    }
    start_unauthenticated();
}

void exchange::start_unauthenticated()
{
    failures().load();
    if (failures().throttled()) {
        auth_ = "throttled";
        error_ = "too many failed authentications";
        // No NextNonce: the device's stored nonce stays the valid one.
        chal_code_ = 401;
        respond_unauthenticated();
        return;
    }

    if (has_hmac_ && (cf_.auth_accept & OMADM_AUTH_HMAC)) {
        start_hmac();
        return;
    }

    if (!msg_.hdr.has_cred) {
        auth_ = "missing";
        error_ = "credentials missing";
        challenge(407);
        return;
    }

    const cred &c = msg_.hdr.cred;
    // SyncML's default credential type is basic.
    std::string_view type = trim(c.meta.type);
    if (type.empty()) type = k_type_basic;
    std::string_view format = trim(c.meta.format);
    if (!format.empty() && format != "b64") {
        auth_failed("credential format not b64");
        return;
    }

    if (iequals(type, k_type_md5) && (cf_.auth_accept & OMADM_AUTH_MD5)) {
        auth_scheme_ = "md5";
        presented_user_ = msg_.hdr.source_name;
        presented_secret_.assign(trim(c.data));
        if (presented_secret_.empty()) {
            auth_failed("empty md5 credential");
            return;
        }
    } else if (iequals(type, k_type_basic)
               && (cf_.auth_accept & OMADM_AUTH_BASIC)) {
        std::string user, pass;
        if (!parse_basic_credential(c.data, user, pass)) {
            auth_failed("malformed basic credential");
            return;
        }
        auth_scheme_ = "basic";
        presented_user_ = std::move(user);
        presented_secret_ = md5_inner(presented_user_, pass);
        OPENSSL_cleanse(pass.data(), pass.size());
    } else {
        auth_failed("credential type not accepted");
        return;
    }

    if (!reserve_attempt()) return;
    ask(op::auth, "auth", auth_request(device_id_, presented_user_));
}

// Count the attempt as failed before the backend is asked, so that parallel
// attempts cannot all pass the throttle check during the round trip; a
// success resets the counter, a backend failure puts it back.  An attempt
// that cannot be counted is not evaluated: 503, so that a full store does
// not open the door to unlimited guesses.
bool exchange::reserve_attempt()
{
    if (!failures().reserve()) {    // read by start_unauthenticated()
        backend_failed("session store full: failed authentications cannot "
                       "be counted");
        return false;
    }
    attempt_reserved_ = true;
    return true;
}

void exchange::release_attempt()
{
    failures().release();
    attempt_reserved_ = false;
}

failure_counts &exchange::failures()
{
    if (!failures_) {
        failures_.emplace(cf_.counter_store ? *cf_.counter_store : store_,
                          device_id_, peer_, cf_.max_auth_failures,
                          cf_.auth_failure_window, now_);
    }
    return *failures_;
}

void exchange::challenge(int code)
{
    chal_code_ = code;
    if (challenge_scheme() != OMADM_AUTH_BASIC) {
        // The device's nonce, which the backend keeps until a login uses
        // it; this fresh one only where it has none.  So a challenge that
        // anyone can provoke never invalidates the nonce a device holds.
        chal_nonce_ = base64_encode(random_nonce());
        ask(op::nonce, "nonce", nonce_request(device_id_, chal_nonce_));
        return;
    }
    respond_unauthenticated();
}

// Failures count only where a guess was evaluated: an attempt reserved
// before the backend check, or a MAC checked within a session
// (throttle_).  A malformed credential proves nothing either way, and
// counting it would let anyone fill the store with counters.
void exchange::auth_failed(const char *reason)
{
    auth_ = "failed";
    error_ = reason;
    challenge(401);
}

void exchange::auth_stale(const char *reason)
{
    auth_ = "stale";
    error_ = reason;
    if (attempt_reserved_) release_attempt();
    challenge(401);
}

bool exchange::digest_matches(const std::string &inner,
                              const std::string &nonce_b64) const
{
    std::string nonce;
    return base64_decode(nonce_b64, nonce)
           && secure_equal(md5_digest(inner, nonce), presented_secret_);
}

void exchange::ask_exchange(bool session_start)
{
    session_start_ = session_start;
    int mms, mos;
    if (to_code(msg_.hdr.meta.max_msg_size, mms) && mms > 0)
        st_.device_max_msg_size = (unsigned long) mms;
    if (to_code(msg_.hdr.meta.max_obj_size, mos) && mos > 0)
        st_.device_max_obj_size = (unsigned long long) mos;
    exchange_request r = build_request(session_start);
    apply_server_status(r);
    ask(op::exchange, "exchange", to_json(r));
}

void exchange::ask(op which, const char *name, std::string body)
{
    op_ = which;
    op_name_ = name;
    out_body_ = std::move(body);
    state_ = state::awaiting;
}

void exchange::after_backend()
{
    op which = op_;
    op_ = op::none;
    switch (which) {
    case op::nonce: on_nonce(); break;
    case op::auth: on_auth(); break;
    case op::exchange: on_exchange(); break;
    case op::object: on_object(); break;
    case op::none: backend_failed("internal: no backend call"); break;
    }
}

void exchange::on_nonce()
{
    // 404: unknown device; it still gets its challenge, which will fail.
    if (backend_status_ == 404) {
        respond_unauthenticated();
        return;
    }
    if (backend_status_ == 200) {
        std::string held, why;
        if (!parse_nonce_reply(backend_body_, held, why)) {
            backend_failed(why);
            return;
        }
        if (!held.empty()) chal_nonce_ = std::move(held);
        respond_unauthenticated();
        return;
    }
    backend_failed(backend_reason("nonce", backend_status_));
}

void exchange::on_auth()
{
    if (backend_status_ == 404) {
        if (mid_session_auth_) {    // deleted during its session
            respond_device_gone();
            return;
        }
        // Nothing is kept for a device the backend does not know.
        if (attempt_reserved_) release_attempt();
        auth_failed("unknown device");
        return;
    }
    if (backend_status_ != 200) {
        backend_failed(backend_reason("auth", backend_status_));
        return;
    }
    auth_reply  r;
    std::string why;
    if (!parse_auth_reply(backend_body_, r, why)) {
        backend_failed(why);
        return;
    }
    take_server_credentials(r);
    if (mid_session_auth_) {
        on_session_auth(r);
        return;
    }

    bool ok;
    bool stale = false;
    verify_presented(r, ok, stale);
    // Without LocName (most clients send none) the device named by
    // Source/LocURI is who logs in, under the name the backend holds;
    // a name given must be that one.
    if (!presented_user_.empty() && r.username != presented_user_) {
        ok = stale = false;
    }
    presented_user_ = r.username;
    if (stale) {
        // The device knows the password but missed the nonce that replaced
        // this one (an answer lost in transit): a new challenge, not a
        // failure, or a flaky network would lock honest devices out.
        used_nonce_.clear();
        auth_stale("stale nonce");
        return;
    }
    if (!ok) {
        used_nonce_.clear();
        // The guess was evaluated: it stays counted, whatever becomes of
        // the challenge that answers it (a failing nonce call included).
        attempt_reserved_ = false;
        failures().failed();
        auth_failed("invalid credentials");
        return;
    }
    if (cf_.auth_accept & (OMADM_AUTH_MD5 | OMADM_AUTH_HMAC)) {
        next_nonce_ = base64_encode(random_nonce());
    }
    ask_exchange(true);
}

void exchange::on_exchange()
{
    if (backend_status_ == 200) {
        std::vector<backend_command> cmds;
        std::vector<std::string>     raw;
        std::string                  why;
        if (!parse_exchange_reply(backend_body_, cmds, why, &raw)) {
            backend_failed(why);
            return;
        }
        if (!load_pending()) {
            backend_failed("internal: session state holds bad commands");
            return;
        }
        // A command that can never be sent (too large for the device's
        // MaxMsgSize, or its MaxObjSize) fails to the backend, which may
        // hand out others.
        std::vector<failed_report> failed;
        for (size_t i = 0; i < cmds.size(); i++) {
            if (auto why = unsendable(cmds[i])) {
                failed.push_back({cmds[i].id, std::move(*why)});
                continue;
            }
            kept_.push_back(std::move(cmds[i]));
            kept_raw_.push_back(std::move(raw[i]));
        }
        if (!failed.empty()) {
            ask_failed(std::move(failed));
            return;
        }
        answer();
        return;
    }
    if (backend_status_ == 409 && session_start_) {
        // Another message used this nonce first: the device's own retry
        // racing a slow first attempt, or a replay.  The digest was right
        // for a nonce it was issued, so this proves the password: stale.
        auth_stale("nonce already used");
        return;
    }
    if (backend_status_ == 404) {
        respond_device_gone();
        return;
    }
    backend_failed(backend_reason("exchange", backend_status_));
}

// ---- answers -------------------------------------------------------------

void exchange::respond_text(int status, std::string reason)
{
    out_body_ = std::move(reason);
    out_body_.push_back('\n');
    http_status_ = status;
    content_type_ = k_text_type;
    state_ = state::responded;
}

void exchange::respond_syncml(std::string body)
{
    out_body_ = std::move(body);
    http_status_ = 200;
    content_type_ = content_type(enc_);
    state_ = state::responded;
}

void exchange::backend_failed(std::string reason)
{
    // Nothing is stored: the device retries and finds the state as it was.
    if (attempt_reserved_) release_attempt();
    if (auth_ == "none") auth_ = "undecided";
    error_ = reason;
    respond_text(503, std::move(reason));
}

void exchange::respond_version()
{
    const std::string &dtd = msg_.hdr.ver_dtd;
    bool dtd_ok = dtd == "1.1" || dtd == "1.2";
    bool proto_ok = dtd_ok && msg_.hdr.ver_proto == "DM/" + dtd;
    // A known VerDTD with a foreign VerProto is a protocol problem (513);
    // anything else (unknown DTD, namespace disagreeing) is 505.
    const char *code = dtd_ok && !proto_ok ? "513" : "505";
    error_ = dtd_ok && !proto_ok ? "unsupported VerProto"
                                 : "unsupported VerDTD";

    message m;
    m.version = dtd == "1.1" ? syncml_version::v1_1 : syncml_version::v1_2;
    m.hdr.session_id = msg_.hdr.session_id;
    m.hdr.msg_id = "1";
    m.hdr.target = msg_.hdr.source;
    m.hdr.source.assign(cf_.server_id, cf_.server_id_len);
    if (cf_.max_message_size)
        m.hdr.meta.max_msg_size = std::to_string(cf_.max_message_size);
    if (cf_.max_object_size)
        m.hdr.meta.max_obj_size = std::to_string(cf_.max_object_size);
    command s = hdr_status(code);
    s.cmd_id = "1";
    m.body.push_back(std::move(s));
    m.final = true;
    respond_syncml(encode_message(m, enc_));
}

void exchange::respond_unauthenticated()
{
    std::string code = std::to_string(chal_code_);
    message     m = reply_skeleton();
    command     s = hdr_status(code);
    s.cmd_id = "1";
    s.has_chal = true;
    s.chal.format = "b64";
    if (challenge_scheme() != OMADM_AUTH_BASIC) {
        s.chal.type = challenge_scheme() == OMADM_AUTH_HMAC ? k_type_mac
                                                            : k_type_md5;
        s.chal.next_nonce = chal_nonce_;
    } else {
        s.chal.type = k_type_basic;
    }
    m.body.push_back(std::move(s));
    unsigned n = 2;
    add_command_statuses(m, code, n);
    persist(m);
}

message exchange::authenticated_head()
{
    message m = reply_skeleton();
    command s = hdr_status(session_start_ ? "212" : "200");
    s.cmd_id = "1";
    if (!next_nonce_.empty()) {
        // The nonce for the device's next session, or in an HMAC session
        // its next message (already stored by the backend with this
        // exchange).
        s.has_chal = true;
        s.chal.type = auth_scheme_ == "hmac" ? k_type_mac : k_type_md5;
        s.chal.format = "b64";
        s.chal.next_nonce = next_nonce_;
    }
    m.body.push_back(std::move(s));
    add_server_cred(m);
    return m;
}

size_t exchange::encoded_size(const message &m) const
{
    return encode_message(m, enc_).size();
}

// Whether the command fits in a message of its own (the SyncHdr and its
// Status, no other Status), with some slack for the package's later
// messages.
bool exchange::fits_alone(const backend_command &bc)
{
    size_t limit = st_.device_max_msg_size;
    if (limit == 0) return true;
    message m = authenticated_head();
    std::map<std::string, std::string> scratch;
    unsigned n = 2;
    m.body.push_back(to_syncml(bc, m.hdr.msg_id, n, scratch));
    return encoded_size(m) + k_size_slack <= limit;
}

// The commands kept from our earlier messages go first (once per message,
// however many backend rounds it takes).
bool exchange::load_pending()
{
    if (pending_loaded_) return true;
    pending_loaded_ = true;
    if (st_.pending.empty()) return true;
    if (!parse_kept_commands(st_.pending, kept_)) return false;
    kept_raw_ = std::move(st_.pending);
    st_.pending.clear();
    return true;
}

// Tell the backend about the commands that can never be sent, and ask it
// for as many others as there is room for.
void exchange::ask_failed(std::vector<failed_report> failed)
{
    // A backend that hands the same commands out again would loop here.
    if (++failed_rounds_ > k_max_failed_rounds) {
        backend_failed("backend hands out again commands reported failed");
        return;
    }
    exchange_request r;
    r.device_id = device_id_;
    r.session_id = session_id_;
    r.msg_id = msg_id_;
    r.failed = std::move(failed);
    bool abort = false;
    for (const auto &bc : kept_) abort = abort || is_session_abort(bc);
    r.max_commands = !abort && cf_.max_commands > kept_.size()
                         ? cf_.max_commands - (unsigned) kept_.size()
                         : 0;
    if (!device_done() || device_aborted(msg_)) r.max_commands = 0;
    ask(op::exchange, "exchange", to_json(r));
}

void exchange::respond_authenticated()
{
    if (session_start_) {
        // A session starts here, with a token nobody has seen before.
        st_.token = hex(random_nonce());
        st_.authenticated = true;
        throttle_ = throttle_change::reset;
        auth_ = "ok";
        on_authenticated();
    }
    if (!next_nonce_.empty() && st_.scheme == "hmac")
        st_.mac_nonce = next_nonce_;
    message m = authenticated_head();
    unsigned n = 2;
    add_command_statuses(m, "200", n);

    for (const auto &key : answered_) st_.outstanding.erase(key);
    std::string server_msg = m.hdr.msg_id;
    // A session abort (Alert 1223) goes alone after the Statuses and ends
    // the session (§3.2); the answer to the device's own abort carries no
    // command at all (the backend was asked for none).  A command of the
    // answer left out gets no Status: it is queued again at the device's
    // next session start.
    bool device_abort = device_aborted(msg_);
    // The device's package goes on (no Final, or a large object not
    // complete): Statuses and Alert 1222, no command, no Final (§3.3);
    // what we have waits for its last message.
    bool device_more = (!device_done() || st_.receiving) && !device_abort;
    const backend_command *abort = nullptr;
    for (const auto &bc : kept_) {
        if (is_session_abort(bc)) {
            abort = &bc;
            break;
        }
    }
    bool chunk_sent = false;
    st_.pending.clear();
    if (device_abort) {
        // Statuses only
    } else if (device_more) {
        command a;
        a.name = "Alert";
        a.cmd_id = std::to_string(n++);
        a.data = "1222";
        m.body.push_back(std::move(a));
        st_.pending = kept_raw_;
    } else if (abort) {
        m.body.push_back(to_syncml(*abort, server_msg, n, st_.outstanding));
    } else if (st_.sending) {
        // A large object goes alone, a chunk per message (see answer()).
        if (st_.outgoing.acked) chunk_sent = add_chunk(m, n);
        st_.pending = kept_raw_;
    } else {
        // Within the device's MaxMsgSize: the commands that fit, in order,
        // up to a large object (it starts the next message); the rest
        // wait in the session for its next message.
        size_t  limit = st_.device_max_msg_size;
        size_t  sent = 0;
        size_t  stop = 0;
        while (stop < kept_.size() && !is_large(kept_[stop])) stop++;
        message all = m;
        unsigned n_all = n;
        std::map<std::string, std::string> added;
        for (size_t i = 0; i < stop; i++)
            all.body.push_back(to_syncml(kept_[i], server_msg, n_all, added));
        if (limit == 0 || encoded_size(all) <= limit) {
            m = std::move(all);
            n = n_all;
            st_.outstanding.insert(added.begin(), added.end());
            sent = stop;
        } else {
            for (; sent < stop; sent++) {
                std::map<std::string, std::string> one;
                unsigned n_one = n;
                m.body.push_back(
                    to_syncml(kept_[sent], server_msg, n_one, one));
                if (encoded_size(m) > limit) {
                    m.body.pop_back();
                    break;
                }
                n = n_one;
                st_.outstanding.insert(one.begin(), one.end());
            }
        }
        st_.pending.assign(kept_raw_.begin() + (long) sent, kept_raw_.end());
    }
    m.final = !device_more && st_.pending.empty() && !st_.sending;
    // our package stays open while we have more to send, whatever the
    // device's does
    st_.package_open = !st_.pending.empty() || st_.sending;

    // Nothing asked: the device will not answer, so the session is over.
    // The state stays (ended) only so a lost answer can be resent.
    st_.ended = device_abort || abort
                || (kept_.empty() && !device_more && !chunk_sent
                    && !st_.sending);
    if (st_.ended) st_.pending.clear();
    if (st_.ended && st_.sending) end_sending();
    persist(m);
}

void exchange::respond_device_gone()
{
    // The backend no longer knows the device: refuse what it sent and end
    // (and keep nothing for it, a failure count included).
    if (attempt_reserved_) release_attempt();
    message m = reply_skeleton();
    command s = hdr_status("403");
    s.cmd_id = "1";
    m.body.push_back(std::move(s));
    unsigned n = 2;
    add_command_statuses(m, "403", n);
    if (session_start_) auth_ = "failed";
    error_ = "backend: unknown device";
    st_.ended = true;
    persist(m);
}

// ---- message building ----------------------------------------------------

// The device's message ends its package: it has Final, or it answers a
// message of ours that left Final out to send more, which the device must
// not close its package before (§3.3).
bool exchange::device_done() const
{
    return msg_.final || answers_our_package_;
}

message exchange::reply_skeleton() const
{
    message m;
    m.version = msg_.version;
    m.hdr.session_id = msg_.hdr.session_id;
    m.hdr.msg_id = std::to_string(st_.server_msg_id + 1);
    m.hdr.target = msg_.hdr.source;
    m.hdr.source.assign(cf_.server_id, cf_.server_id_len);
    m.hdr.resp_uri = resp_uri();
    if (cf_.max_message_size)
        m.hdr.meta.max_msg_size = std::to_string(cf_.max_message_size);
    if (cf_.max_object_size)
        m.hdr.meta.max_obj_size = std::to_string(cf_.max_object_size);
    m.final = true;
    return m;
}

command exchange::hdr_status(const std::string &code) const
{
    command s;
    s.name = "Status";
    s.msg_ref = msg_.hdr.msg_id;
    s.cmd_ref = "0";
    s.cmd = "SyncHdr";
    if (!msg_.hdr.target.empty()) s.target_refs.push_back(msg_.hdr.target);
    s.source_refs.push_back(msg_.hdr.source);
    s.data = code;
    return s;
}

void exchange::add_command_statuses(message &m, const std::string &code,
                                    unsigned &cmd_id) const
{
    for (const auto &c : msg_.body) {
        // Statuses and Results are answers themselves, but for a Results
        // carrying a large object's chunk; NoResp asks for none.
        auto own = code == "200" ? answer_codes_.find(c.cmd_id)
                                 : answer_codes_.end();
        if (c.name == "Status" || c.no_resp) continue;
        if (c.name == "Results" && own == answer_codes_.end()) continue;
        command s;
        s.name = "Status";
        s.cmd_id = std::to_string(cmd_id++);
        s.msg_ref = msg_.hdr.msg_id;
        s.cmd_ref = c.cmd_id;
        s.cmd = c.name;
        if (c.name == "Results" && !c.items.empty())
            s.source_refs.push_back(c.items.front().source);
        s.data = own == answer_codes_.end() ? code : own->second;
        m.body.push_back(std::move(s));
    }
}

exchange_request exchange::build_request(bool session_start)
{
    exchange_request r;
    r.device_id = device_id_;
    r.session_id = session_id_;
    r.msg_id = msg_id_;
    r.session_start = session_start;
    if (session_start || !next_nonce_.empty()) {    // or an HMAC message
        r.used_nonce = used_nonce_;
        r.next_nonce = next_nonce_;
    }
    r.max_commands = cf_.max_commands;

    // A Status or Results without MsgRef answers our last message.
    const std::string last_server = std::to_string(st_.server_msg_id);
    auto outstanding_key = [&](const command &c) {
        return (c.msg_ref.empty() ? last_server : c.msg_ref) + ":"
               + std::string(trim(c.cmd_ref));
    };

    bool aborted = false;
    // A Get's Status waits for the end of the device's package (held):
    // its Results may come in a later message of it.
    bool package_ends = msg_.final || device_aborted(msg_);
    for (const auto &c : msg_.body) {
        if (c.name == "Replace") {
            for (const auto &it : c.items) {
                if (it.source.rfind("./DevInfo/", 0) == 0)
                    r.devinfo[it.source] = it.data;
            }
        } else if (c.name == "Alert") {
            std::string code(trim(c.data));
            if (code == "1200" || code == "1201" || code == "1222") continue;
            if (std::any_of(c.items.begin(), c.items.end(),
                            [](const item &it) { return it.more_data; })) {
                answer_codes_[c.cmd_id] = "406";    // chunks: Results only
                continue;
            }
            if (code == "1223") aborted = true;
            device_alert a;
            a.code = code;
            a.correlator = c.correlator;
            for (const auto &it : c.items) {
                a.items.push_back({it.source, it.target,
                                   it.meta.type.empty() ? c.meta.type
                                                        : it.meta.type,
                                   it.meta.format.empty() ? c.meta.format
                                                          : it.meta.format,
                                   it.meta.mark, it.data});
            }
            r.alerts.push_back(std::move(a));
        } else if (c.name == "Status") {
            if (trim(c.cmd_ref) == "0") continue;
            std::string key = outstanding_key(c);
            auto        found = st_.outstanding.find(key);
            int         code;
            if (!to_code(c.data, code)) continue;
            if (st_.sending && key == st_.outgoing.chunk_key) {
                chunk_answered(code, r);
                continue;
            }
            if (found == st_.outstanding.end()) continue;
            if (!package_ends && trim(c.cmd) == "Get") {
                st_.held[key] = code;
                continue;
            }
            status_report sr{found->second, code, {}};
            // a user-interaction alert's answer: text, selected choices
            for (const auto &it : c.items)
                sr.items.push_back({it.source, it.target, it.data});
            r.statuses.push_back(std::move(sr));
            answered_.insert(key);
        } else if (c.name == "Results") {
            auto found = st_.outstanding.find(outstanding_key(c));
            bool known = found != st_.outstanding.end();
            for (const auto &it : c.items) {
                if (it.more_data || st_.receiving) {
                    receive_chunk(c, it, known ? &found->second : nullptr,
                                  r);
                    continue;
                }
                if (!known) continue;
                r.results.push_back(
                    {found->second, it.source,
                     it.meta.format.empty() ? c.meta.format : it.meta.format,
                     it.meta.type.empty() ? c.meta.type : it.meta.type,
                     it.data});
            }
        }
    }
    // The device's package (or the session) ended with its object
    // incomplete.
    if (st_.receiving && package_ends) fail_incoming(424);
    if (package_ends) {
        // An exchange applies Results before Statuses: the Statuses held
        // go with the package's last Results (ahead of this message's).
        std::vector<status_report> earlier;
        for (const auto &h : st_.held) {
            auto found = st_.outstanding.find(h.first);
            if (found == st_.outstanding.end()) continue;
            earlier.push_back({found->second, h.second, {}});
            answered_.insert(h.first);
        }
        r.statuses.insert(r.statuses.begin(), earlier.begin(), earlier.end());
        st_.held.clear();
    }
    settle_objects(r);
    check_sending(r, device_done() && !aborted);
    // After a device abort (1223) the server sends no commands (§3.2);
    // none either while the device's package goes on (no Final, or a large
    // object not complete) or while ours does (commands kept in the
    // session, a large object, go first), §3.3.
    if (aborted || !device_done() || !st_.pending.empty() || st_.receiving
        || st_.sending)
        r.max_commands = 0;
    return r;
}

void exchange::persist(const message &m)
{
    std::string body = encode_message(m, enc_);
    sign_response(body);
    st_.last_response_hmac = response_hmac_;

    st_.server_msg_id += 1;
    st_.last_device_msg_id = msg_.hdr.msg_id;
    for (const auto &key : drops_)
        objects().remove(objects().ctx, key.data(), key.size());
    keep_objects_alive();
    // Anyone can send unauthenticated messages: they make us keep nothing
    // (a repeat is answered afresh), and a session whose owner failed to
    // authenticate again ends.
    std::string key = session_key(device_id_, session_id_);
    if (st_.authenticated) {
        st_.last_request_print = message_print();
        st_.last_response = body;
        std::string blob = serialize(st_);
        if (store_.put(store_.ctx, key.data(), key.size(), blob.data(),
                       blob.size(), cf_.session_ttl)
            != OMADM_OK) {
            // Answer anyway: a lost session only costs a re-authentication.
            error_ = "session store full: session state not kept";
        }
    } else if (owns_session_) {
        store_.remove(store_.ctx, key.data(), key.size());
    }

    if (throttle_ == throttle_change::increment) {
        if (!failures().add()) {    // afresh: a backend call passed
            error_ += error_.empty() ? "" : "; ";
            error_ += "session store full: failure count not kept";
        }
    } else if (throttle_ == throttle_change::reset) {
        failures().reset();
    }

    respond_syncml(std::move(body));
}

std::string exchange::resp_uri() const
{
    if (cf_.resp_uri_len == 0) return std::string();
    std::string uri(cf_.resp_uri, cf_.resp_uri_len);
    if (st_.token.empty()) return uri;  // no session yet
    uri += uri.find('?') == std::string::npos ? "?s=" : "&s=";
    uri += st_.token;
    return uri;
}

}  // namespace omadm
