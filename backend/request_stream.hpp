// One client connection as httplib reads and writes it, with deadlines
// httplib itself does not have: a request's headers, and then its body,
// must arrive within a total time, however slowly the client trickles
// them (httplib only bounds each single read).
#pragma once

#include <httplib.h>

#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>

namespace omadm_backend {

struct StreamLimits {
    std::chrono::milliseconds read_wait;   // for the client's next bytes
    std::chrono::milliseconds write_wait;  // for room to send more
    std::chrono::seconds header_time;      // a request's headers, in all
    std::chrono::seconds body_time;        // its body, after the headers
};

// Why a request was cut off, and the answer httplib's error handler gives
// it (httplib itself says 400) when the request line had come.
struct CutOff {
    int status;          // 408 too slow, 431 headers too large
    std::string reason;  // "request headers not complete within 10 s ..."
};

// The client as logged: an IP address, or "unix" on a unix socket.
struct Peer {
    std::string ip;
    int port = 0;
};

// The client at `sa`: a v4-mapped IPv6 address as IPv4 (one client,
// whichever family it came by), "unix" on a unix socket.
Peer peer_of(const sockaddr_storage &sa);

class RequestStream : public httplib::Stream {
public:
    // `fd` is a connected non-blocking socket, not owned; `stop_fd`
    // becomes readable when the server stops: a request whose headers are
    // still to come is not waited for then.
    RequestStream(int fd, Peer peer, const StreamLimits &limits, int stop_fd);
    ~RequestStream() override;
    RequestStream(const RequestStream &) = delete;
    RequestStream &operator=(const RequestStream &) = delete;

    // Waits up to `idle` for the next request to begin; false when the
    // client stays silent, or the server stops meanwhile.
    bool wait_for_request(std::chrono::seconds idle);
    // The next bytes are a new request: its header deadline starts now.
    void start_request();
    // Why the current request was cut off, if it was.
    const std::optional<CutOff> &cut_off() const { return cut_off_; }

    bool is_readable() const override;
    bool is_writable() const override;
    ssize_t read(char *ptr, size_t size) override;
    ssize_t write(const char *ptr, size_t size) override;
    void get_remote_ip_and_port(std::string &ip, int &port) const override;
    void get_local_ip_and_port(std::string &ip, int &port) const override;
    socket_t socket() const override { return fd_; }

private:
    using clock = std::chrono::steady_clock;

    bool wait_for_bytes();
    void pass_header_bytes(const char *p, size_t n);

    int fd_;
    Peer peer_;
    StreamLimits limits_;
    int stop_fd_;
    bool in_headers_ = true;
    clock::time_point deadline_;
    size_t header_bytes_ = 0;
    size_t line_bytes_ = 0;  // of the header line being read
    bool line_is_cr_ = false;
    std::optional<CutOff> cut_off_;
    char buf_[16 * 1024];
    size_t pos_ = 0;
    size_t len_ = 0;
};

// Why the request being served on this thread was cut off, if it was (for
// the error handler).
const std::optional<CutOff> &request_cut_off_on_this_thread();

}  // namespace omadm_backend
