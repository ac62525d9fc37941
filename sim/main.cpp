// omadm-sim: a fleet of OMA DM devices in one process (docs/omadm-sim.md).
// Setup (operator API calls) is blocking; the run itself is one epoll loop.

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <netdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fleet.hpp"
#include "operator_api.hpp"
#include "registration.hpp"
#include "verify.hpp"

namespace {

using namespace sim;

const int exit_failed = 1;
const int exit_setup = 2;
const unsigned api_threads = 8;

int setup_error(const std::string &msg)
{
    std::fprintf(stderr, "omadm-sim: %s\n", msg.c_str());
    return exit_setup;
}

// 1000 devices need 1000+ descriptors: take the hard limit
void raise_fd_limit()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

bool resolve(const url &u, server_address &out, std::string &err)
{
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(),
                         &hints, &res);
    if (rc != 0 || res == nullptr) {
        err = "cannot resolve " + u.host + ": " + gai_strerror(rc);
        return false;
    }
    std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
    out.len = res->ai_addrlen;
    freeaddrinfo(res);
    out.host = u.host;
    out.authority = u.authority();
    return true;
}

bool read_first_line(const std::string &path, std::string &out)
{
    std::ifstream in(path);
    if (!in || !std::getline(in, out)) {
        return false;
    }
    while (!out.empty() && std::isspace((unsigned char) out.back())) {
        out.pop_back();
    }
    return !out.empty();
}

// "device_id username password" per line; blank and '#' lines skipped
bool read_devices_file(const std::string &path,
                       std::vector<device_identity> &out, std::string &err)
{
    std::ifstream in(path);
    if (!in) {
        err = "cannot read --devices-file " + path;
        return false;
    }
    std::string line;
    unsigned n = 0;
    while (std::getline(in, line)) {
        n++;
        std::istringstream fields(line);
        device_identity d;
        if (!(fields >> d.id) || d.id[0] == '#') {
            continue;
        }
        std::string extra;
        if (!(fields >> d.username >> d.password) || (fields >> extra)) {
            err = path + ":" + std::to_string(n)
                  + ": expected \"device_id username password\"";
            return false;
        }
        out.push_back(d);
    }
    if (out.empty()) {
        err = path + ": no devices";
        return false;
    }
    return true;
}

std::vector<device_identity> generated_devices(const options &o)
{
    std::vector<device_identity> v;
    for (unsigned i = 0; i < o.devices; i++) {
        device_identity d;
        d.id = o.prefix + std::to_string(o.seed) + "-" + std::to_string(i);
        d.username = d.id;
        char pw[24];
        std::snprintf(pw, sizeof pw, "pw-%016llx",
                      (unsigned long long) stable_hash(o.seed, d.id, "pw"));
        d.password = pw;
        v.push_back(d);
    }
    return v;
}

std::string run_tag()
{
    auto t = clock::now().time_since_epoch().count();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06llx.",
                  (unsigned long long) ((uint64_t(t) ^ uint64_t(getpid()))
                                        & 0xffffff));
    return buf;
}

// "registered 1000 devices in 0.05 s": how long a setup or verify phase
// took, next to the progress lines (not with --quiet)
class phase_timer {
public:
    explicit phase_timer(const options &o) : quiet_(o.quiet) {}
    void done(const char *what, size_t n)
    {
        double s =
            std::chrono::duration<double>(clock::now() - start_).count();
        if (!quiet_) {
            std::fprintf(stderr, "%s %zu devices in %.2f s (%.0f/s)\n", what, n,
                         s, s > 0 ? n / s : 0.0);
        }
        start_ = clock::now();
    }

private:
    bool              quiet_;
    clock::time_point start_ = clock::now();
};

}  // namespace

int main(int argc, char **argv)
{
    options o;
    std::string err;
    bool help = false;
    if (!parse_options(argc, argv, o, err, help)) {
        std::fprintf(stderr, "omadm-sim: %s\n%s", err.c_str(), usage_text());
        return exit_setup;
    }
    if (help) {
        std::fputs(usage_text(), stdout);
        return 0;
    }
    std::signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    url base;
    if (!parse_url(o.url, base)) {
        return setup_error("bad --url " + o.url);
    }
    tls_context tls;
    if (base.tls && !tls.init(o.ca_file, err)) {
        return setup_error(err);
    }
    server_address server;
    if (!resolve(base, server, err)) {
        return setup_error(err);
    }
    std::string token;
    if (!o.token_file.empty() && !read_first_line(o.token_file, token)) {
        return setup_error("cannot read a token from " + o.token_file);
    }

    std::vector<device_identity> ids;
    phase_timer phase(o);
    if (!o.devices_file.empty()) {
        if (!read_devices_file(o.devices_file, ids, err)) {
            return setup_error(err);
        }
    } else {
        ids = generated_devices(o);
        if (!register_fleet(o.api, token, ids, api_threads, err)) {
            return setup_error(err);
        }
        phase.done("registered", ids.size());
    }

    std::vector<std::vector<planned_command>> plans(ids.size());
    if (o.verify > 0) {
        bool ok = for_each_parallel(o.api, token, ids.size(), api_threads,
            [&](operator_api &api, size_t i, std::string &e) {
                plans[i] = plan_commands(o.verify);
                for (auto &c : plans[i]) {
                    std::string out;
                    int st = api.call("POST", device_path(ids[i].id)
                                      + "/commands", queue_body(c), out);
                    auto j = nlohmann::json::parse(out, nullptr, false);
                    if (st != 201 || !j.is_object() || !j["id"].is_string()) {
                        e = "queue a command on " + ids[i].id + ": HTTP "
                            + std::to_string(st) + " " + out;
                        return false;
                    }
                    c.id = j["id"].get<std::string>();
                }
                return true;
            }, err);
        if (!ok) {
            return setup_error(err);
        }
        phase.done("queued commands on", ids.size());
    }

    event_loop loop;
    if (!loop.ok()) {
        return setup_error("epoll_create1 failed");
    }
    stats st;
    st.devices = unsigned(ids.size());
    run_context ctx{o, loop, server, base.tls ? &tls : nullptr, base,
                    run_tag(), st};
    fleet f(ctx, ids);
    f.run();

    if (o.verify > 0) {
        phase_timer verify_phase(o);
        std::vector<std::string> lists(ids.size());
        bool ok = for_each_parallel(o.api, token, ids.size(), api_threads,
            [&](operator_api &api, size_t i, std::string &e) {
                int code = api.call("GET", device_path(ids[i].id)
                                    + "/commands", "", lists[i]);
                if (code != 200) {
                    e = "read the commands of " + ids[i].id + ": HTTP "
                        + std::to_string(code) + " " + lists[i];
                    return false;
                }
                return true;
            }, err);
        if (!ok) {
            std::fprintf(stderr, "omadm-sim: verify: %s\n", err.c_str());
        }
        st.has_verify = true;
        for (size_t i = 0; i < ids.size(); i++) {
            check_device(ids[i].id, plans[i], lists[i], o.mix, o.seed,
                         st.verify);
        }
        verify_phase.done("verified", ids.size());
    }

    std::fputs(o.json ? report_json(st).c_str() : report_table(st).c_str(),
               stdout);
    bool all_done = f.planned() == 0 || st.sessions_completed == f.planned();
    bool verified = o.verify == 0 || st.verify.correct == st.verify.commands;
    return st.sessions_failed == 0 && all_done && verified ? 0 : exit_failed;
}
