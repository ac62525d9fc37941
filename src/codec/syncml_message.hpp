// The SyncML DM message as value types: what the decoder produces and the
// encoder consumes.  Field names follow the SyncML elements; an absent
// optional element is an empty string (SyncML gives no meaning to an
// empty element where these are used).
#pragma once

#include <string>
#include <vector>

namespace omadm {

enum class syncml_version { v1_1, v1_2, unsupported };

struct meta {
    std::string type;        // syncml:metinf Type
    std::string format;      // Format
    std::string mark;        // Mark
    std::string size;        // Size (large objects)
    std::string next_nonce;  // NextNonce (in Chal)
    std::string max_msg_size;
    std::string max_obj_size;

    bool empty() const
    {
        return type.empty() && format.empty() && mark.empty() && size.empty()
               && next_nonce.empty() && max_msg_size.empty()
               && max_obj_size.empty();
    }
};

struct item {
    std::string target;  // Target/LocURI
    std::string source;  // Source/LocURI
    omadm::meta meta;
    std::string data;  // Data, unescaped text
    bool more_data = false;
};

struct cred {
    omadm::meta meta;  // Type, Format
    std::string data;
};

// Any body command: Alert, Add, Replace, Delete, Get, Exec, Copy, Results,
// Status, Atomic, Sequence (children in `commands`).
struct command {
    std::string name;    // element name: "Alert", "Status", ...
    std::string cmd_id;  // CmdID as sent (a string: clients use any text)
    bool no_resp = false;
    omadm::meta meta;
    std::string data;  // Alert code, Status code
    std::string correlator;
    // Status / Results only
    std::string msg_ref;
    std::string cmd_ref;
    std::string cmd;  // Status/Cmd
    std::vector<std::string> target_refs;
    std::vector<std::string> source_refs;
    bool has_chal = false;
    omadm::meta chal;  // Status/Chal/Meta
    std::vector<item> items;
    std::vector<command> commands;  // Atomic / Sequence children
};

struct header {
    std::string ver_dtd;
    std::string ver_proto;
    std::string session_id;
    std::string msg_id;
    std::string target;  // Target/LocURI
    std::string target_name;
    std::string source;       // Source/LocURI
    std::string source_name;  // Source/LocName
    std::string resp_uri;
    bool has_cred = false;
    omadm::cred cred;
    omadm::meta meta;  // MaxMsgSize, MaxObjSize
};

struct message {
    syncml_version version = syncml_version::unsupported;
    header hdr;
    std::vector<command> body;
    bool final = false;
};

}  // namespace omadm
