#include "guarded_server.hpp"

#include "json_text.hpp"
#include "metrics.hpp"
#include "request_log.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <thread>

namespace omadm_backend {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

milliseconds wait_of(time_t sec, time_t usec)
{
    return duration_cast<milliseconds>(seconds(sec)
                                       + std::chrono::microseconds(usec));
}

// What a client past --max-client-connections gets before the close.
const std::string &refusal()
{
    static const std::string answer = [] {
        std::string body = json_text(
            nlohmann::json{{"error", "too many connections from this address"}});
        return "HTTP/1.1 503 Service Unavailable\r\n"
               "Content-Type: application/json\r\nContent-Length: "
               + std::to_string(body.size())
               + "\r\nConnection: close\r\n\r\n" + body;
    }();
    return answer;
}

// Failures of one accept() that leave the listener usable: a client gone
// before we took it, a network error, no descriptor free for a moment.
bool transient_accept_error(int e)
{
    return e != EBADF && e != EINVAL && e != ENOTSOCK && e != EOPNOTSUPP
           && e != EFAULT;
}

}  // namespace

GuardedServer::GuardedServer(const ConnectionLimits &limits)
    : limits_(limits), stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (stop_fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
}

GuardedServer::~GuardedServer()
{
    ::close(stop_fd_);
}

void GuardedServer::stop_serving()
{
    stopping_ = true;
    uint64_t one = 1;
    // Never read back, so it stays readable for every poll() that waits.
    if (::write(stop_fd_, &one, sizeof one) != sizeof one) {
        log_line("error: cannot signal the stop: " + std::string(strerror(errno)));
    }
}

bool GuardedServer::serve(int listen_fd)
{
    // Non-blocking: a client gone between poll() and accept() must not
    // leave the loop blocked where stop_serving() cannot wake it.
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    httplib::ThreadPool pool(limits_.threads);
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    bool ok = true;
    while (!stopping_) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            ok = false;
            break;
        }
        if (fds[1].revents) {
            break;
        }
        sockaddr_storage sa{};
        socklen_t len = sizeof sa;
        int fd = accept4(listen_fd, reinterpret_cast<sockaddr *>(&sa), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (!transient_accept_error(errno)) {
                log_line("error: accept: " + std::string(strerror(errno)));
                ok = false;
                break;
            }
            if (errno == EMFILE || errno == ENFILE) {
                std::this_thread::sleep_for(milliseconds(100));
            }
            continue;
        }
        bool tcp = sa.ss_family != AF_UNIX;
        Peer peer = peer_of(sa);
        if (!admit(peer, fd, tcp)) {
            Metrics::process().connection_refused();
            continue;
        }
        Metrics::process().connection_opened();
        pool.enqueue([this, fd, peer, tcp] {
            serve_connection(fd, peer);
            release(peer, tcp);
            Metrics::process().connection_closed();
        });
    }
    ::close(listen_fd);
    pool.shutdown();  // runs what was accepted; nothing waits on a client
    return ok;
}

// Counts the client's connection, or refuses it (503 and close) past the
// cap.  A unix socket's clients have no address to count: who may connect
// at all is the socket's mode (listen_address.hpp).
bool GuardedServer::admit(const Peer &peer, int fd, bool tcp)
{
    if (!tcp) {
        return true;
    }
    // httplib writes headers and body apart; without TCP_NODELAY the body
    // waits for the client's delayed ACK (40 ms a request).
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    size_t open;
    {
        std::lock_guard<std::mutex> lock(clients_mutex_);
        size_t &n = open_per_client_[peer.ip];
        if (n < limits_.per_client) {
            n++;
            return true;
        }
        open = n;
    }
    log_line(peer.ip + ": refused, " + std::to_string(open)
             + " connections open (--max-client-connections)");
    // Best effort and never waiting: the accept loop must not block.
    ::send(fd, refusal().data(), refusal().size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
    return false;
}

void GuardedServer::release(const Peer &peer, bool tcp)
{
    if (!tcp) {
        return;
    }
    std::lock_guard<std::mutex> lock(clients_mutex_);
    auto it = open_per_client_.find(peer.ip);
    if (it != open_per_client_.end() && --it->second == 0) {
        open_per_client_.erase(it);
    }
}

// httplib's keep-alive loop, on our stream: up to keep_alive_max_count_
// requests, each within its deadlines, an idle wait of
// keep_alive_timeout_sec_ before each.
void GuardedServer::serve_connection(int fd, const Peer &peer)
{
    StreamLimits stream_limits{wait_of(read_timeout_sec_, read_timeout_usec_),
                               wait_of(write_timeout_sec_, write_timeout_usec_),
                               limits_.header_time, limits_.body_time};
    {
        RequestStream stream(fd, peer, stream_limits, stop_fd_);
        for (size_t left = keep_alive_max_count_; left > 0; left--) {
            if (!stream.wait_for_request(seconds(keep_alive_timeout_sec_))) {
                break;
            }
            stream.start_request();
            bool client_closes = false;
            bool ok = process_request(stream, left == 1 || stopping_,
                                      client_closes, nullptr);
            if (stream.cut_off()) {
                log_line(peer.ip + ": closed, " + stream.cut_off()->reason);
                break;
            }
            if (!ok || client_closes) {
                break;
            }
        }
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

}  // namespace omadm_backend
