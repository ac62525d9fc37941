// Every request counted in the metrics (metrics.hpp), in one place: a
// post-routing hook that runs for each answer, before it is sent, under
// the route its handler was registered with, or "other".
#pragma once

#include "metrics.hpp"

#include <httplib.h>

#include <string>

namespace omadm_backend {

void install_request_metrics(httplib::Server &server);

// The request in progress on this thread is served by `route` (called by
// whatever dispatched it: PathRouter, add_counted_route).
void count_request_as(RouteStats &route);

// server.Get/Post/Put/Delete(pattern, handler), its requests counted under
// `label` (default: the pattern, which then must be a plain path: a regex
// would not say what it matched).
void add_counted_route(httplib::Server &server, const std::string &method,
                       const std::string &pattern,
                       httplib::Server::Handler handler,
                       const std::string &label = "");

}  // namespace omadm_backend
