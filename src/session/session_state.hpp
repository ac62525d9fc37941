// What the engine keeps between two device messages, in the shared store:
// the per-session record (compact binary, the session's last response
// deflated) and the per-device auth-failure counter (JSON), serialized so
// the store stays an opaque byte map.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/nonce.hpp"
#include "auth/scheme.hpp"
#include "backend/contract.hpp"

namespace omadm {

// A device's large object arriving in chunks (§3.3): the bytes so far
// wait in the object store, in segments (exchange_objects.cpp).  The
// counts are those a stored answer acknowledged, so a retried message
// stores its chunk once.
struct incoming_object {
    std::string command_id;  // backend id of the Get answered
    std::string source;      // Item Source LocURI
    std::string format, type;
    unsigned long long declared = 0;  // Meta/Size; 0: not given
    unsigned long long received = 0;
    int get_status = 0;   // the Get's Status, held until the end
    unsigned serial = 0;  // names its segments
    unsigned segments = 0;
    unsigned long long tail = 0;  // bytes in the last segment
};

// One of our commands going out as a large object, chunk by chunk.
struct outgoing_object {
    backend_command command;  // as the backend gave it, without its data
    std::string command_id;
    unsigned long long size = 0;  // bytes of its data
    unsigned long long sent = 0;  // bytes sent in earlier chunks
    std::string chunk_key;        // "<MsgID>:<CmdID>" of the chunk whose
                                  // Status 213 is awaited
    bool acked = false;           // the device took that chunk
    bool fetch = false;           // the value comes in pieces from the
                                  // backend ("object"), else from its
                                  // segments in the object store
    unsigned serial = 0;          // names those segments
    unsigned stalled = 0;         // messages in a row without room for
                                  // a chunk
};

// Only an authenticated session is kept: the message that authenticates
// starts it afresh and mints its token, so nothing an unauthenticated
// sender did before can reach it.
struct session_state {
    std::string token;  // RespURI "s" value, 32 hex chars
    bool authenticated = false;
    unsigned long server_msg_id = 0;  // MsgID of our last message
    std::string last_device_msg_id;
    std::string last_request_print;  // ... and what it said (message_print)
    std::string last_request_bytes_print;  // ... and its bytes (bytes_print)
    std::string last_response;       // our last message, resent on repeat
    // "<server MsgID>:<CmdID>" -> backend command id, until answered
    std::map<std::string, std::string> outstanding;
    bool ended = false;  // kept only to answer a repeat
    // authentication (exchange_auth.cpp); nonces are base64, not secrets
    auth_scheme scheme = auth_scheme::none;  // hmac: every message has a MAC
    omadm::nonce mac_nonce;                  // the nonce those MACs use
    std::string username;                    // the device's registered name
    bool server_authenticated = false;       // the device said 212
    bool server_cred_sent = false;           // in our last message
    unsigned server_resends = 0;     // after the device refused our Cred
    omadm::nonce server_nonce;       // the latest the device issued us
    std::string last_response_hmac;  // x-syncml-hmac of last_response
    // packages (§3.3): the device's MaxMsgSize (0: none declared), and the
    // commands handed out by the backend that did not fit in our messages
    // yet, in order; sent before any new command
    unsigned long device_max_msg_size = 0;
    std::vector<backend_command> pending;
    // "<server MsgID>:<CmdID>" of a Get -> its Status code, held while the
    // device's package goes on: its Results may follow in a later message,
    // and the backend takes none after a command's Status
    std::map<std::string, int> held;
    // our last message left Final out to send more (pending or a large
    // object): the device answers it without Final (§3.3)
    bool package_open = false;
    // large objects (exchange_objects.cpp); the device's MaxObjSize (0:
    // none declared)
    unsigned long long device_max_obj_size = 0;
    unsigned object_serial = 0;  // objects so far, both ways
    bool receiving = false;
    incoming_object incoming;
    bool sending = false;
    outgoing_object outgoing;
};

struct auth_failures {
    unsigned count = 0;
    long long window_start = 0;  // time_t of the first failure counted
};

// Throws only std::bad_alloc.
std::string serialize(const session_state &s);
std::string serialize(const auth_failures &f);

// The first fields of a record: enough to tell whether a message may be
// a resend of the last one, without reading the rest.
struct record_head {
    bool authenticated = false;
    bool ended = false;
    std::string last_device_msg_id;
    std::string last_request_bytes_print;
};
bool peek(std::string_view blob, record_head &out);

// What a session record says, as JSON (the last response after a NUL),
// for tests and tools.  Throws only std::bad_alloc.
std::string describe(const session_state &s);

// False (out unspecified) when the blob is not what serialize() wrote
// (a JSON blob of the module before this one included); the caller then
// treats it as absent.
bool deserialize(std::string_view blob, session_state &out);
bool deserialize(std::string_view blob, auth_failures &out);

}  // namespace omadm
