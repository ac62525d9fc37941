// Where the backend listens: a TCP host and port, or a unix socket.
#pragma once

#include <string>

namespace omadm_backend {

struct ListenAddress {
    std::string host;       // TCP: a name or an address ("127.0.0.1", "::1")
    int port = 0;           // TCP: 0 picks a free port
    std::string unix_path;  // a unix socket, for "unix:/path"

    bool is_unix() const { return !unix_path.empty(); }
    // As given and logged: "127.0.0.1:8080", "[::1]:8080", "unix:/x.sock".
    std::string text() const;
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:0" or "unix:/path".
bool parse_listen_address(const std::string &s, ListenAddress &out);

// A listening socket bound to `addr` (backlog SOMAXCONN, close-on-exec);
// a TCP port 0 becomes the port chosen.  A unix socket replaces a stale
// socket file (one nobody answers on) and is made mode 0660.  -1 with
// `error` set when it cannot listen.
int open_listener(ListenAddress &addr, std::string &error);

// Removes a unix socket's file, once nobody listens on it any more.
void remove_socket_file(const ListenAddress &addr);

}  // namespace omadm_backend
