// The operator REST API under /api/v1 (docs/backend-api.md, "Operator API"):
// register devices, queue commands, read results and alerts.
#pragma once

#include "store.hpp"

#include <httplib.h>

#include <string>

namespace omadm_backend {

// viewer_token: a read-only operator token ("" for none): it may GET
// everything, any other method gets 403.
void mount_operator_api(httplib::Server &server, Store &store,
                        const std::string &admin_token,
                        const std::string &viewer_token = "");

}  // namespace omadm_backend
