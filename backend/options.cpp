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

// "127.0.0.1:8080", "[::1]:8080", "localhost:0".
bool parse_listen(const std::string &s, Options &opt)
{
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    std::string host = s.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    opt.host = host;
    return parse_int(s.substr(colon + 1), 0, 65535, opt.port);
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

const char *usage()
{
    return "usage: omadm-backend --listen HOST:PORT --db PATH"
           " --token-file PATH --key-file PATH [--threads N]"
           " [--profile-recheck HOURS]"
           " [--profile-recheck-sessions N]\n"
           "  env OMADM_ADMIN_TOKEN / OMADM_CONTRACT_KEY override the files\n";
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
        if (arg == "--listen") {
            if (!parse_listen(val, opt)) {
                error = "--listen wants HOST:PORT, got \"" + val + "\"";
                return false;
            }
            have_listen = true;
        } else if (arg == "--db") {
            opt.db_path = val;
        } else if (arg == "--token-file") {
            opt.token_file = val;
        } else if (arg == "--key-file") {
            opt.key_file = val;
        } else if (arg == "--threads") {
            if (!parse_int(val, 1, 1024, opt.threads)) {
                error = "--threads wants a number from 1 to 1024";
                return false;
            }
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
    if (!have_listen || opt.db_path.empty()) {
        error = "--listen and --db are required";
        return false;
    }
    return true;
}

bool load_secrets(Options &opt, std::string &error)
{
    return load_one("OMADM_ADMIN_TOKEN", opt.token_file, "operator token",
                    "--token-file", opt.admin_token, error)
           && load_one("OMADM_CONTRACT_KEY", opt.key_file, "contract key",
                       "--key-file", opt.contract_key, error);
}

}  // namespace omadm_backend
