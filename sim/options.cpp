#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace sim {

const char *usage_text()
{
    return
"usage: omadm-sim --url URL [--ca FILE] --api URL --token-file FILE\n"
"                 [--devices N] [--sessions M] [--concurrency C | --rate R]\n"
"                 [--duration SECONDS] [--auth md5|basic|hmac] [--no-locname]\n"
"                 [--seed S] [--prefix P] [--devices-file FILE]\n"
"                 [--mix ok=80,notfound=10,fail=5,slow=5] [--slow-ms MS]\n"
"                 [--verify K] [--retries N] [--retry-cap-ms MS]\n"
"                 [--timeout-ms MS] [--json] [--quiet]\n"
"                 [--tree] [--node URI=VALUE]... [--read-only URI]...\n"
"                 [--drift URI=VALUE]... [--login-status user|others|none]\n"
"Plays N OMA DM devices against URL (see docs/omadm-sim.md).\n"
"--no-locname: no SyncHdr/Source/LocName in any message (the server must\n"
"find the user from the device id; HMAC still names it in x-syncml-hmac)\n"
"exit 0: all sessions done (and --verify correct); 1: failures; 2: usage/setup\n";
}

namespace {

bool to_unsigned(const char *s, unsigned long max, unsigned long &v)
{
    char *end = nullptr;
    errno = 0;
    if (*s == '\0' || *s == '-') {
        return false;
    }
    v = std::strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && v <= max;
}

bool to_double(const char *s, double &v)
{
    char *end = nullptr;
    errno = 0;
    v = std::strtod(s, &end);
    return *s != '\0' && errno == 0 && *end == '\0' && v >= 0;
}

}  // namespace

bool parse_options(int argc, char **argv, options &o, std::string &err,
                   bool &help)
{
    help = false;
    for (int i = 1; i < argc; i++) {
        std::string name = argv[i];
        if (name == "--help" || name == "-h") {
            help = true;
            return true;
        }
        if (name == "--json") {
            o.json = true;
            continue;
        }
        if (name == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (name == "--no-locname") {
            o.no_locname = true;
            continue;
        }
        if (name == "--tree") {
            o.tree = true;
            continue;
        }
        static const char *const with_value[] = {
            "--url", "--ca", "--api", "--token-file", "--devices",
            "--sessions", "--concurrency", "--rate", "--duration", "--auth",
            "--seed", "--prefix", "--devices-file", "--mix", "--slow-ms",
            "--verify", "--retries", "--retry-cap-ms", "--timeout-ms",
            "--node", "--read-only", "--drift", "--login-status"};
        if (std::find(std::begin(with_value), std::end(with_value), name)
            == std::end(with_value))
        {
            err = "unknown option " + name;
            return false;
        }
        if (i + 1 >= argc) {
            err = name + " needs a value";
            return false;
        }
        const char *v = argv[++i];
        unsigned long n = 0;
        auto num = [&](unsigned long max, unsigned long min) {
            if (!to_unsigned(v, max, n) || n < min) {
                err = name + ": bad number \"" + v + "\"";
                return false;
            }
            return true;
        };
        if (name == "--url") {
            o.url = v;
        } else if (name == "--ca") {
            o.ca_file = v;
        } else if (name == "--api") {
            o.api = v;
        } else if (name == "--token-file") {
            o.token_file = v;
        } else if (name == "--devices") {
            if (!num(1000000, 1)) return false;
            o.devices = unsigned(n);
        } else if (name == "--sessions") {
            if (!num(1000000, 1)) return false;
            o.sessions = unsigned(n);
            o.sessions_given = true;
        } else if (name == "--concurrency") {
            if (!num(1000000, 1)) return false;
            o.concurrency = unsigned(n);
        } else if (name == "--rate") {
            if (!to_double(v, o.rate) || o.rate <= 0) {
                err = "--rate: bad number \"" + std::string(v) + "\"";
                return false;
            }
        } else if (name == "--duration") {
            if (!to_double(v, o.duration_s) || o.duration_s <= 0) {
                err = "--duration: bad number \"" + std::string(v) + "\"";
                return false;
            }
        } else if (name == "--auth") {
            if (std::strcmp(v, "md5") == 0) {
                o.auth = auth_scheme::md5;
            } else if (std::strcmp(v, "basic") == 0) {
                o.auth = auth_scheme::basic;
            } else if (std::strcmp(v, "hmac") == 0) {
                o.auth = auth_scheme::hmac;
            } else {
                err = "--auth: \"" + std::string(v)
                      + "\" is not md5, basic or hmac";
                return false;
            }
        } else if (name == "--seed") {
            char *end = nullptr;
            errno = 0;
            o.seed = std::strtoull(v, &end, 10);
            if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0) {
                err = "--seed: bad number \"" + std::string(v) + "\"";
                return false;
            }
        } else if (name == "--prefix") {
            o.prefix = v;
        } else if (name == "--devices-file") {
            o.devices_file = v;
        } else if (name == "--mix") {
            if (!parse_mix(v, o.mix, err)) return false;
        } else if (name == "--slow-ms") {
            if (!num(600000, 0)) return false;
            o.slow_ms = unsigned(n);
        } else if (name == "--verify") {
            if (!num(1000, 0)) return false;
            o.verify = unsigned(n);
        } else if (name == "--retries") {
            if (!num(1000000, 0)) return false;
            o.retries = unsigned(n);
        } else if (name == "--retry-cap-ms") {
            if (!num(3600000, 0)) return false;
            o.retry_cap_ms = unsigned(n);
        } else if (name == "--node" || name == "--drift") {
            std::string nv = v;
            size_t eq = nv.find('=');
            if (eq == 0 || eq == std::string::npos) {
                err = name + " wants URI=VALUE, got \"" + nv + "\"";
                return false;
            }
            (name == "--node" ? o.nodes : o.drift)[nv.substr(0, eq)] =
                nv.substr(eq + 1);
            o.tree = true;
        } else if (name == "--read-only") {
            o.read_only.insert(v);
            o.tree = true;
        } else if (name == "--login-status") {
            std::string s = v;
            if (s != "user" && s != "others" && s != "none") {
                err = "--login-status wants user, others or none";
                return false;
            }
            o.login_status = s;
        } else if (name == "--timeout-ms") {
            if (!num(3600000, 1)) return false;
            o.timeout_ms = unsigned(n);
        } else {
            err = "unknown option " + name;
            return false;
        }
    }
    if (o.url.empty()) {
        err = "--url is required";
        return false;
    }
    if (o.url.compare(0, 8, "https://") == 0 && o.ca_file.empty()) {
        err = "--ca is required for an https URL";
        return false;
    }
    // only a --devices-file run without --verify needs no operator API
    bool need_api = o.devices_file.empty() || o.verify > 0;
    if (need_api && (o.api.empty() || o.token_file.empty())) {
        err = "--api and --token-file are required";
        return false;
    }
    if (o.rate > 0 && o.concurrency > 0) {
        err = "--concurrency and --rate exclude each other";
        return false;
    }
    return true;
}

}  // namespace sim
