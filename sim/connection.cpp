#include "connection.hpp"

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace sim {

http_connection::http_connection(event_loop &loop,
                                 const server_address &server,
                                 const tls_context *tls, sink &s)
    : loop_(loop), server_(server), tls_(tls), sink_(s)
{
    kick_.fire = [this] {
        if (state_ == state::idle) {
            state_ = state::sending;
            do_send();
        } else {
            start_connect();
        }
    };
}

http_connection::~http_connection()
{
    close();
    SSL_SESSION_free(session_);
}

void http_connection::send(std::string request)
{
    out_ = std::move(request);
    sent_ = 0;
    parser_.reset();
    loop_.arm(kick_, clock::now());
}

void http_connection::close()
{
    loop_.disarm(kick_);
    if (ssl_ != nullptr) {
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        loop_.remove(fd_);
        ::close(fd_);
        fd_ = -1;
    }
    events_ = 0;
    state_ = state::closed;
}

void http_connection::fail(const std::string &kind)
{
    close();
    sink_.on_failure(kind);
}

void http_connection::release_buffers()
{
    std::string().swap(out_);
    sent_ = 0;
    parser_ = response_parser{};
}

void http_connection::retire()
{
    close();
    SSL_SESSION_free(session_);
    session_ = nullptr;
    release_buffers();
}

void http_connection::want(uint32_t events)
{
    if (events != events_) {
        loop_.modify(fd_, events, this);
        events_ = events;
    }
}

void http_connection::start_connect()
{
    close();
    fd_ = ::socket(server_.addr.ss_family,
                   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        sink_.on_failure("socket");
        return;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    events_ = EPOLLOUT;
    if (!loop_.add(fd_, events_, this)) {
        fail("socket");
        return;
    }
    state_ = state::connecting;
    if (::connect(fd_, reinterpret_cast<const sockaddr *>(&server_.addr),
                  server_.len) == 0)
    {
        connected();
    } else if (errno != EINPROGRESS) {
        fail("connect");
    }
}

void http_connection::connected()
{
    if (tls_ == nullptr) {
        state_ = state::sending;
        do_send();
        return;
    }
    ssl_ = tls_->new_ssl(fd_, server_.host, session_);
    if (ssl_ == nullptr) {
        ERR_clear_error();
        fail("tls_handshake");
        return;
    }
    state_ = state::handshake;
    do_handshake();
}

void http_connection::do_handshake()
{
    ERR_clear_error();
    int rc = SSL_connect(ssl_);
    if (rc == 1) {
        state_ = state::sending;
        do_send();
        return;
    }
    int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ) {
        want(EPOLLIN);
    } else if (e == SSL_ERROR_WANT_WRITE) {
        want(EPOLLOUT);
    } else {
        bool verify = SSL_get_verify_result(ssl_) != X509_V_OK;
        ERR_clear_error();
        fail(verify ? "tls_verify" : "tls_handshake");
    }
}

void http_connection::do_send()
{
    while (sent_ < out_.size()) {
        long n;
        if (ssl_ != nullptr) {
            ERR_clear_error();
            int rc = SSL_write(ssl_, out_.data() + sent_,
                               int(out_.size() - sent_));
            if (rc <= 0) {
                int e = SSL_get_error(ssl_, rc);
                if (e == SSL_ERROR_WANT_WRITE) {
                    want(EPOLLOUT);
                    return;
                }
                if (e == SSL_ERROR_WANT_READ) {
                    want(EPOLLIN);
                    return;
                }
                ERR_clear_error();
                fail(e == SSL_ERROR_SYSCALL ? "reset" : "tls_io");
                return;
            }
            n = rc;
        } else {
            n = ::send(fd_, out_.data() + sent_, out_.size() - sent_,
                       MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    want(EPOLLOUT);
                    return;
                }
                fail("reset");
                return;
            }
        }
        sent_ += size_t(n);
    }
    state_ = state::receiving;
    want(EPOLLIN | EPOLLRDHUP);
    do_receive();
}

long http_connection::read_some(char *buf, size_t len, std::string &kind)
{
    if (ssl_ != nullptr) {
        ERR_clear_error();
        int rc = SSL_read(ssl_, buf, int(len));
        if (rc > 0) {
            return rc;
        }
        int e = SSL_get_error(ssl_, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            return -1;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            return 0;
        }
        ERR_clear_error();
        kind = e == SSL_ERROR_SYSCALL ? "reset" : "tls_io";
        return -2;
    }
    long n = ::recv(fd_, buf, len, 0);
    if (n >= 0) {
        return n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return -1;
    }
    kind = "reset";
    return -2;
}

void http_connection::do_receive()
{
    char buf[16384];
    for (;;) {
        std::string kind;
        long n = read_some(buf, sizeof buf, kind);
        if (n == -1) {
            return;
        }
        if (n == -2) {
            fail(kind);
            return;
        }
        response_parser::result r =
            n == 0 ? parser_.finish_eof() : parser_.feed(buf, size_t(n));
        if (r == response_parser::bad) {
            fail(n == 0 ? "closed" : "bad_response");
            return;
        }
        if (r == response_parser::done) {
            http_response resp = std::move(parser_.response());
            if (ssl_ != nullptr) {
                SSL_SESSION *s = SSL_get1_session(ssl_);
                if (s != nullptr) {
                    SSL_SESSION_free(session_);
                    session_ = s;
                }
            }
            if (resp.keep_alive && n != 0) {
                state_ = state::idle;
                want(EPOLLIN | EPOLLRDHUP);
            } else {
                close();
            }
            sink_.on_response(resp);
            return;
        }
    }
}

// An idle keep-alive connection that becomes readable was closed by the
// server (or sent a TLS ticket): close it now so the next request
// reconnects instead of failing.
void http_connection::idle_event()
{
    char buf[4096];
    std::string kind;
    if (read_some(buf, sizeof buf, kind) != -1) {
        // The server closed an idle connection.  A request may already be
        // waiting for the kick (send() arms it before epoll reports the
        // close); close() disarms it, so arm it again: the kick reconnects.
        bool pending = kick_.armed;
        close();
        if (pending) {
            loop_.arm(kick_, clock::now());
        }
    }
}

void http_connection::on_io(uint32_t events)
{
    switch (state_) {
    case state::closed:
        return;
    case state::connecting: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0
            || err != 0)
        {
            fail("connect");
            return;
        }
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            connected();
        }
        return;
    }
    case state::handshake:
        do_handshake();
        return;
    case state::sending:
        do_send();
        return;
    case state::receiving:
        do_receive();
        return;
    case state::idle:
        idle_event();
        return;
    }
}

}  // namespace sim
