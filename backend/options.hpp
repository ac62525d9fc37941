// Command line and secrets.
#pragma once

#include "db.hpp"
#include "enrollment_options.hpp"
#include "listen_address.hpp"

#include <optional>
#include <string>

namespace omadm_backend {

struct Options {
    // The operator API, and the contract unless it has a listener of its
    // own (a port 0 becomes the one chosen, which is logged).
    ListenAddress listen;
    std::optional<ListenAddress> contract_listen;
    // --database (--db): a SQLite file (":memory:": tests only, nothing is
    // kept) or a PostgreSQL URL.
    DatabaseTarget database;
    bool have_database = false;
    std::string token_file;
    std::string key_file;
    // Read-only operator tokens (--viewer-token-file, OMADM_VIEWER_TOKEN):
    // optional; "" when none.  The console's static files (--console-dir):
    // "" when not served.
    std::string viewer_token_file;
    std::string console_dir;
    // Per listener: connections served at once (each holds a thread while
    // it is open; more wait), and TCP connections one client address may
    // hold open (more are refused), so that one client never holds all.
    // Per connection nginx keeps to us idle (its workers x upstream
    // keepalive) one thread, plus one per call in flight.
    int threads = 128;
    int max_client_connections = 32;
    // Seconds a request may take to send its headers, and then its body.
    int header_timeout = 10;
    int body_timeout = 60;
    // Seconds an idle keep-alive connection stays open (and its thread).
    int keepalive_timeout = 10;
    EnrollmentOptions enrollment;
    int profile_recheck_hours = 24;  // verified settings read back again
    int profile_recheck_sessions = 0;  // ... and every Nth session (0: off)
    // The contract's shapes (docs/backend-api.md): 2 hands out the
    // credential record with `nonce` and checks `credential_version`; 1
    // answers as backends written before it did (for testing the module's
    // fallback, and for comparing call counts).
    int contract_version = 2;
    bool help = false;         // -h/--help: print usage, exit 0
    std::string admin_token;   // loaded by load_secrets()
    std::string contract_key;  // loaded by load_secrets()
    std::string viewer_token;  // loaded by load_secrets(); "" when none
};

// false with `error` set on a usage error.
bool parse_options(int argc, char **argv, Options &opt, std::string &error);

// OMADM_ADMIN_TOKEN / OMADM_CONTRACT_KEY when set and non-empty, else the
// first line of --token-file / --key-file. false with `error` set when a
// secret is missing or empty.
bool load_secrets(Options &opt, std::string &error);

const char *usage();

}  // namespace omadm_backend
