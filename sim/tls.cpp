#include "tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace sim {

tls_context::~tls_context()
{
    SSL_CTX_free(ctx_);
}

std::string tls_last_error()
{
    unsigned long e = ERR_get_error();
    std::string s;
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        s = buf;
    }
    ERR_clear_error();
    return s.empty() ? "unknown TLS error" : s;
}

bool tls_context::init(const std::string &ca_file, std::string &err)
{
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) {
        err = "SSL_CTX_new: " + tls_last_error();
        return false;
    }
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
        err = "cannot load CA file " + ca_file + ": " + tls_last_error();
        return false;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    // a peer closing without close_notify is a plain EOF to us: the HTTP
    // framing says whether the response was complete
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
    // An idle connection holds no record buffers (≈ 34 KB each otherwise).
    SSL_CTX_set_mode(ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                               | SSL_MODE_RELEASE_BUFFERS);
    // Each device keeps its own session for resumption; the context's
    // internal store would only hold a second reference to thousands of them.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT
                                             | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    return true;
}

SSL *tls_context::new_ssl(int fd, const std::string &host,
                          SSL_SESSION *session) const
{
    SSL *ssl = SSL_new(ctx_);
    if (ssl == nullptr) {
        return nullptr;
    }
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host.c_str(), addr) == 1
                 || inet_pton(AF_INET6, host.c_str(), addr) == 1;
    bool ok = SSL_set_fd(ssl, fd) == 1;
    if (is_ip) {
        ok = ok && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                                 host.c_str()) == 1;
    } else {
        ok = ok && SSL_set1_host(ssl, host.c_str()) == 1
             && SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
    }
    if (ok && session != nullptr) {
        ok = SSL_set_session(ssl, session) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        return nullptr;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

}  // namespace sim
