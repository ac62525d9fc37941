#include "listen_address.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace omadm_backend {

namespace {

bool parse_port(const std::string &s, int &port)
{
    int v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 65535) {
        return false;
    }
    port = v;
    return true;
}

std::string os_error(const std::string &what)
{
    return what + ": " + std::strerror(errno);
}

int listen_tcp(ListenAddress &addr, std::string &error)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo *list = nullptr;
    std::string port = std::to_string(addr.port);
    int rc = getaddrinfo(addr.host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) {
        error = addr.text() + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = -1;
    error = addr.text() + ": no address";
    for (addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            error = os_error(addr.text());
            continue;
        }
        // A restarted backend binds again while old connections linger in
        // TIME_WAIT.  No SO_REUSEPORT: a second backend must fail to start.
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
            || listen(fd, SOMAXCONN) != 0) {
            error = os_error(addr.text());
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd >= 0 && addr.port == 0) {
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &len);
        addr.port = ntohs(bound.ss_family == AF_INET6
                              ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
                              : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
    }
    return fd;
}

// A socket file nobody answers on is left over from a backend that did
// not stop cleanly; one that answers belongs to a running backend.
bool free_socket_path(const sockaddr_un &sun, const std::string &text,
                      std::string &error)
{
    struct stat st;
    if (lstat(sun.sun_path, &st) != 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode)) {
        error = text + ": exists and is not a socket";
        return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = probe >= 0
                && connect(probe, reinterpret_cast<const sockaddr *>(&sun),
                           sizeof sun) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (live) {
        error = text + ": another process listens on it";
        return false;
    }
    unlink(sun.sun_path);
    return true;
}

int listen_unix(const ListenAddress &addr, std::string &error)
{
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (addr.unix_path.size() >= sizeof sun.sun_path) {
        error = addr.text() + ": path longer than "
                + std::to_string(sizeof sun.sun_path - 1) + " bytes";
        return -1;
    }
    std::memcpy(sun.sun_path, addr.unix_path.c_str(), addr.unix_path.size());
    if (!free_socket_path(sun, addr.text(), error)) {
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Owner and group may connect, nobody else: give the socket the group
    // of nginx's workers (it takes its directory's group when the
    // directory is setgid).  A local user who could connect would be one
    // more client beyond the reach of --max-client-connections.
    if (fd < 0
        || bind(fd, reinterpret_cast<const sockaddr *>(&sun), sizeof sun) != 0
        || chmod(sun.sun_path, 0660) != 0 || listen(fd, SOMAXCONN) != 0) {
        error = os_error(addr.text());
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

}  // namespace

std::string ListenAddress::text() const
{
    if (is_unix()) {
        return "unix:" + unix_path;
    }
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool parse_listen_address(const std::string &s, ListenAddress &out)
{
    ListenAddress a;
    const std::string unix_prefix = "unix:";
    if (s.compare(0, unix_prefix.size(), unix_prefix) == 0) {
        a.unix_path = s.substr(unix_prefix.size());
        if (a.unix_path.empty()) {
            return false;
        }
        out = a;
        return true;
    }
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    a.host = s.substr(0, colon);
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
        a.host = a.host.substr(1, a.host.size() - 2);
    }
    if (!parse_port(s.substr(colon + 1), a.port)) {
        return false;
    }
    out = a;
    return true;
}

int open_listener(ListenAddress &addr, std::string &error)
{
    return addr.is_unix() ? listen_unix(addr, error) : listen_tcp(addr, error);
}

void remove_socket_file(const ListenAddress &addr)
{
    if (addr.is_unix()) {
        unlink(addr.unix_path.c_str());
    }
}

}  // namespace omadm_backend
