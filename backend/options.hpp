// Command line and secrets.
#pragma once

#include <string>

namespace omadm_backend {

struct Options {
    std::string host;
    int port = 0;  // 0: any free port (the one chosen is logged)
    std::string db_path;
    std::string token_file;
    std::string key_file;
    int threads = 8;
    int profile_recheck_hours = 24;  // verified settings read back again
    int profile_recheck_sessions = 0;  // ... and every Nth session (0: off)
    bool help = false;         // -h/--help: print usage, exit 0
    std::string admin_token;   // loaded by load_secrets()
    std::string contract_key;  // loaded by load_secrets()
};

// false with `error` set on a usage error.
bool parse_options(int argc, char **argv, Options &opt, std::string &error);

// OMADM_ADMIN_TOKEN / OMADM_CONTRACT_KEY when set and non-empty, else the
// first line of --token-file / --key-file. false with `error` set when a
// secret is missing or empty.
bool load_secrets(Options &opt, std::string &error);

const char *usage();

}  // namespace omadm_backend
