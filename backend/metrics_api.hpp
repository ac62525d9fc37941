// GET /metrics: the metrics (metrics.hpp) and the store's connection
// counters in Prometheus text format 0.0.4, on the operator API's listener
// and behind its tokens (operator or viewer): route and error counts say
// how the fleet is doing, which is nobody else's business.
#pragma once

#include "path_router.hpp"
#include "store.hpp"

namespace omadm_backend {

void add_metrics_route(PathRouter &router, Store &store);

}  // namespace omadm_backend
