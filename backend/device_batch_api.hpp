// POST /api/v1/devices:batch (docs/backend-api.md, "Registering many
// devices"): up to max_batch_devices device objects in one request, one
// result per item.
#pragma once

#include "path_router.hpp"
#include "store.hpp"

#include <cstddef>

namespace omadm_backend {

constexpr size_t max_batch_devices = 10000;

void add_device_batch_route(PathRouter &r, Store &store);

}  // namespace omadm_backend
