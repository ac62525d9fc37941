// One line per request on stderr: time, client, method, path, status, ms.
// Never a header or a body, so no token, key, password or nonce.
#pragma once

#include <httplib.h>

#include <chrono>
#include <optional>

namespace omadm_backend {

void install_request_log(httplib::Server &server);

// Since the request in progress on this thread was routed; nullopt for one
// rejected before (a malformed request line or headers).
std::optional<std::chrono::microseconds> request_elapsed();

// A line about the service itself ("listening on ...", errors).
void log_line(const std::string &msg);

}  // namespace omadm_backend
