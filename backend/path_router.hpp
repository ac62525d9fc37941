// A small router over the raw request path. httplib matches its patterns
// against an already-decoded path, where a device id holding "%2F" would
// split into two segments; here the raw path is split on '/' first and each
// segment is then percent-decoded, so "IMEI%3A4901..." and ids with an
// encoded slash both arrive intact.
#pragma once

#include "metrics.hpp"

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace omadm_backend {

// "a%3Ab" -> "a:b"; nullopt for a malformed escape. '+' stays '+'
// (it means a space only in form data, not in a path).
std::optional<std::string> percent_decode(const std::string &s);

class PathRouter {
public:
    using Params = std::vector<std::string>;  // the decoded "{}" segments
    using Handler = std::function<void(const httplib::Request &,
                                       httplib::Response &, const Params &)>;

    // pattern: "/api/v1/devices/{}/commands"; "{}" matches one non-empty
    // segment.  Its requests are counted in the metrics as route
    // "/api/v1/devices/{id}/commands".
    void add(const std::string &method, const std::string &pattern,
             Handler handler);

    struct Route {
        std::string method;
        std::vector<std::string> segments;
        Handler handler;
        RouteStats *stats;
    };
    // What a request would be served by.  Finding a route also counts the
    // request as served by it (request_metrics.hpp), so a caller that
    // refuses it (401) is still counted under the route.
    struct Match {
        const Route *route = nullptr;  // null: 404, 405 or 400 below
        Params params;
        std::string allow;  // methods of the path, when not this one
        bool bad_escape = false;
    };
    Match match(const httplib::Request &req) const;

    // Runs the route's handler, or answers 404 (no such path), 405 with
    // Allow (path known, method not) or 400 (bad escape) itself.
    void serve(const Match &m, const httplib::Request &req,
               httplib::Response &res) const;

private:
    std::vector<Route> routes_;
};

}  // namespace omadm_backend
