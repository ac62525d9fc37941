// The client TLS context: the server certificate must chain to the --ca
// file and name the URL's host (an IP literal is checked against the
// certificate's IP SANs).
#pragma once

#include <string>

#include <openssl/ssl.h>

namespace sim {

class tls_context {
public:
    tls_context() = default;
    ~tls_context();
    tls_context(const tls_context &) = delete;
    tls_context &operator=(const tls_context &) = delete;

    // Loads the CA file; false with a reason when it is unusable.
    bool init(const std::string &ca_file, std::string &err);

    // A client SSL on a connected fd, set up to verify `host`; resumes
    // `session` when given.  nullptr when OpenSSL fails.
    SSL *new_ssl(int fd, const std::string &host, SSL_SESSION *session) const;

private:
    SSL_CTX *ctx_ = nullptr;
};

// The last OpenSSL error (queue emptied) for messages.
std::string tls_last_error();

}  // namespace sim
