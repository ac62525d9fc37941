// The operator API of groups and profiles (docs/backend-api.md, "Groups"
// and "Profiles"), on the operator router.
#pragma once

#include "path_router.hpp"
#include "store.hpp"

namespace omadm_backend {

void add_profile_routes(PathRouter &r, Store &store);

}  // namespace omadm_backend
