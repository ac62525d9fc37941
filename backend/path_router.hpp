// A small router over the raw request path. httplib matches its patterns
// against an already-decoded path, where a device id holding "%2F" would
// split into two segments; here the raw path is split on '/' first and each
// segment is then percent-decoded, so "IMEI%3A4901..." and ids with an
// encoded slash both arrive intact.
#pragma once

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
    // segment.
    void add(const std::string &method, const std::string &pattern,
             Handler handler);

    // Answers 404 (no such path), 405 with Allow (path known, method not)
    // or 400 (bad escape) itself.
    void dispatch(const httplib::Request &req, httplib::Response &res) const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;
        Handler handler;
    };
    std::vector<Route> routes_;
};

}  // namespace omadm_backend
