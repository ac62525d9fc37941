// The server authenticating itself to the device (omadm_server_auth,
// protocol digest §5.2 "server->client", §5.3), and signing its answers
// to a device that uses syncml:auth-MAC.
//
// * Server Cred (md5 | basic): in the SyncHdr of every authenticated
//   answer until the device answers 212 on our SyncHdr.  MD5 uses the
//   nonce the device issued in its latest Chal (kept in the session, and
//   stored by the backend as server_next_nonce for the next session).
// * Signed answers: to a device that used x-syncml-hmac, an x-syncml-hmac
//   header made with the server's credentials (from the backend's auth
//   answer) and the nonce the device issued to the server; without server
//   credentials the answer is not signed (no secret to sign with).
#pragma once

#include <string>

#include "backend/contract.hpp"
#include "session/context.hpp"

namespace omadm {

// The device's Status on our last SyncHdr: 212 accepts our Cred for the
// session, 401/407 refuses our whole message; a Chal gives the nonce for
// our next Cred.
struct device_verdict_on_us {
    int code = 0;  // 0: none, or not a number
    nonce chal;    // its Chal's NextNonce, if any
};

device_verdict_on_us read_hdr_status(const message &msg);

class server_credentials {
public:
    explicit server_credentials(const exchange_context &ctx);

    // The device's Status on our SyncHdr, read once from its message.
    const device_verdict_on_us &device_said() const { return said_; }

    // A session loaded: a 212 accepts the Cred our last message carried.
    void accept_if_taken(session_state &st) const;
    // Whether this message needs the server's secrets from the backend.
    bool needed(const session_state &st) const;
    // From the backend's auth answer.
    void take(const auth_reply &r, session_state &st);

    // Our Cred into m's SyncHdr, when one is due (st.server_cred_sent
    // says whether it went).
    void add_cred(message &m, session_state &st) const;
    // The x-syncml-hmac value of our answer body, "" for none.
    std::string sign(std::string_view body, const session_state &st) const;

private:
    const exchange_context &ctx_;
    device_verdict_on_us said_;
    std::string user_, inner_, basic_;
};

}  // namespace omadm
