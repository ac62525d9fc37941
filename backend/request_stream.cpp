#include "request_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

namespace omadm_backend {

namespace {

using std::chrono::milliseconds;

// httplib bounds one header line (8 KiB) but not how many there are, and
// within its deadline a fast client could still send gigabytes of them.
constexpr size_t max_header_bytes = 64 * 1024;

// The stream of the connection this thread serves (one at a time).
thread_local const RequestStream *current_stream = nullptr;

// poll() on `fd` for `events`, and on `stop_fd` unless it is -1: 1 when
// the socket is ready (or hung up: the next recv tells), 0 after `wait`,
// -1 when the server stops (and the socket is not ready) or on an error.
int wait_on(int fd, short events, int stop_fd, milliseconds wait)
{
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    auto ms = std::clamp<milliseconds::rep>(wait.count(), 0, INT_MAX);
    int rc;
    do {
        rc = ::poll(fds, stop_fd >= 0 ? 2 : 1, static_cast<int>(ms));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        return rc;
    }
    return fds[0].revents ? 1 : -1;
}

}  // namespace

Peer peer_of(const sockaddr_storage &sa)
{
    char ip[INET6_ADDRSTRLEN] = "";
    if (sa.ss_family == AF_INET) {
        const auto &in = reinterpret_cast<const sockaddr_in &>(sa);
        inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
        return {ip, ntohs(in.sin_port)};
    }
    if (sa.ss_family == AF_INET6) {
        const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(sa);
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], ip, sizeof ip);
        } else {
            inet_ntop(AF_INET6, &in6.sin6_addr, ip, sizeof ip);
        }
        return {ip, ntohs(in6.sin6_port)};
    }
    return {"unix", 0};
}

RequestStream::RequestStream(int fd, Peer peer, const StreamLimits &limits,
                             int stop_fd)
    : fd_(fd), peer_(std::move(peer)), limits_(limits), stop_fd_(stop_fd)
{
    current_stream = this;
}

RequestStream::~RequestStream()
{
    current_stream = nullptr;
}

bool RequestStream::wait_for_request(std::chrono::seconds idle)
{
    return pos_ < len_ || wait_on(fd_, POLLIN, stop_fd_, idle) == 1;
}

void RequestStream::start_request()
{
    in_headers_ = true;
    deadline_ = clock::now() + limits_.header_time;
    header_bytes_ = 0;
    line_bytes_ = 0;
    cut_off_.reset();
}

// Waits for the client's next bytes until the current deadline, at most
// one read_wait; during the headers a stopping server does not wait.
bool RequestStream::wait_for_bytes()
{
    auto left = std::chrono::ceil<milliseconds>(deadline_ - clock::now());
    int rc = left.count() > 0
                 ? wait_on(fd_, POLLIN, in_headers_ ? stop_fd_ : -1,
                           std::min(limits_.read_wait, left))
                 : 0;
    if (rc == 0 && clock::now() >= deadline_) {
        cut_off_ = CutOff{
            408, in_headers_ ? "request headers not complete within "
                                   + std::to_string(limits_.header_time.count())
                                   + " s (--header-timeout)"
                             : "request body not complete within "
                                   + std::to_string(limits_.body_time.count())
                                   + " s (--body-timeout)"};
    }
    return rc == 1;
}

// Watches the header bytes httplib takes for the empty line that ends
// them (CR LF alone, as httplib requires); the body's deadline starts
// there.
void RequestStream::pass_header_bytes(const char *p, size_t n)
{
    for (size_t i = 0; i < n && in_headers_; i++) {
        header_bytes_++;
        if (p[i] == '\n') {
            if (line_bytes_ == 1 && line_is_cr_) {
                in_headers_ = false;
                deadline_ = clock::now() + limits_.body_time;
            }
            line_bytes_ = 0;
        } else {
            line_is_cr_ = line_bytes_ == 0 && p[i] == '\r';
            line_bytes_++;
        }
    }
}

ssize_t RequestStream::read(char *ptr, size_t size)
{
    if (pos_ == len_) {
        ssize_t n;
        do {
            if (!wait_for_bytes()) {
                return -1;
            }
            n = ::recv(fd_, buf_, sizeof buf_, 0);
        } while (n < 0
                 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
        if (n <= 0) {
            return n;
        }
        pos_ = 0;
        len_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, len_ - pos_);
    if (in_headers_) {
        pass_header_bytes(buf_ + pos_, n);
        if (header_bytes_ > max_header_bytes) {
            cut_off_ = CutOff{431, "request headers over "
                                       + std::to_string(max_header_bytes / 1024)
                                       + " KiB"};
            return -1;
        }
    }
    std::copy(buf_ + pos_, buf_ + pos_ + n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
}

bool RequestStream::is_readable() const
{
    return pos_ < len_ || wait_on(fd_, POLLIN, -1, limits_.read_wait) == 1;
}

bool RequestStream::is_writable() const
{
    return wait_on(fd_, POLLOUT, -1, limits_.write_wait) == 1;
}

ssize_t RequestStream::write(const char *ptr, size_t size)
{
    for (;;) {
        ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR
            && ((errno != EAGAIN && errno != EWOULDBLOCK) || !is_writable())) {
            return -1;
        }
    }
}

void RequestStream::get_remote_ip_and_port(std::string &ip, int &port) const
{
    ip = peer_.ip;
    port = peer_.port;
}

void RequestStream::get_local_ip_and_port(std::string &ip, int &port) const
{
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr *>(&sa), &len);
    Peer local = peer_of(sa);
    ip = local.ip;
    port = local.port;
}

const std::optional<CutOff> &request_cut_off_on_this_thread()
{
    static const std::optional<CutOff> none;
    return current_stream ? current_stream->cut_off() : none;
}

}  // namespace omadm_backend
