// The operator API's additions for the console (docs/backend-api.md,
// "Console"): who am I, fleet statistics, and paged device listings.
#pragma once

#include "path_router.hpp"
#include "store.hpp"

#include <httplib.h>

namespace omadm_backend {

// Which token a request carried: the operator's (everything) or a viewer's
// (GET only).  Set for the handler's thread while it runs.
enum class OperatorRole { operator_, viewer };

class RoleScope {
public:
    explicit RoleScope(OperatorRole r);
    ~RoleScope();
    RoleScope(const RoleScope &) = delete;
    RoleScope &operator=(const RoleScope &) = delete;
};

OperatorRole current_role();

// GET /api/v1/whoami, GET /api/v1/stats.
void add_console_routes(PathRouter &r, Store &store);

// GET /api/v1/devices with limit, cursor, q or sort: answers the page (or
// 400) and returns true; false when none of them is given (the plain
// array, as before).
bool reply_device_page(Store &store, const httplib::Request &req,
                       httplib::Response &res);

}  // namespace omadm_backend
