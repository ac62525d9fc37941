// The SyncML messages a simulated device sends, built on the project's
// own message model and encoder (src/syncml_*.hpp).
#pragma once

#include <string>
#include <vector>

#include "outcome.hpp"
#include "codec/syncml_message.hpp"

namespace sim {

struct device_header {
    std::string session_id;
    unsigned    msg_id = 0;
    std::string target_uri;     // the server URL or its RespURI
    std::string device_id;
    std::string username;       // SyncHdr/Source/LocName; empty: none
    // Cred: empty type = none; "syncml:auth-md5" / "syncml:auth-basic"
    std::string cred_type;
    std::string cred_data;
};

struct devinfo {
    std::string man = "omadm-sim", mod = "SIM-1", dmv = "1.2", lang = "en-US";
};

// The answer to one server command, decided by the outcome function.
struct command_answer {
    const omadm::command *cmd;
    std::string           target;
    outcome               result;
};

// Package 1: [Status for the server's previous SyncHdr], Alert 1201,
// Replace of ./DevInfo/{DevId,Man,Mod,DmV,Lang}, Final.
// With `login_status` ("user", "others", "none"), an Alert 1224 (Meta/Type
// com.microsoft/MDM/LoginStatus) after the 1201.
std::string package1(const device_header &h, const devinfo &info,
                     const omadm::message *previous_server_message,
                     const std::string &login_status = "");

// Status for the server's SyncHdr, a Status per command (Atomic/Sequence
// children too), Results for every Get answered 200, Final.  With no
// answers and next_message, asks for the server's next message (1222).
std::string answer_message(const device_header &h,
                           const omadm::message &server,
                           const std::vector<command_answer> &answers,
                           bool next_message);

// The commands of a server message that need an answer, flattened
// (Atomic/Sequence first, then their children).
std::vector<const omadm::command *> commands_to_answer(const omadm::message &m);

// Status/Cmd == SyncHdr, nullptr when the message has none.
const omadm::command *header_status(const omadm::message &m);

}  // namespace sim
