#include "request_metrics.hpp"

#include "request_log.hpp"

#include <stdexcept>

namespace omadm_backend {

namespace {

// httplib serves a request on one thread from routing to its answer
// (request_log.cpp relies on it too); taken, and so cleared, by the hook.
thread_local RouteStats *request_route = nullptr;

void count_request(const httplib::Request &, const httplib::Response &res)
{
    RouteStats *route = request_route;
    request_route = nullptr;
    (route ? *route : Metrics::process().unrouted())
        .record(res.status, request_elapsed());
}

}  // namespace

void install_request_metrics(httplib::Server &server)
{
    server.set_post_routing_handler(count_request);
}

void count_request_as(RouteStats &route)
{
    request_route = &route;
}

void add_counted_route(httplib::Server &server, const std::string &method,
                       const std::string &pattern,
                       httplib::Server::Handler handler,
                       const std::string &label)
{
    RouteStats &stats =
        Metrics::process().route(method, label.empty() ? pattern : label);
    httplib::Server::Handler counted =
        [&stats, handler = std::move(handler)](const httplib::Request &req,
                                               httplib::Response &res) {
            count_request_as(stats);
            handler(req, res);
        };
    if (method == "GET") {
        server.Get(pattern, counted);
    } else if (method == "POST") {
        server.Post(pattern, counted);
    } else if (method == "PUT") {
        server.Put(pattern, counted);
    } else if (method == "DELETE") {
        server.Delete(pattern, counted);
    } else {
        throw std::logic_error("add_counted_route: method " + method);
    }
}

}  // namespace omadm_backend
