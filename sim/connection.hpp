// One device's keep-alive HTTP(S) connection on the event loop: connects
// (and handshakes) on demand, sends one request at a time, parses the
// response, and reports either the response or a failure kind.  A closed
// connection is simply reopened by the next request.
#pragma once

#include <string>

#include <sys/socket.h>

#include "event_loop.hpp"
#include "http_message.hpp"
#include "tls.hpp"

namespace sim {

struct server_address {
    sockaddr_storage addr{};
    socklen_t        len = 0;
    std::string      host;        // for certificate checks
    std::string      authority;   // Host: header
};

class http_connection final : public io_handler {
public:
    struct sink {
        virtual void on_response(http_response &r) = 0;
        // kind: connect, socket, tls_verify, tls_handshake, tls_io, reset,
        // closed, bad_response
        virtual void on_failure(const std::string &kind) = 0;

    protected:
        ~sink() = default;
    };

    http_connection(event_loop &loop, const server_address &server,
                    const tls_context *tls, sink &s);
    ~http_connection();
    http_connection(const http_connection &) = delete;
    http_connection &operator=(const http_connection &) = delete;

    // Sends one whole request; exactly one callback follows (later, never
    // from inside send()).
    void send(std::string request);
    // Drops the connection without a callback (timeouts, shutdown).
    void close();
    // Between sessions: frees the buffers of the last exchange; the
    // connection and its TLS session stay for the next request.
    void release_buffers();
    // After the device's last session: closes and forgets the TLS session
    // too.  With a fleet of a million, what every finished device kept
    // added up to gigabytes.
    void retire();

    void on_io(uint32_t events) override;

private:
    enum class state { closed, connecting, handshake, sending, receiving,
                       idle };

    void start_connect();
    void connected();
    void do_handshake();
    void do_send();
    void do_receive();
    void idle_event();
    void fail(const std::string &kind);
    void want(uint32_t events);
    // read into buf: >0 bytes, 0 EOF, -1 would block, -2 error (kind set)
    long read_some(char *buf, size_t len, std::string &kind);

    event_loop           &loop_;
    const server_address &server_;
    const tls_context    *tls_;
    sink                 &sink_;
    state                 state_ = state::closed;
    int                   fd_ = -1;
    uint32_t              events_ = 0;
    SSL                  *ssl_ = nullptr;
    SSL_SESSION          *session_ = nullptr;   // for resumption
    std::string           out_;
    size_t                sent_ = 0;
    response_parser       parser_;
    timer                 kick_;   // starts a send outside the caller
};

}  // namespace sim
