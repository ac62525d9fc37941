#include "request_auth.hpp"

#include "crypto.hpp"

#include <strings.h>

namespace omadm_backend {

bool has_bearer_token(const httplib::Request &req, const std::string &token)
{
    if (!req.has_header("Authorization")) {
        return false;
    }
    std::string value = req.get_header_value("Authorization");
    const std::string scheme = "bearer ";
    if (value.size() <= scheme.size()
        || strncasecmp(value.c_str(), scheme.c_str(), scheme.size()) != 0) {
        return false;
    }
    size_t start = value.find_first_not_of(' ', scheme.size());
    if (start == std::string::npos) {
        return false;
    }
    return secret_equal(value.substr(start), token);
}

bool has_contract_key(const httplib::Request &req, const std::string &key)
{
    return req.has_header("X-Omadm-Key")
           && secret_equal(req.get_header_value("X-Omadm-Key"), key);
}

}  // namespace omadm_backend
