// The operator REST API under /api/v1 (docs/backend-api.md, "Operator API"):
// register devices, queue commands, read results and alerts.
#pragma once

#include "store.hpp"

#include <httplib.h>

#include <string>

namespace omadm_backend {

void mount_operator_api(httplib::Server &server, Store &store,
                        const std::string &admin_token);

}  // namespace omadm_backend
