#include "device.hpp"

#include <algorithm>
#include <cstdlib>

#include "auth/base64.hpp"
#include "auth/hmac_auth.hpp"
#include "auth/md5_auth.hpp"
#include "codec/xml_decoder.hpp"
#include "verify.hpp"

namespace sim {

namespace {

const char content_type[] = "application/vnd.syncml.dm+xml";

long elapsed_us(clock::time_point since)
{
    return long(std::chrono::duration_cast<std::chrono::microseconds>(
                    clock::now() - since).count());
}

uint32_t clamp_us(long us)
{
    return uint32_t(std::min<long>(std::max<long>(us, 0), UINT32_MAX));
}

}  // namespace

device::device(run_context &ctx, device_identity who, done_fn on_done)
    : ctx_(ctx), who_(std::move(who)), on_done_(std::move(on_done)),
      inner_(omadm::md5_inner(who_.username, who_.password)),
      conn_(ctx.loop, ctx.server, ctx.tls, *this)
{
    timer_.fire = [this] { on_timer(); };
}

void device::start_session()
{
    busy_ = true;
    attempts_ = 0;
    session_start_ = clock::now();
    if (ctx_.opt.tree && sessions_begun_++ == 0) {
        tree_ = ctx_.opt.nodes;
    } else if (ctx_.opt.tree) {
        // somebody changed these on the device since its last session
        for (const auto &[uri, value] : ctx_.opt.drift) {
            tree_[uri] = value;
        }
    }
    begin_attempt();
}

void device::begin_attempt()
{
    session_id_ = ctx_.run_tag + std::to_string(++session_seq_);
    msg_id_ = 0;
    target_uri_ = ctx_.opt.url;
    path_ = ctx_.base.target;
    authed_ = false;
    challenges_ = 0;
    answers_.clear();
    send_package1(false);
}

device_header device::header(bool with_cred) const
{
    device_header h;
    h.session_id = session_id_;
    h.msg_id = msg_id_;
    h.target_uri = target_uri_;
    h.device_id = who_.id;
    if (!ctx_.opt.no_locname) {
        h.username = who_.username;
    }
    if (!with_cred) {
        return h;
    }
    if (ctx_.opt.auth == auth_scheme::basic) {
        h.cred_type = "syncml:auth-basic";
        h.cred_data = omadm::basic_credential(who_.username, who_.password);
    } else if (ctx_.opt.auth == auth_scheme::md5 && has_nonce_) {
        // no nonce yet: send none and take the server's challenge
        h.cred_type = "syncml:auth-md5";
        h.cred_data = omadm::md5_digest(inner_, nonce_);
    }
    return h;
}

void device::send_package1(bool with_status)
{
    msg_id_++;
    static const devinfo info;
    post(package1(header(true), info, with_status ? &last_ : nullptr,
                  ctx_.opt.login_status));
}

void device::send_answer()
{
    msg_id_++;
    post(answer_message(header(false), last_, answers_, !last_.final));
}

void device::post(const std::string &xml)
{
    ctx_.st.messages++;
    sent_at_ = clock::now();
    waiting_ = wait::timeout;
    ctx_.loop.arm(timer_, sent_at_
                  + std::chrono::milliseconds(ctx_.opt.timeout_ms));
    conn_.send(format_post(path_, ctx_.server.authority, content_type, xml,
                           hmac_header(xml)));
}

std::string device::hmac_header(const std::string &body) const
{
    // Every message is signed with the latest nonce (each answer of an HMAC
    // session carries the next one); without a nonce the first
    // message goes unsigned and takes the server's auth-MAC challenge.
    if (ctx_.opt.auth != auth_scheme::hmac || !has_nonce_) {
        return "";
    }
    return "x-syncml-hmac: "
           + omadm::hmac_header_value(who_.username,
                                      omadm::hmac_mac(inner_, nonce_, body))
           + "\r\n";
}

void device::on_timer()
{
    wait w = waiting_;
    waiting_ = wait::none;
    switch (w) {
    case wait::none:
        return;
    case wait::timeout:
        conn_.close();
        attempt_failed("timeout");
        return;
    case wait::retry:
        begin_attempt();
        return;
    case wait::slow:
        send_answer();
        return;
    }
}

void device::on_failure(const std::string &kind)
{
    ctx_.loop.disarm(timer_);
    waiting_ = wait::none;
    attempt_failed(kind);
}

void device::on_response(http_response &r)
{
    ctx_.loop.disarm(timer_);
    waiting_ = wait::none;
    ctx_.st.message_us.push_back(clamp_us(elapsed_us(sent_at_)));
    ctx_.st.http_status[r.status]++;
    if (r.status != 200) {
        long delay = -1;
        std::string ra = r.header("retry-after");
        if ((r.status == 503 || r.status == 429) && !ra.empty()) {
            char *end = nullptr;
            long secs = std::strtol(ra.c_str(), &end, 10);
            if (*end == '\0' && secs >= 0) {
                delay = std::min<long>(secs, 86400) * 1000;
            }
        }
        attempt_failed("http_" + std::to_string(r.status), delay);
        return;
    }
    omadm::message m;
    omadm::parse_error err;
    if (!omadm::parse_syncml(r.body, omadm_limits_t{}, m, err)) {
        attempt_failed("syncml_parse");
        return;
    }
    handle(std::move(m));
}

void device::handle(omadm::message &&m)
{
    last_ = std::move(m);
    answers_.clear();
    if (!last_.hdr.resp_uri.empty()) {
        url u;
        if (parse_url(last_.hdr.resp_uri, u)) {
            target_uri_ = last_.hdr.resp_uri;
            path_ = u.target;
        }
    }
    const omadm::command *hs = header_status(last_);
    if (hs == nullptr) {
        attempt_failed("syncml_no_status");
        return;
    }
    // a device keeps the newest nonce, also one from a challenge
    if (hs->has_chal && !hs->chal.next_nonce.empty()) {
        std::string bytes;
        if (omadm::base64_decode(hs->chal.next_nonce, bytes)) {
            nonce_ = bytes;
            has_nonce_ = true;
        }
    }
    const std::string &code = hs->data;
    if (code == "401" || code == "407") {
        // Logged in, then challenged: this server does not know the
        // session (its node died, or its zone evicted it).  Start over as
        // a new session with the challenge's nonce, as a device does.
        if (authed_) {
            attempt_failed("session_lost_" + code);
            return;
        }
        // a stale nonce or none: answer the challenge, at most twice
        if (++challenges_ > 2) {
            session_failed("auth_" + code);
            return;
        }
        send_package1(true);
        return;
    }
    if (code == "212" || code == "200") {
        authed_ = true;
    } else if (!code.empty() && code[0] == '5') {
        attempt_failed("syncml_" + code);
        return;
    } else {
        session_failed("syncml_" + code);
        return;
    }

    bool slow = false;
    for (const omadm::command *c : commands_to_answer(last_)) {
        std::string target = c->items.empty() ? "" : c->items[0].target;
        outcome o = decide_outcome(ctx_.opt.mix, ctx_.opt.seed, who_.id,
                                   target);
        // containers and alerts are acknowledged; only node commands vary
        if (c->name == "Atomic" || c->name == "Sequence" || c->name == "Alert"
            || target.empty())
        {
            o = outcome{outcome_kind::ok, 200, ""};
        } else if (!received_as_planned(c->name, target, c->items[0].data)) {
            ctx_.st.error("command_not_as_queued");
            o = outcome{outcome_kind::fail, 400, ""};
        } else if (ctx_.opt.tree) {
            o = tree_outcome(*c, target);
        }
        slow = slow || o.kind == outcome_kind::slow;
        answers_.push_back(command_answer{c, target, o});
    }
    if (answers_.empty() && last_.final) {
        ctx_.st.sessions_completed++;
        ctx_.st.session_us.push_back(clamp_us(elapsed_us(session_start_)));
        finish(true);
        return;
    }
    if (slow && ctx_.opt.slow_ms > 0) {
        waiting_ = wait::slow;
        ctx_.loop.arm(timer_, clock::now()
                      + std::chrono::milliseconds(ctx_.opt.slow_ms));
        return;
    }
    send_answer();
}

// A node command on the device's DM tree: Get 200 with the value (404 when
// absent), Add 418 when the node exists, Replace stores, Delete removes
// (404 when absent), Exec 200; a --read-only node answers 405 to all but
// Get.  The tree changes as a device's would (an Atomic's children are
// carried out one by one, not rolled back).
outcome device::tree_outcome(const omadm::command &c,
                             const std::string &target)
{
    auto it = tree_.find(target);
    bool exists = it != tree_.end();
    if (c.name == "Get") {
        return exists ? outcome{outcome_kind::ok, 200, it->second}
                      : outcome{outcome_kind::notfound, 404, ""};
    }
    if (c.name == "Exec") {
        return outcome{outcome_kind::ok, 200, ""};
    }
    if (ctx_.opt.read_only.count(target)) {
        return outcome{outcome_kind::fail, 405, ""};
    }
    if (c.name == "Add" && exists) {
        return outcome{outcome_kind::fail, 418, ""};
    }
    if (c.name == "Add" || c.name == "Replace") {
        tree_[target] = c.items.empty() ? "" : c.items[0].data;
        return outcome{outcome_kind::ok, 200, ""};
    }
    if (c.name == "Delete") {
        if (!exists) {
            return outcome{outcome_kind::notfound, 404, ""};
        }
        tree_.erase(it);
        return outcome{outcome_kind::ok, 200, ""};
    }
    return outcome{outcome_kind::ok, 200, ""};
}

void device::attempt_failed(const std::string &kind, long delay_ms)
{
    ctx_.st.error(kind);
    if (++attempts_ > ctx_.opt.retries) {
        ctx_.st.sessions_failed++;
        finish(false);
        return;
    }
    ctx_.st.session_retries++;
    long cap = long(ctx_.opt.retry_cap_ms);
    uint64_t h = stable_hash(ctx_.opt.seed, who_.id,
                             "retry" + std::to_string(session_seq_));
    if (delay_ms < 0) {
        // exponential backoff from 100 ms, with jitter in [d/2, d)
        long d = std::min<long>(cap, 100L << std::min(attempts_ - 1, 16u));
        delay_ms = d / 2 + (d > 1 ? long(h % uint64_t(d / 2 + 1)) : 0);
    } else {
        // Retry-After, spread over 10% more so retries do not come in step
        delay_ms += long(h % uint64_t(delay_ms / 10 + 1));
    }
    waiting_ = wait::retry;
    ctx_.loop.arm(timer_, clock::now()
                  + std::chrono::milliseconds(std::min(delay_ms, cap)));
}

void device::session_failed(const std::string &kind)
{
    ctx_.st.error(kind);
    ctx_.st.sessions_failed++;
    finish(false);
}

void device::finish(bool ok)
{
    busy_ = false;
    waiting_ = wait::none;
    ctx_.loop.disarm(timer_);
    // The session's messages are not needed past its end (the next one
    // starts from package 1); only a device with sessions left keeps its
    // connection.  on_done_ may start the next session at once.
    last_ = omadm::message{};
    std::vector<command_answer>().swap(answers_);
    if (remaining == 0) {
        conn_.retire();
    } else {
        conn_.release_buffers();
    }
    on_done_(*this, ok);
}

}  // namespace sim
