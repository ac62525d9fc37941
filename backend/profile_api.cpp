#include "profile_api.hpp"

#include "http_json.hpp"
#include "profile_validation.hpp"

namespace omadm_backend {

namespace {

using Params = PathRouter::Params;
using Req = httplib::Request;
using Res = httplib::Response;

// 204, or the 404 that says which side of the link is missing.
void reply_link(Res &res, LinkResult r, const char *not_linked)
{
    switch (r) {
    case LinkResult::ok:
        res.status = 204;
        return;
    case LinkResult::unknown_group:
        reply_error(res, 404, "unknown group");
        return;
    case LinkResult::unknown_device:
        reply_error(res, 404, "unknown device");
        return;
    case LinkResult::unknown_profile:
        reply_error(res, 404, "unknown profile");
        return;
    case LinkResult::not_linked:
        reply_error(res, 404, not_linked);
        return;
    }
}

void reply_profile_error(Res &res, const ProfileError &err)
{
    json body = {{"error", err.error}};
    if (err.line > 0) {
        body["line"] = err.line;
    }
    reply_json(res, 400, body);
}

void add_group_routes(PathRouter &r, Store &store)
{
    r.add("GET", "/api/v1/groups",
          [&store](const Req &, Res &res, const Params &) {
              reply_json(res, 200, store.groups());
          });
    r.add("POST", "/api/v1/groups",
          [&store](const Req &req, Res &res, const Params &) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              std::string error;
              std::optional<std::string> name = parse_group_name(*body, error);
              if (!name) {
                  reply_error(res, 400, error);
                  return;
              }
              std::optional<json> created = store.create_group(*name);
              if (!created) {
                  reply_error(res, 409, "group already exists");
                  return;
              }
              reply_json(res, 201, *created);
          });
    r.add("GET", "/api/v1/groups/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.group(p[0]), "unknown group");
          });
    r.add("DELETE", "/api/v1/groups/{}",
          [&store](const Req &, Res &res, const Params &p) {
              if (!store.delete_group(p[0])) {
                  reply_error(res, 404, "unknown group");
                  return;
              }
              res.status = 204;
          });
    r.add("PUT", "/api/v1/groups/{}/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_link(res, store.add_group_member(p[0], p[1]), "");
          });
    r.add("DELETE", "/api/v1/groups/{}/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_link(res, store.remove_group_member(p[0], p[1]),
                         "the device is not in the group");
          });
}

void add_assignment_routes(PathRouter &r, Store &store, const char *path,
                           Assignee kind, const char *not_linked)
{
    r.add("PUT", path,
          [&store, kind](const Req &, Res &res, const Params &p) {
              reply_link(res, store.assign_profile(p[0], kind, p[1]), "");
          });
    r.add("DELETE", path,
          [&store, kind, not_linked](const Req &, Res &res, const Params &p) {
              reply_link(res, store.unassign_profile(p[0], kind, p[1]),
                         not_linked);
          });
}

void add_profile_crud_routes(PathRouter &r, Store &store)
{
    r.add("GET", "/api/v1/profiles",
          [&store](const Req &, Res &res, const Params &) {
              reply_json(res, 200, store.profiles());
          });
    r.add("POST", "/api/v1/profiles",
          [&store](const Req &req, Res &res, const Params &) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              ProfileError err;
              std::optional<NewProfile> p =
                  parse_new_profile(*body, std::nullopt, err);
              if (!p) {
                  reply_profile_error(res, err);
                  return;
              }
              std::optional<json> created = store.create_profile(*p);
              if (!created) {
                  reply_error(res, 409, "profile already exists");
                  return;
              }
              reply_json(res, 201, *created);
          });
    r.add("GET", "/api/v1/profiles/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.profile(p[0]), "unknown profile");
          });
    r.add("PUT", "/api/v1/profiles/{}",
          [&store](const Req &req, Res &res, const Params &params) {
              std::optional<json> body = json_body(req, res);
              if (!body) {
                  return;
              }
              ProfileError err;
              std::optional<NewProfile> p =
                  parse_new_profile(*body, params[0], err);
              if (!p) {
                  reply_profile_error(res, err);
                  return;
              }
              reply_or_404(res, store.replace_profile(*p), "unknown profile");
          });
    r.add("DELETE", "/api/v1/profiles/{}",
          [&store](const Req &, Res &res, const Params &p) {
              if (!store.delete_profile(p[0])) {
                  reply_error(res, 404, "unknown profile");
                  return;
              }
              res.status = 204;
          });
    r.add("GET", "/api/v1/profiles/{}/status",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.profile_status(p[0]), "unknown profile");
          });
    r.add("GET", "/api/v1/devices/{}/profiles",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.device_profiles(p[0]), "unknown device");
          });
}

}  // namespace

void add_profile_routes(PathRouter &r, Store &store)
{
    add_group_routes(r, store);
    add_profile_crud_routes(r, store);
    add_assignment_routes(r, store, "/api/v1/profiles/{}/assignments/groups/{}",
                          Assignee::group,
                          "the profile is not assigned to the group");
    add_assignment_routes(r, store,
                          "/api/v1/profiles/{}/assignments/devices/{}",
                          Assignee::device,
                          "the profile is not assigned to the device");
}

}  // namespace omadm_backend
