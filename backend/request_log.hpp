// One line per request on stderr: time, client, method, path, status, ms.
// Never a header or a body, so no token, key, password or nonce.
#pragma once

#include <httplib.h>

namespace omadm_backend {

void install_request_log(httplib::Server &server);

// A line about the service itself ("listening on ...", errors).
void log_line(const std::string &msg);

}  // namespace omadm_backend
