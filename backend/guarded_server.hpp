// An httplib server that accepts its own connections, so that slow or
// greedy clients cannot hold every worker thread: httplib's own accept
// loop hands each connection to a fixed pool with nothing but per-read
// timeouts, so eight clients trickling header bytes took all of it, and it
// offers no hook between accept() and the request (process_and_close_socket
// is private).  Requests are parsed and routed by httplib as before
// (process_request, protected for this use).
#pragma once

#include "request_stream.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace omadm_backend {

struct ConnectionLimits {
    size_t threads;            // connections served at once; more wait
    size_t per_client;         // open TCP connections from one address
    std::chrono::seconds header_time;  // a request's headers, in all
    std::chrono::seconds body_time;    // its body, after the headers
};

class GuardedServer : public httplib::Server {
public:
    explicit GuardedServer(const ConnectionLimits &limits);
    ~GuardedServer() override;

    // Serves connections accepted on `listen_fd` until stop_serving(),
    // then lets the requests in progress finish and closes it.  false if
    // accepting failed for good.
    bool serve(int listen_fd);
    // From any thread, also before serve().  Idle connections and
    // requests whose headers are still to come are closed at once.
    void stop_serving();

private:
    bool admit(const Peer &peer, int fd, bool tcp);
    void release(const Peer &peer, bool tcp);
    void serve_connection(int fd, const Peer &peer);

    ConnectionLimits limits_;
    int stop_fd_;  // an eventfd, readable once stopping
    std::atomic<bool> stopping_{false};
    std::mutex clients_mutex_;
    std::map<std::string, size_t> open_per_client_;
};

}  // namespace omadm_backend
