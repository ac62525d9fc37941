#include "options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace omadm_backend {

namespace {

bool parse_int(const std::string &s, int lo, int hi, int &out)
{
    if (s.empty() || s.size() > 9
        || s.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    int v = std::atoi(s.c_str());
    if (v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

// Trailing whitespace (the newline an editor or `echo` adds) is not part of
// a secret.
std::string trim_right(std::string s)
{
    s.erase(s.find_last_not_of(" \t\r\n") + 1);
    return s;
}

bool load_one(const char *env, const std::string &file, const char *what,
              const char *flag, std::string &out, std::string &error)
{
    const char *e = std::getenv(env);
    if (e && *e) {
        out = trim_right(e);
    } else if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
            error = std::string("cannot read ") + what + " file \"" + file
                    + "\": " + std::strerror(errno);
            return false;
        }
        std::getline(in, out);
        out = trim_right(out);
    }
    if (out.empty()) {
        error = std::string("no ") + what + ": set " + env + " or give " + flag
                + " a file holding it (non-empty)";
        return false;
    }
    return true;
}

}  // namespace

// The numeric options: name, where it goes, range.
struct NumberOption {
    const char *name;
    int Options::*field;
    int lo;
    int hi;
};

constexpr NumberOption number_options[] = {
    {"--threads", &Options::threads, 1, 1024},
    {"--max-client-connections", &Options::max_client_connections, 1, 65536},
    {"--header-timeout", &Options::header_timeout, 1, 3600},
    {"--body-timeout", &Options::body_timeout, 1, 3600},
    {"--keepalive-timeout", &Options::keepalive_timeout, 1, 3600},
    {"--contract-version", &Options::contract_version, 1, 2},
};

const char *usage()
{
    static const std::string text =
        std::string("usage: omadm-backend --listen ADDRESS --database DATABASE"
                    " --token-file PATH --key-file PATH\n"
                    "         [--contract-listen ADDRESS] [--threads N]"
                    " [--max-client-connections N]\n"
                    "         [--header-timeout SECONDS] [--body-timeout SECONDS]"
                    " [--keepalive-timeout SECONDS]\n"
                    "         [--viewer-token-file PATH] [--console-dir DIR]\n"
                    "         [--profile-recheck HOURS] [--profile-recheck-sessions N]\n"
                    "         [--contract-version 1|2]\n")
        + enrollment_usage
        + "  ADDRESS: HOST:PORT ([::1]:PORT) or unix:PATH\n"
          "  DATABASE: a SQLite file PATH (or sqlite:PATH), or a PostgreSQL\n"
          "    URL postgresql://USER@HOST/NAME (libpq's; --db is the same)\n"
          "  PATH :memory: keeps the database in memory, for tests only"
          " (not durable)\n"
          "  env OMADM_ADMIN_TOKEN / OMADM_CONTRACT_KEY / OMADM_VIEWER_TOKEN"
          " override the files\n";
    return text.c_str();
}

bool parse_options(int argc, char **argv, Options &opt, std::string &error)
{
    bool have_listen = false;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            opt.help = true;
            return true;
        }
        if (i + 1 >= argc) {
            error = "missing value after " + arg;
            return false;
        }
        std::string val = argv[++i];
        const NumberOption *number = nullptr;
        for (const NumberOption &n : number_options) {
            if (arg == n.name) {
                number = &n;
            }
        }
        if (number) {
            if (!parse_int(val, number->lo, number->hi, opt.*number->field)) {
                error = arg + " wants a number from " + std::to_string(number->lo)
                        + " to " + std::to_string(number->hi);
                return false;
            }
        } else if (arg == "--listen" || arg == "--contract-listen") {
            ListenAddress a;
            if (!parse_listen_address(val, a)) {
                error = arg + " wants HOST:PORT or unix:PATH, got \"" + val
                        + "\"";
                return false;
            }
            if (arg == "--listen") {
                opt.listen = a;
                have_listen = true;
            } else {
                opt.contract_listen = a;
            }
        } else if (arg == "--database" || arg == "--db") {
            if (!parse_database_target(val, opt.database, error)) {
                return false;
            }
            opt.have_database = true;
        } else if (arg == "--token-file") {
            opt.token_file = val;
        } else if (arg == "--key-file") {
            opt.key_file = val;
        } else if (is_enrollment_option(arg)) {
            if (!set_enrollment_option(arg, val, opt.enrollment, error)) {
                return false;
            }
        } else if (arg == "--viewer-token-file") {
            opt.viewer_token_file = val;
        } else if (arg == "--console-dir") {
            opt.console_dir = val;
        } else if (arg == "--profile-recheck") {
            if (!parse_int(val, 0, 8760, opt.profile_recheck_hours)) {
                error = "--profile-recheck wants hours from 0 to 8760";
                return false;
            }
        } else if (arg == "--profile-recheck-sessions") {
            if (!parse_int(val, 0, 100000, opt.profile_recheck_sessions)) {
                error = "--profile-recheck-sessions wants a number from 0 to"
                        " 100000";
                return false;
            }
        } else {
            error = "unknown option " + arg;
            return false;
        }
    }
    if (!have_listen || !opt.have_database) {
        error = "--listen and --database (--db) are required";
        return false;
    }
    return finish_enrollment_options(opt.enrollment, error);
}

bool load_secrets(Options &opt, std::string &error)
{
    if (!load_one("OMADM_ADMIN_TOKEN", opt.token_file, "operator token",
                  "--token-file", opt.admin_token, error)
        || !load_one("OMADM_CONTRACT_KEY", opt.key_file, "contract key",
                     "--key-file", opt.contract_key, error)) {
        return false;
    }
    // The viewer token is optional: only when its file or variable is given.
    const char *e = std::getenv("OMADM_VIEWER_TOKEN");
    if ((e && *e) || !opt.viewer_token_file.empty()) {
        if (!load_one("OMADM_VIEWER_TOKEN", opt.viewer_token_file,
                      "viewer token", "--viewer-token-file", opt.viewer_token,
                      error)) {
            return false;
        }
        if (opt.viewer_token == opt.admin_token) {
            error = "the viewer token must differ from the operator token";
            return false;
        }
    }
    return true;
}

}  // namespace omadm_backend
