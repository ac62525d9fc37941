// The module<->backend JSON contract (docs/backend-api.md): request bodies
// the engine sends and the answers it accepts.  Nothing here knows SyncML.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace omadm {

struct alert_item {
    std::string source, target, type, format, mark, data;
};

struct device_alert {
    std::string code;
    std::string correlator;
    std::vector<alert_item> items;
};

// An Item of a device's Status: the answer to a user-interaction alert
// (the text typed, the number of a selected choice).
struct status_item {
    std::string source, target, data;
};

struct status_report {
    std::string command_id;  // backend id
    int status = 0;
    std::vector<status_item> items;  // "items", omitted when empty
};

struct result_report {
    std::string command_id;  // backend id
    std::string source, format, type, data;
};

// A command the server could not send (it alone exceeds the device's
// MaxMsgSize): failed, with an operator-facing reason.
struct failed_report {
    std::string command_id;  // backend id
    std::string reason;
};

struct exchange_request {
    std::string device_id, session_id, msg_id;
    bool session_start = false;
    std::string used_nonce;  // base64; sent only when not empty
    std::string next_nonce;  // base64; sent only when not empty
    // the auth_reply::credential_version this message was verified
    // against; sent only when not empty
    std::string credential_version;
    std::map<std::string, std::string> devinfo;  // omitted when empty
    std::vector<device_alert> alerts;
    std::vector<status_report> statuses;
    std::vector<result_report> results;
    unsigned max_commands = 0;
    // server authentication: the nonce the device issued for the server's
    // next Cred (its Chal on our SyncHdr), and the backend ids of commands
    // the device refused with our message (back to queued); omitted empty
    std::string server_next_nonce;
    std::vector<std::string> requeue;
    std::vector<failed_report> failed;  // "failed", omitted when empty
};

// Request bodies; throw only std::bad_alloc.  Bytes that are not UTF-8
// (a decoded Basic user name may be anything) are replaced, not thrown on.
std::string auth_request(std::string_view device_id, std::string_view username);
std::string nonce_request(std::string_view device_id,
                          std::string_view nonce_b64);
std::string to_json(const exchange_request &r);

// 200 answer of "auth".
struct auth_reply {
    std::string username;
    std::string inner;
    std::string nonce;  // base64, "" when none was ever issued
    // Nonces this device was issued before `nonce`, newest first: a digest
    // made with one of them is stale, not wrong (see exchange::on_auth).
    std::vector<std::string> previous_nonces;
    // The server's own credentials toward this device (all optional):
    // its name, B64(MD5(name ":" secret)), the Basic credential
    // B64(name ":" secret), and the nonce the device last issued to it.
    std::string server_username, server_inner, server_basic, server_nonce;
    // Contract version 2: tags the credentials (not the nonces); an
    // exchange that carries it is refused when they changed since.  ""
    // from an older backend: such a record is never kept.
    std::string credential_version;
};

// An auth_reply as the auth answer's JSON (what the credential cache
// keeps); parse_auth_reply() reads it back.
std::string to_json(const auth_reply &r);

// More previous nonces than this in an auth answer is a backend bug: each
// one costs an MD5 on every failed credential.
constexpr size_t max_previous_nonces = 16;
// It is copied into every exchange request and every kept record.
constexpr size_t max_credential_version = 256;

// The verbs a backend may hand out (docs/backend-api.md), each the SyncML
// command of that name.
enum class verb {
    get,
    replace,
    add,
    delete_,
    exec,
    copy,
    alert,
    atomic,
    sequence
};

// The SyncML element name ("Get", ...); false from verb_of for another.
const char *verb_name(verb v);
bool verb_of(std::string_view name, verb &out);
// Atomic and Sequence hold nested commands.
constexpr bool is_container(verb v)
{
    return v == verb::atomic || v == verb::sequence;
}
// Add and Replace carry a value that may go out as a large object.
constexpr bool carries_value(verb v)
{
    return v == verb::add || v == verb::replace;
}

// One command of a 200 answer of "exchange" (a tree: Atomic and Sequence
// hold their nested commands, each with its own id).  Commands not sent yet
// wait in the session state as these values (backend/command_json.hpp).
struct backend_command {
    std::string id;
    omadm::verb verb = verb::get;
    std::string target, data, format, type, correlator;
    std::string source;                     // Copy
    std::string options, text;              // Alert: Item 1, Item 2
    std::vector<std::string> choices;       // Alert: Items 3+
    std::vector<backend_command> commands;  // Atomic, Sequence
    // Add / Replace: a value too large to hand out inline, fetched in
    // pieces with the "object" call (`data` is then empty)
    bool has_data_size = false;
    unsigned long long data_size = 0;
};

// Bounds of a container tree (docs/backend-api.md): nesting of Atomic /
// Sequence, and nested commands under one top-level command.
constexpr unsigned max_container_depth = 4;
constexpr unsigned max_nested_commands = 100;

// "backend <op> unreachable" (status 0) / "... answered <status>"
std::string backend_reason(const char *op, int status);

// The server-initiated session abort, Alert 1223 (§3.2).
bool is_session_abort(const backend_command &c);

// False with why set (an operator-facing reason, no secrets) when the body
// is not the JSON the contract describes.
bool parse_auth_reply(std::string_view body, auth_reply &out, std::string &why);
// 200 answer of "nonce": the nonce the device holds now, which the
// challenge carries ("" when the backend does not say: it stored ours).
// False when it is there but not the base64 of 1 to 64 bytes.
bool parse_nonce_reply(std::string_view body, std::string &nonce_b64,
                       std::string &why);
// The same, and the device's credential record when the answer carries one
// (contract version 2: "credentials", shaped as the auth answer); has_record
// is false without one.
bool parse_nonce_reply(std::string_view body, std::string &nonce_b64,
                       auth_reply &record, bool &has_record, std::string &why);
// The exchange's 409 that says the credential_version is out of date
// (any other 409 is the nonce's).
bool says_credentials_changed(std::string_view body);
bool parse_exchange_reply(std::string_view body,
                          std::vector<backend_command> &out, std::string &why);

// The "object" call: a piece of a command's value from `offset`, at most
// `length` bytes; the answer's data ends on a UTF-8 character boundary.
std::string object_request(std::string_view device_id,
                           std::string_view command_id,
                           unsigned long long offset,
                           unsigned long long length);
bool parse_object_reply(std::string_view body, std::string &data,
                        unsigned long long &size, std::string &why);

}  // namespace omadm
