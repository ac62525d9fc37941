// omadm-backend: the reference backend of ngx_omadm. See
// docs/backend-api.md for the contract and the operator API.
#include "options.hpp"
#include "request_log.hpp"
#include "server_setup.hpp"
#include "store.hpp"

#include <httplib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace omadm_backend;

namespace {

// SIGINT/SIGTERM are blocked in every thread and taken by one thread with
// sigwait(), which may call server.stop() safely: a signal handler could
// not (stop() is not async-signal-safe).
sigset_t stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

int run(Options &opt)
{
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by all threads
    signal(SIGPIPE, SIG_IGN);  // a client that hung up is not fatal

    Store store(opt.db_path);
    httplib::Server server;
    configure_server(server, store, opt);

    // Debian's compiled cpp-httplib listens with a backlog of 5, and nginx
    // opens a connection per subrequest: under load the kernel drops SYNs
    // and each costs a 1 s retransmit.  Keep the socket to deepen it.
    socket_t listen_fd = INVALID_SOCKET;
    server.set_socket_options([&listen_fd](socket_t fd) {
        httplib::default_socket_options(fd);
        listen_fd = fd;
    });

    int port = opt.port;
    if (port == 0) {
        port = server.bind_to_any_port(opt.host);
        if (port < 0) {
            port = 0;
        }
    } else if (!server.bind_to_port(opt.host, port)) {
        port = 0;
    }
    if (port == 0) {
        log_line("error: cannot listen on " + opt.host + ":"
                 + std::to_string(opt.port));
        return 1;
    }
    if (listen_fd != INVALID_SOCKET) {
        ::listen(listen_fd, SOMAXCONN);  // on a listening socket: new backlog
    }
    log_line("listening on " + opt.host + ":" + std::to_string(port)
             + ", database " + opt.db_path);

    std::atomic<bool> stopping{false};
    std::atomic<bool> listen_done{false};
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&set, &sig);
        stopping = true;
        // stop() does nothing until listen_after_bind() is running: a signal
        // that arrives during start-up waits for it.
        while (!listen_done) {
            if (server.is_running()) {
                server.stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });

    bool ok = server.listen_after_bind();
    listen_done = true;
    bool signalled = stopping;
    if (!signalled) {
        // listen failed on its own: wake the waiter so it can be joined.
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    log_line(signalled && ok ? "stopped" : "stopped after a listen error");
    return signalled && ok ? 0 : 1;
    // store's destructor closes the database after the server is gone.
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
