#include "profile_api.hpp"

#include "http_json.hpp"
#include "profile_validation.hpp"

namespace omadm_backend {

namespace {

using Params = PathRouter::Params;
using Req = httplib::Request;
using Res = httplib::Response;

// 201 with what was created, or 409 when the name is taken.
void reply_created(Res &res, const std::optional<json> &created,
                   const char *taken)
{
    if (created) {
        reply_json(res, 201, *created);
    } else {
        reply_error(res, 409, taken);
    }
}

// 204, or 404 with `unknown`.
void reply_deleted(Res &res, bool deleted, const char *unknown)
{
    if (deleted) {
        res.status = 204;
    } else {
        reply_error(res, 404, unknown);
    }
}

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

// The profile a POST or PUT body describes, or nullopt after answering
// 400 (with the line of raw SyncML at fault).
std::optional<NewProfile> profile_body(const Req &req, Res &res,
                                       const std::optional<std::string> &name)
{
    std::optional<json> body = json_body(req, res);
    if (!body) {
        return std::nullopt;
    }
    ProfileError err;
    std::optional<NewProfile> p = parse_new_profile(*body, name, err);
    if (!p) {
        json error = {{"error", err.error}};
        if (err.line > 0) {
            error["line"] = err.line;
        }
        reply_json(res, 400, error);
    }
    return p;
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
              reply_created(res, store.create_group(*name),
                            "group already exists");
          });
    r.add("GET", "/api/v1/groups/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.group(p[0]), "unknown group");
          });
    r.add("DELETE", "/api/v1/groups/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_deleted(res, store.delete_group(p[0]), "unknown group");
          });
    r.add("PUT", "/api/v1/groups/{}/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_link(res, store.set_group_member(p[0], p[1], true), "");
          });
    r.add("DELETE", "/api/v1/groups/{}/devices/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_link(res, store.set_group_member(p[0], p[1], false),
                         "the device is not in the group");
          });
}

void add_assignment_routes(PathRouter &r, Store &store, const char *path,
                           Assignee kind, const char *not_linked)
{
    r.add("PUT", path,
          [&store, kind](const Req &, Res &res, const Params &p) {
              reply_link(res, store.set_assignment(p[0], kind, p[1], true), "");
          });
    r.add("DELETE", path,
          [&store, kind, not_linked](const Req &, Res &res, const Params &p) {
              reply_link(res, store.set_assignment(p[0], kind, p[1], false),
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
              std::optional<NewProfile> p =
                  profile_body(req, res, std::nullopt);
              if (!p) {
                  return;
              }
              reply_created(res, store.create_profile(*p),
                            "profile already exists");
          });
    r.add("GET", "/api/v1/profiles/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_or_404(res, store.profile(p[0]), "unknown profile");
          });
    r.add("PUT", "/api/v1/profiles/{}",
          [&store](const Req &req, Res &res, const Params &params) {
              std::optional<NewProfile> p = profile_body(req, res, params[0]);
              if (!p) {
                  return;
              }
              reply_or_404(res, store.replace_profile(*p), "unknown profile");
          });
    r.add("DELETE", "/api/v1/profiles/{}",
          [&store](const Req &, Res &res, const Params &p) {
              reply_deleted(res, store.delete_profile(p[0]),
                            "unknown profile");
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
