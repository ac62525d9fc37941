#include "session/exchange.hpp"

#include <algorithm>
#include <utility>

#include "auth/md5_auth.hpp"
#include "codec/xml_prescan.hpp"
#include "common/text.hpp"
#include "session/command_tree.hpp"
#include "session/repeat.hpp"

namespace omadm {

namespace {

const char k_text_type[] = "text/plain";
// backend rounds reporting failed commands for one device message
const unsigned k_max_failed_rounds = 8;

const omadm_store_t &or_default(const omadm_store_t *s, const omadm_store_t &d)
{
    return s ? *s : d;
}

}  // namespace

exchange::exchange(const omadm_config_t &cf, const omadm_store_t &store,
                   std::string_view body, encoding enc, std::string_view token,
                   time_t now)
    : resend_(find_resend(cf, store, body, enc, token)),
      bad_(resend_ ? std::nullopt : decode(body, enc, cf.limits, msg_)),
      ctx_{cf, msg_, enc, now, {}, {}, {}}, sessions_(store), token_(token),
      auth_(ctx_, or_default(cf.counter_store, store), body),
      segments_(ctx_, or_default(cf.object_store, store)),
      reply_(ctx_, auth_, answers_), incoming_(ctx_, segments_, answers_),
      outgoing_(ctx_, segments_, reply_),
      requests_(ctx_, auth_, answers_, incoming_, outgoing_)
{
    if (cf.server_id) ctx_.server_id.assign(cf.server_id, cf.server_id_len);
    if (cf.resp_uri) ctx_.resp_uri.assign(cf.resp_uri, cf.resp_uri_len);
    if (prints_bytes(cf, enc) && !resend_) body_.assign(body);
}

// Before anything else is built: the collaborators read the message.
std::optional<parse_error> exchange::decode(std::string_view body, encoding enc,
                                            const omadm_limits_t &limits,
                                            message &out)
{
    parse_error e;
    if (decode_message(body, enc, limits, out, e)) return {};
    return e;
}

int exchange::set_hmac(std::string_view value)
{
    if (state_ != state::fresh) return OMADM_EINVAL;
    auth_.set_hmac(value);
    return OMADM_OK;
}

int exchange::set_server_id(std::string_view id)
{
    if (state_ != state::fresh) return OMADM_EINVAL;
    ctx_.server_id.assign(id);
    ctx_.resp_uri.assign(id);
    return OMADM_OK;
}

int exchange::set_peer(std::string_view addr)
{
    if (state_ != state::fresh) return OMADM_EINVAL;
    auth_.set_peer(addr);
    return OMADM_OK;
}

int exchange::run(omadm_action_t &act)
{
    switch (state_) {
    case state::fresh: begin(); break;
    case state::awaiting: return OMADM_EINVAL;
    case state::answered: after_backend(); break;
    case state::responded: break;
    }

    act = omadm_action_t{};
    act.body = out_.body.data();
    act.body_len = out_.body.size();
    if (state_ == state::awaiting) {
        act.kind = OMADM_ACT_BACKEND;
        act.op = call_.name;
        act.op_len = std::char_traits<char>::length(call_.name);
    } else {
        act.kind = OMADM_ACT_RESPOND;
        act.http_status = out_.http_status;
        act.content_type = out_.content_type;
        act.headers = out_.headers;
        act.nheaders = 0;
        auto add = [&](std::string_view name, const std::string &value) {
            out_.headers[act.nheaders++]
                = {name.data(), name.size(), value.data(), value.size()};
        };
        if (out_.http_status == 503) {
            out_.retry_after = std::to_string(ctx_.cf.retry_after);
            add("Retry-After", out_.retry_after);
        }
        if (!out_.hmac.empty()) add("x-syncml-hmac", out_.hmac);
    }
    return OMADM_OK;
}

void exchange::internal_error(const char *what) noexcept
{
    try {
        error_ = std::string("internal: ") + what;
    } catch (...) {
        error_.clear();  // out of memory: the glue says so itself
    }
}

int exchange::backend_done(int http_status, std::string_view body)
{
    if (state_ != state::awaiting) return OMADM_EINVAL;
    call_.status = http_status;
    call_.answer.assign(body);
    state_ = state::answered;
    return OMADM_OK;
}

std::string_view exchange::var(int which) const
{
    // the message's own identifiers, once it was read
    bool read = state_ != state::fresh && !bad_;
    auto once_read = [read](const std::string &v) {
        return read ? std::string_view(v) : std::string_view();
    };
    switch (which) {
    case OMADM_VAR_DEVICE_ID: return once_read(msg_.hdr.source);
    case OMADM_VAR_SESSION_ID: return once_read(msg_.hdr.session_id);
    case OMADM_VAR_MSG_ID: return once_read(msg_.hdr.msg_id);
    case OMADM_VAR_AUTH: return verdict_name(verdict_);
    case OMADM_VAR_ERROR: return error_;
    case OMADM_VAR_RESPONSE_HMAC: return out_.hmac;
    default: return {};
    }
}

omadm_outcome_t exchange::outcome() const
{
    omadm_outcome_t o{};
    o.verdict = int(verdict_);
    o.scheme = unsigned(auth_.tried_scheme());
    o.resent = resent_ ? 1 : 0;
    return o;
}

// ---- steps -------------------------------------------------------------------

std::string exchange::message_print() const
{
    return omadm::message_print(token_, msg_, auth_.signed_print());
}

// Where a message is recognised by its bytes: XML (the text scan finds
// its session), and not where a MAC may sign it (its print then covers the
// header, which comes after the bytes: the decoded check does it).
bool exchange::prints_bytes(const omadm_config_t &cf, encoding enc)
{
    return enc == encoding::xml && !accepts(cf.auth_accept, auth_scheme::hmac);
}

// The same bytes with the same token as the message the kept answer
// answered: that message, so the answer goes again as the decoded check in
// begin() would send it, without the decode.  The scan only finds the
// record; the print proves the message, and it was made from bytes that
// decoded under this very key (other bytes, another MsgID: decoded).
std::optional<exchange::resend> exchange::find_resend(
    const omadm_config_t &cf, const omadm_store_t &store,
    std::string_view body, encoding enc, std::string_view token)
{
    if (!prints_bytes(cf, enc)) return {};
    auto ids = prescan_xml_header(body);
    if (!ids) return {};
    auto blob = kv_store(store).get(session_key(ids->source, ids->session_id));
    record_head head;
    if (!blob || !peek(*blob, head) || !head.authenticated
        || head.last_device_msg_id != ids->msg_id
        || head.last_request_bytes_print.empty()
        || (token.empty() && head.ended)
        || !secure_equal(bytes_print(token, enc, body),
                         head.last_request_bytes_print))
        return {};
    resend r;
    if (!deserialize(*blob, r.stored) || r.stored.last_response.empty())
        return {};
    r.session_id.assign(ids->session_id);
    r.msg_id.assign(ids->msg_id);
    r.source.assign(ids->source);
    return r;
}

void exchange::resend_kept_answer()
{
    msg_.hdr.session_id = std::move(resend_->session_id);
    msg_.hdr.msg_id = std::move(resend_->msg_id);
    msg_.hdr.source = std::move(resend_->source);
    verdict_ = verdict::session;
    resent_ = true;
    out_.hmac = resend_->stored.last_response_hmac;
    respond_syncml(std::move(resend_->stored.last_response));
}

// Until a session is kept our answers take the device's MsgID (less one
// here: server_msg_id is that of our last message), so the numbering
// needs no state, and it goes on from there once the session is kept.
unsigned long exchange::mirrored_msg_id() const
{
    unsigned long long n;
    return parse_decimal(msg_.hdr.msg_id, 9, n) && n > 0
               ? (unsigned long) (n - 1)
               : 0;
}

bool exchange::device_done() const
{
    return omadm::device_done(ctx_, answers_our_package_);
}

void exchange::begin()
{
    if (resend_) {
        resend_kept_answer();
        return;
    }
    if (bad_) {
        error_ = bad_->reason;
        respond_text(bad_->too_big ? 413 : 400, bad_->reason);
        return;
    }
    if (msg_.version == syncml_version::unsupported) {
        respond_syncml(
            encode_message(reply_.version_refusal(error_), ctx_.enc));
        return;
    }

    session_state stored;
    auto blob = sessions_.get(session_key(ctx_.device_id(), ctx_.session_id()));
    bool have = blob && deserialize(*blob, stored);
    // Our answer to this very message was lost: send it again, touch
    // nothing.  Its print covers the token it came with and its
    // credentials, so only the sender of the original can repeat it;
    // another message with the same MsgID is a new attempt.  A login
    // without a token is answered from the cache only while its session
    // goes on: once it ended, the same package 1 (a Basic device reusing
    // its SessionID) starts a new session.
    if (have && stored.authenticated && !stored.last_response.empty()
        && (!token_.empty() || !stored.ended)
        && msg_.hdr.msg_id == stored.last_device_msg_id
        && secure_equal(message_print(), stored.last_request_print)
        && in_encoding(stored.last_response, ctx_.enc)) {
        verdict_ = verdict::session;
        resent_ = true;
        if (encoding_of(stored.last_response) == ctx_.enc)
            out_.hmac = stored.last_response_hmac;
        respond_syncml(std::move(stored.last_response));
        return;
    }

    // Only the token minted when the session authenticated proves it; a
    // message without it has yet to authenticate, and until it does it
    // neither sees nor disturbs the session (persist()).
    owns_session_ = have && stored.authenticated && !token_.empty()
                    && secure_equal(token_, stored.token);
    session_state &st = ctx_.st;
    if (owns_session_ && !stored.ended) {
        st = std::move(stored);
        answers_our_package_ = st.package_open;
        auth_.server().accept_if_taken(st);
    } else {
        st = session_state{};
        st.server_msg_id = mirrored_msg_id();
    }
    dispatch(st.authenticated ? auth_.in_session() : auth_.login());
}

void exchange::dispatch(auth_outcome o)
{
    if (o.v != verdict::none) verdict_ = o.v;
    if (!o.reason.empty()) error_ = o.reason;
    switch (o.what) {
    case auth_outcome::step::ask_nonce:
        ask(op::nonce, "nonce", std::move(o.body));
        break;
    case auth_outcome::step::ask_auth:
        ask(op::auth, "auth", std::move(o.body));
        break;
    case auth_outcome::step::challenge: persist(reply_.refusal(o.chal)); break;
    case auth_outcome::step::admitted:
        // a session starts with the message that authenticates
        ask_exchange(!ctx_.st.authenticated);
        break;
    case auth_outcome::step::unavailable: backend_failed(o.reason); break;
    case auth_outcome::step::device_gone: respond_device_gone(); break;
    }
}

void exchange::ask(op which, const char *name, std::string body)
{
    call_.which = which;
    call_.name = name;
    out_.body = std::move(body);
    state_ = state::awaiting;
}

void exchange::after_backend()
{
    op which = call_.which;
    call_.which = op::none;
    switch (which) {
    case op::nonce: dispatch(auth_.on_nonce(call_.status, call_.answer)); break;
    case op::auth: dispatch(auth_.on_auth(call_.status, call_.answer)); break;
    case op::exchange: on_exchange(); break;
    case op::object: on_object(); break;
    case op::none: backend_failed("internal: no backend call"); break;
    }
}

void exchange::ask_exchange(bool session_start)
{
    session_state &st = ctx_.st;
    int mms, mos;
    if (parse_code(msg_.hdr.meta.max_msg_size, mms) && mms > 0)
        st.device_max_msg_size = (unsigned long) mms;
    if (parse_code(msg_.hdr.meta.max_obj_size, mos) && mos > 0)
        st.device_max_obj_size = (unsigned long long) mos;
    // Built once per message (building takes the message's answers); a
    // message verified again after "credentials changed" sends the same
    // request with the new verification's nonces.
    if (!built_) {
        std::string note;
        built_ = requests_.build(session_start, answers_our_package_, note);
        if (!note.empty()) error_ = note;
    } else if (session_start || auth_.hands_out_nonce()) {
        built_->used_nonce = auth_.used_nonce().b64();
        built_->next_nonce = auth_.next_nonce().b64();
    }
    built_->credential_version = auth_.credential_version();
    ask(op::exchange, "exchange", to_json(*built_));
}

void exchange::on_exchange()
{
    bool session_start = !ctx_.st.authenticated;
    if (call_.status == 200) {
        std::vector<backend_command> cmds;
        std::string why;
        if (!parse_exchange_reply(call_.answer, cmds, why)) {
            auth_.forget_credentials();  // it did store the nonces
            backend_failed(why);
            return;
        }
        if (built_) {
            auth_.exchanged(built_->server_next_nonce);
            built_->credential_version.clear();  // later rounds: failed
        }
        // The commands kept from our earlier messages go first (once per
        // message, however many backend rounds it takes).
        if (!queue_.loaded) {
            queue_.loaded = true;
            queue_.cmds = std::move(ctx_.st.pending);
            ctx_.st.pending.clear();
        }
        // A command that can never be sent (too large for the device's
        // MaxMsgSize, or its MaxObjSize) fails to the backend, which may
        // hand out others.
        std::vector<failed_report> failed;
        for (auto &c : cmds) {
            if (auto why = outgoing_.unsendable(c, session_start)) {
                failed.push_back({c.id, std::move(*why)});
                continue;
            }
            queue_.cmds.push_back(std::move(c));
        }
        if (!failed.empty()) {
            ask_failed(std::move(failed));
            return;
        }
        answer();
        return;
    }
    // Whatever became of a request not answered 200 (one that timed out
    // may have rotated the nonce all the same), the copy of the record may
    // be out of date: the device's next login asks `auth`, which tells a
    // stale nonce from a wrong one.
    auth_.forget_credentials();
    // Only a request that carried a credential_version can be told its
    // credentials changed; verified again, it goes out again.  A device
    // gone (deleted, unenrolled) since its copy was kept is the backend's
    // `auth` to refuse, as it would without the copy.
    bool carried_version = built_ && !built_->credential_version.empty();
    if (carried_version
        && ((call_.status == 409 && says_credentials_changed(call_.answer))
            || (call_.status == 404 && auth_.verified_from_copy()))) {
        dispatch(auth_.credentials_changed());
        return;
    }
    if (call_.status == 409 && session_start) {
        dispatch(auth_.nonce_taken());
        return;
    }
    if (call_.status == 404) {
        respond_device_gone();
        return;
    }
    backend_failed(backend_reason("exchange", call_.status));
}

// Tell the backend about the commands that can never be sent, and ask it
// for as many others as there is room for.
void exchange::ask_failed(std::vector<failed_report> failed)
{
    // A backend that hands the same commands out again would loop here.
    if (++queue_.failed_rounds > k_max_failed_rounds) {
        backend_failed("backend hands out again commands reported failed");
        return;
    }
    const auto &kept = queue_.cmds;
    bool abort = std::any_of(kept.begin(), kept.end(), is_session_abort);
    unsigned max = !abort && ctx_.cf.max_commands > kept.size()
                       ? ctx_.cf.max_commands - (unsigned) kept.size()
                       : 0;
    if (!device_done() || device_aborted(msg_)) max = 0;
    ask(op::exchange, "exchange",
        to_json(requests_.failed(std::move(failed), max)));
}

// Whether this answer may carry commands at all (§3.2, §3.3).
bool exchange::commands_go_out() const
{
    if (device_aborted(msg_) || !device_done() || ctx_.st.receiving)
        return false;
    return std::none_of(queue_.cmds.begin(), queue_.cmds.end(),
                        is_session_abort);
}

// The answer, once the commands are known.  A large object first in line
// starts; the bytes of its next chunk come from the backend ("object") or
// from its segments.
void exchange::answer()
{
    auto &kept = queue_.cmds;
    bool session_start = !ctx_.st.authenticated;
    if (commands_go_out() && !outgoing_.sending() && !kept.empty()
        && outgoing_.is_large(kept.front(), session_start)) {
        std::string id = kept.front().id;
        bool stored = outgoing_.start(kept.front());
        kept.erase(kept.begin());
        if (!stored) {
            ask_failed({{id, "the object zone has no room for the large "
                             "object"}});
            return;
        }
    }
    if (!commands_go_out() || !outgoing_.sending() || !ctx_.st.outgoing.acked) {
        respond_authenticated();
        return;
    }
    auto piece = outgoing_.next_piece();
    if (!piece.fetch.empty()) {
        ask(op::object, "object", std::move(piece.fetch));
        return;
    }
    if (piece.lost) {
        std::string id = ctx_.st.outgoing.command_id;
        outgoing_.end();
        ask_failed({{id, "the large object was evicted from the object "
                         "zone"}});
        return;
    }
    respond_authenticated();
}

void exchange::on_object()
{
    if (call_.status == 0 || call_.status >= 500) {
        backend_failed(backend_reason("object", call_.status));
        return;
    }
    std::string why = outgoing_.on_piece(call_.status, call_.answer);
    if (why.empty()) {
        respond_authenticated();
        return;
    }
    // Not a passing failure: asking again would get the same.  The object
    // fails to the backend, and the answer goes on without it.
    std::string id = ctx_.st.outgoing.command_id;
    outgoing_.end();
    ask_failed({{id, why}});
}

// ---- answers -----------------------------------------------------------------

void exchange::respond_text(int status, std::string reason)
{
    out_.body = std::move(reason);
    out_.body.push_back('\n');
    out_.http_status = status;
    out_.content_type = k_text_type;
    state_ = state::responded;
}

void exchange::respond_syncml(std::string body)
{
    out_.body = std::move(body);
    out_.http_status = 200;
    out_.content_type = content_type(ctx_.enc);
    state_ = state::responded;
}

void exchange::backend_failed(std::string reason)
{
    // Nothing is stored: the device retries and finds the state as it was.
    auth_.abandon();
    if (verdict_ == verdict::none) verdict_ = verdict::undecided;
    error_ = reason;
    respond_text(503, std::move(reason));
}

void exchange::respond_authenticated()
{
    session_state &st = ctx_.st;
    const auto &kept = queue_.cmds;
    bool session_start = !st.authenticated;
    if (session_start) {
        // A session starts here, with a token nobody has seen before.
        st.token = hex(random_nonce());
        st.authenticated = true;
        verdict_ = verdict::ok;
    }
    auth_.admit(st, session_start);
    message m = reply_.authenticated_head(session_start);
    unsigned n = 2;
    reply_.add_statuses(m, "200", n);
    for (const auto &key : answers_.answered) st.outstanding.erase(key);

    // A session abort (Alert 1223) goes alone after the Statuses and ends
    // the session (§3.2); the answer to the device's own abort carries no
    // command at all (the backend was asked for none).  A command of the
    // answer left out gets no Status: it is queued again at the device's
    // next session start.
    bool device_abort = device_aborted(msg_);
    // The device's package goes on (no Final, or a large object not
    // complete): Statuses and Alert 1222, no command, no Final (§3.3);
    // what we have waits for its last message.
    bool device_more = (!device_done() || st.receiving) && !device_abort;
    auto abort = std::find_if(kept.begin(), kept.end(), is_session_abort);
    bool chunk_sent = false;
    st.pending.clear();
    if (device_abort) {
        // Statuses only
    } else if (device_more) {
        command a;
        a.name = "Alert";
        a.cmd_id = std::to_string(n++);
        a.data = "1222";
        m.body.push_back(std::move(a));
        st.pending = kept;
    } else if (abort != kept.end()) {
        m.body.push_back(to_syncml(*abort, m.hdr.msg_id, n, st.outstanding));
    } else if (st.sending) {
        // A large object goes alone, a chunk per message (see answer()).
        if (st.outgoing.acked) chunk_sent = outgoing_.add_chunk(m, n);
        st.pending = kept;
    } else {
        // Within the device's MaxMsgSize: the commands that fit, in order,
        // up to a large object (it starts the next message); the rest
        // wait in the session for its next message.
        size_t stop = 0;
        while (stop < kept.size()
               && !outgoing_.is_large(kept[stop], session_start))
            stop++;
        size_t sent = reply_.pack(m, n, kept, stop);
        st.pending.assign(kept.begin() + (long) sent, kept.end());
    }
    m.final = !device_more && st.pending.empty() && !st.sending;
    // our package stays open while we have more to send, whatever the
    // device's does
    st.package_open = !st.pending.empty() || st.sending;

    // Nothing asked: the device will not answer, so the session is over.
    // The state stays (ended) only so a lost answer can be resent.
    st.ended = device_abort || abort != kept.end()
               || (kept.empty() && !device_more && !chunk_sent && !st.sending);
    if (st.ended) st.pending.clear();
    if (st.ended && st.sending) outgoing_.end();
    persist(m);
}

void exchange::respond_device_gone()
{
    // The backend no longer knows the device: refuse what it sent and end
    // (and keep nothing for it, a failure count included).
    auth_.abandon();
    message m = reply_.device_gone();
    if (!ctx_.st.authenticated) verdict_ = verdict::failed;
    error_ = "backend: unknown device";
    ctx_.st.ended = true;
    persist(m);
}

void exchange::persist(const message &m)
{
    session_state &st = ctx_.st;
    std::string body = encode_message(m, ctx_.enc);
    out_.hmac = auth_.sign(body);
    st.last_response_hmac = out_.hmac;

    st.server_msg_id += 1;
    st.last_device_msg_id = msg_.hdr.msg_id;
    segments_.flush();
    segments_.keep_alive(st);
    // Anyone can send unauthenticated messages: they make us keep nothing
    // (a repeat is answered afresh), and a session whose owner failed to
    // authenticate again ends.
    std::string key = session_key(ctx_.device_id(), ctx_.session_id());
    if (st.authenticated) {
        st.last_request_print = message_print();
        st.last_request_bytes_print
            = prints_bytes(ctx_.cf, ctx_.enc)
                  ? bytes_print(token_, ctx_.enc, body_)
                  : std::string();
        st.last_response = body;
        if (!sessions_.put(key, serialize(st), ctx_.cf.session_ttl)) {
            // Answer anyway: a lost session only costs a re-authentication.
            error_ = "session store full: session state not kept";
        }
    } else if (owns_session_) {
        sessions_.remove(key);
    }
    if (!auth_.commit()) {
        error_ += error_.empty() ? "" : "; ";
        error_ += "session store full: failure count not kept";
    }
    respond_syncml(std::move(body));
}

}  // namespace omadm
