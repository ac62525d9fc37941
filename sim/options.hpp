// omadm-sim's command line: the fixed option set of docs/omadm-sim.md,
// parsed into one value.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "outcome.hpp"

namespace sim {

enum class auth_scheme { md5, basic, hmac };

struct options {
    std::string url;               // device endpoint
    std::string ca_file;           // https: trust anchors (required for https)
    std::string api;               // operator API base, .../api/v1
    std::string token_file;
    unsigned    devices = 10;
    unsigned    sessions = 1;      // successful sessions per device
    bool        sessions_given = false;
    unsigned    concurrency = 0;   // closed loop (0: = devices)
    double      rate = 0;          // open loop: session starts per second
    double      duration_s = 0;    // 0: run until every session is done
    auth_scheme auth = auth_scheme::md5;
    bool        no_locname = false;  // SyncHdr/Source without LocName
    uint64_t    seed = 1;
    std::string prefix = "sim";
    std::string devices_file;
    outcome_mix mix;
    unsigned    slow_ms = 2000;
    unsigned    verify = 0;        // commands queued per device
    unsigned    retries = 50;
    unsigned    retry_cap_ms = 5000;
    unsigned    timeout_ms = 30000;
    bool        json = false;
    bool        quiet = false;
    // --tree: each device holds a small DM tree that answers node commands
    // (Add/Replace/Get/Delete/Exec) instead of --mix
    bool        tree = false;
    std::map<std::string, std::string> nodes;   // --node URI=VALUE
    std::set<std::string> read_only;            // --read-only URI: 405
    std::map<std::string, std::string> drift;   // --drift URI=VALUE
    std::string login_status;   // --login-status: Alert 1224 in package 1
};

// Fills `out` from argv.  Returns false with a message in `err` on a
// usage error; `help` is set for --help.
bool parse_options(int argc, char **argv, options &out, std::string &err,
                   bool &help);

const char *usage_text();

}  // namespace sim
