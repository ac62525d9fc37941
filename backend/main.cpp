// omadm-backend: the reference backend of ngx_omadm. See
// docs/backend-api.md for the contract and the operator API.
#include "guarded_server.hpp"
#include "listen_address.hpp"
#include "options.hpp"
#include "request_log.hpp"
#include "server_setup.hpp"
#include "store.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

using namespace omadm_backend;

namespace {

// SIGINT/SIGTERM are blocked in every thread and taken by one thread with
// sigwait(), which then stops the servers: a signal handler could not
// (stopping is not async-signal-safe).
sigset_t stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

// One server and the socket it listens on.
struct Listener {
    ListenAddress address;
    std::optional<GuardedServer> server;
    int fd = -1;
};

// All or none: a socket file of one that did open is removed again.
bool open_listeners(std::optional<Listener> (&listeners)[2])
{
    for (auto &l : listeners) {
        if (!l) {
            continue;
        }
        std::string error;
        l->fd = open_listener(l->address, error);
        if (l->fd < 0) {
            log_line("error: cannot listen on " + error);
            for (auto &opened : listeners) {
                if (opened && opened->fd >= 0) {
                    close(opened->fd);
                    remove_socket_file(opened->address);
                }
            }
            return false;
        }
    }
    return true;
}

int run(Options &opt)
{
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by all threads
    signal(SIGPIPE, SIG_IGN);  // a client that hung up is not fatal

    if (opt.database.dialect == Dialect::sqlite
        && opt.database.location == ":memory:") {
        log_line("warning: --db :memory: keeps nothing past this process"
                 " (for tests only)");
    }
    Store store(opt.database);
    // The operator API, with the contract unless the contract has a
    // listener of its own: then neither serves the other's paths.
    bool split = opt.contract_listen.has_value();
    std::optional<Listener> listeners[2];
    listeners[0].emplace().address = opt.listen;
    if (split) {
        listeners[1].emplace().address = *opt.contract_listen;
    }
    const Apis apis[2] = {split ? Apis::operator_api : Apis::both,
                          Apis::contract};
    for (int i = 0; i < 2; i++) {
        if (listeners[i]) {
            configure_server(
                listeners[i]->server.emplace(connection_limits(opt, apis[i])),
                store, opt, apis[i]);
        }
    }
    if (!open_listeners(listeners)) {
        return 1;
    }
    log_line("listening on " + listeners[0]->address.text()
             + (split ? " (operator API), " + listeners[1]->address.text()
                            + " (contract)"
                      : "")
             + ", database " + database_display_name(opt.database));

    std::atomic<bool> signalled{false};
    auto stop_all = [&listeners] {
        for (auto &l : listeners) {
            if (l) {
                l->server->stop_serving();
            }
        }
    };
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&set, &sig);
        signalled = true;
        stop_all();
    });

    // Each listener on a thread of its own; one that fails stops the rest.
    std::atomic<bool> ok{true};
    std::thread contract_thread;
    auto serve = [&](Listener &l) {
        if (!l.server->serve(l.fd)) {
            ok = false;
            stop_all();
        }
        remove_socket_file(l.address);
    };
    if (listeners[1]) {
        contract_thread = std::thread(serve, std::ref(*listeners[1]));
    }
    serve(*listeners[0]);
    if (contract_thread.joinable()) {
        contract_thread.join();
    }
    if (!signalled) {
        // serving failed on its own: wake the waiter so it can be joined.
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    bool clean = signalled && ok;
    log_line(clean ? "stopped" : "stopped after a listen error");
    return clean ? 0 : 1;
    // store's destructor closes the database after the servers are gone.
}

}  // namespace

int main(int argc, char **argv)
{
    Options opt;
    std::string error;
    if (!parse_options(argc, argv, opt, error)) {
        std::fprintf(stderr, "omadm-backend: %s\n%s", error.c_str(), usage());
        return 2;
    }
    if (opt.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    if (!load_secrets(opt, error)) {
        std::fprintf(stderr, "omadm-backend: %s\n", error.c_str());
        return 2;
    }
    try {
        return run(opt);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "omadm-backend: %s\n", e.what());
        return 1;
    }
}
