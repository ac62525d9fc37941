// The two shared secrets a request may carry: the operator's bearer token
// and the module's contract key. Both compared in constant time.
#pragma once

#include <httplib.h>

#include <string>

namespace omadm_backend {

// "Authorization: Bearer <token>" (scheme case-insensitive, RFC 6750).
bool has_bearer_token(const httplib::Request &req, const std::string &token);

// "X-Omadm-Key: <key>" (docs/backend-api.md, "Transport").
bool has_contract_key(const httplib::Request &req, const std::string &key);

}  // namespace omadm_backend
