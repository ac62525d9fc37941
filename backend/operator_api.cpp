#include "operator_api.hpp"

#include "enrollment_users.hpp"
#include "console_api.hpp"
#include "device_batch_api.hpp"
#include "http_json.hpp"
#include "metrics_api.hpp"
#include "operator_validation.hpp"
#include "path_router.hpp"
#include "profile_api.hpp"
#include "request_auth.hpp"

#include <memory>

namespace omadm_backend {

namespace {

using Params = PathRouter::Params;
using Req = httplib::Request;
using Res = httplib::Response;

void add_routes(PathRouter &r, Store &store)
{
    r.add("GET", "/api/v1/devices",
          [&store](const Req &req, Res &res, const Params &) {
              // limit/cursor/q/sort: a page (console_api.cpp)
              if (!reply_device_page(store, req, res)) {
                  reply_json(res, 200, store.devices());
              }
          });

    r.add("POST", "/api/v1/devices",
          [&store](const Req &req, Res &res, const Params &) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              std::string error;
              std::optional<NewDevice> d = parse_new_device(*body, error);
              if (!d) {
                  reply_error(res, 400, error);
                  return;
              }
              std::optional<json> created = store.create_device(*d);
              if (!created) {
                  reply_error(res, 409, "device already exists");
                  return;
              }
              reply_json(res, 201, *created);
          });

    add_device_batch_route(r, store);  // POST /api/v1/devices:batch

    r.add("GET", "/api/v1/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.device(p[0]), "unknown device");
          });

    r.add("DELETE", "/api/v1/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              if (!store.delete_device(p[0])) {
                  reply_error(res, 404, "unknown device");
                  return;
              }
              res.status = 204;
          });

    // A new password (the user name stays); the device's nonce too, so
    // only the credential_version tells a module that kept the old.
    r.add("PUT", "/api/v1/devices/{}/password",
          [&store](const Req &req, Res &res, const Params &p) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              auto pw = body->find("password");
              if (pw == body->end() || !pw->is_string()
                  || pw->get<std::string>().empty()) {
                  reply_error(res, 400,
                              "\"password\" must be a non-empty string");
                  return;
              }
              if (!store.set_password(p[0], pw->get<std::string>())) {
                  reply_error(res, 404, "unknown device");
                  return;
              }
              res.status = 204;
          });

    r.add("GET", "/api/v1/devices/{}/commands",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.commands(p[0]), "unknown device");
          });

    r.add("POST", "/api/v1/devices/{}/commands",
          [&store](const Req &req, Res &res, const Params &p) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              std::string error;
              std::optional<NewCommand> c = parse_new_command(*body, error);
              if (!c) {
                  reply_error(res, 400, error);
                  return;
              }
              std::optional<json> created = store.add_command(p[0], *c);
              if (!created) {
                  reply_error(res, 404, "unknown device");
                  return;
              }
              reply_json(res, 201, *created);
          });

    r.add("GET", "/api/v1/devices/{}/commands/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.command(p[0], p[1]),
                           "unknown device or command");
          });

    r.add("GET", "/api/v1/devices/{}/alerts",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.alerts(p[0]), "unknown device");
          });

    add_console_routes(r, store);  // whoami, stats
    add_metrics_route(r, store);   // GET /metrics
    add_profile_routes(r, store);
}

}  // namespace

void mount_operator_api(httplib::Server &server, Store &store,
                        const std::string &admin_token,
                        const std::string &viewer_token)
{
    // Shared by every method's handler, alive as long as the server.
    auto router = std::make_shared<PathRouter>();
    add_routes(*router, store);
    add_enrollment_user_routes(*router, store);

    httplib::Server::Handler handler = [router, &admin_token, &viewer_token](
                                           const Req &req, Res &res) {
        // Routed first, so that a refused request counts under its route.
        PathRouter::Match match = router->match(req);
        OperatorRole role;
        if (has_bearer_token(req, admin_token)) {
            role = OperatorRole::operator_;
        } else if (!viewer_token.empty()
                   && has_bearer_token(req, viewer_token)) {
            role = OperatorRole::viewer;
        } else {
            res.set_header("WWW-Authenticate", "Bearer");
            reply_error(res, 401, "missing or wrong bearer token");
            return;
        }
        if (role == OperatorRole::viewer && req.method != "GET"
            && req.method != "HEAD") {
            reply_error(res, 403, "read-only token: " + req.method
                                      + " is not allowed");
            return;
        }
        RoleScope scope(role);
        router->serve(match, req, res);
    };
    // Everything under /api/ goes to the router, so unknown paths and
    // methods get JSON 404/405 answers (after authentication).  So does
    // GET /metrics: the same tokens may read it.
    server.Get("/metrics", handler);
    const char *all = "/api/.*";
    server.Get(all, handler);
    server.Post(all, handler);
    server.Put(all, handler);
    server.Patch(all, handler);
    server.Delete(all, handler);
}

}  // namespace omadm_backend
