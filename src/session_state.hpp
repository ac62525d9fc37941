// What the engine keeps between two device messages, in the shared store:
// the per-session blob and the per-device auth-failure counter, serialized
// (JSON, the session's last response appended raw) so the store stays an
// opaque byte map.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace omadm {

struct session_state {
    std::string token;              // RespURI "s" value, 32 hex chars
    bool        authenticated = false;
    unsigned long server_msg_id = 0;  // MsgID of our last message
    std::string last_device_msg_id;
    std::string last_response;      // our last message, resent on repeat
    // "<server MsgID>:<CmdID>" -> backend command id, until answered
    std::map<std::string, std::string> outstanding;
    bool        ended = false;      // kept only to answer a repeat
    // authentication (exchange_auth.cpp); nonces are base64, not secrets
    std::string scheme;             // "hmac": every message carries a MAC
    std::string mac_nonce;          // the nonce those MACs use
    std::string username;           // the device's registered name
    bool        server_authenticated = false;  // the device said 212
    bool        server_cred_sent = false;      // in our last message
    unsigned    server_resends = 0; // after the device refused our Cred
    std::string server_nonce;       // the latest the device issued us
    std::string last_response_hmac; // x-syncml-hmac of last_response
    // packages (§3.3): the device's MaxMsgSize (0: none declared), and the
    // commands handed out by the backend that did not fit in our messages
    // yet, as the backend's JSON, in order; sent before any new command
    unsigned long device_max_msg_size = 0;
    std::vector<std::string> pending;
};

struct auth_failures {
    unsigned  count = 0;
    long long window_start = 0;     // time_t of the first failure counted
};

std::string session_key(std::string_view device_id,
                        std::string_view session_id);
std::string failures_key(std::string_view device_id);

// Throws only std::bad_alloc.
std::string serialize(const session_state &s);
std::string serialize(const auth_failures &f);

// False (out unspecified) when the blob is not what serialize() wrote;
// the caller then treats it as absent.
bool deserialize(std::string_view blob, session_state &out);
bool deserialize(std::string_view blob, auth_failures &out);

}  // namespace omadm
