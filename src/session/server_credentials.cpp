#include "session/server_credentials.hpp"

#include "auth/hmac_auth.hpp"
#include "common/text.hpp"

namespace omadm {

device_verdict_on_us read_hdr_status(const message &msg)
{
    device_verdict_on_us v;
    for (const auto &c : msg.body) {
        if (c.name != "Status" || trim(c.cmd_ref) != "0") continue;
        if (!parse_code(c.data, v.code)) v.code = 0;
        if (c.has_chal && !trim(c.chal.next_nonce).empty())
            v.chal = nonce::from_b64(trim(c.chal.next_nonce));
        break;
    }
    return v;
}

server_credentials::server_credentials(const exchange_context &ctx)
    : ctx_(ctx), said_(read_hdr_status(ctx.msg))
{
}

void server_credentials::accept_if_taken(session_state &st) const
{
    if (said_.code == 212 && st.server_cred_sent)
        st.server_authenticated = true;
}

bool server_credentials::needed(const session_state &st) const
{
    return ctx_.cf.server_auth != 0 && !st.server_authenticated;
}

void server_credentials::take(const auth_reply &r, session_state &st)
{
    user_ = r.server_username.empty() ? ctx_.server_id : r.server_username;
    inner_ = r.server_inner;
    basic_ = r.server_basic;
    if (st.server_nonce.empty())
        st.server_nonce = nonce::from_b64(r.server_nonce);
}

void server_credentials::add_cred(message &m, session_state &st) const
{
    st.server_cred_sent = false;
    if (ctx_.cf.server_auth == 0 || st.server_authenticated) return;
    cred c;
    c.meta.format = "b64";
    if (ctx_.cf.server_auth == OMADM_AUTH_BASIC) {
        if (basic_.empty()) return;
        c.meta.type = cred_type(auth_scheme::basic);
        c.data = basic_;
    } else {
        if (inner_.empty()) return;
        c.meta.type = cred_type(auth_scheme::md5);
        c.data = st.server_nonce.md5_digest(inner_);
    }
    m.hdr.has_cred = true;
    m.hdr.cred = std::move(c);
    m.hdr.source_name = user_;
    st.server_cred_sent = true;
}

std::string server_credentials::sign(std::string_view body,
                                     const session_state &st) const
{
    if (inner_.empty()) return {};
    return hmac_header_value(user_, st.server_nonce.mac(inner_, body));
}

}  // namespace omadm
