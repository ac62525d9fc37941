#include "device_batch_api.hpp"

#include "http_json.hpp"
#include "operator_validation.hpp"
#include "server_setup.hpp"

#include <optional>
#include <string>
#include <vector>

namespace omadm_backend {

namespace {

// A full batch of the largest devices the validation admits (three
// 256-byte names, JSON-escaped to 6 bytes each, and a password as long)
// must fit the request body limit.
static_assert(max_batch_devices * (4 * 256 * 6 + 256) < max_body_bytes,
              "a full batch does not fit the request body limit");

// The body as an array of at most max_batch_devices items, or nullopt
// after answering 400.  (Its size is bounded by the body limit, like any
// other request's; nlohmann's parse callback cannot count items cheaply:
// it rescans the array after each one.)
std::optional<json> batch_body(const httplib::Request &req,
                               httplib::Response &res)
{
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
        reply_error(res, 400, "body is not valid JSON");
        return std::nullopt;
    }
    if (!body.is_array()) {
        reply_error(res, 400, "body must be a JSON array of devices");
        return std::nullopt;
    }
    if (body.size() > max_batch_devices) {
        reply_error(res, 400,
                    "a batch holds at most " + std::to_string(max_batch_devices)
                        + " devices, this one " + std::to_string(body.size()));
        return std::nullopt;
    }
    return body;
}

json item_result(const json &item, const char *result)
{
    json id = nullptr;
    if (item.is_object()) {
        auto it = item.find("device_id");
        if (it != item.end() && it->is_string()) {
            id = *it;
        }
    }
    return {{"device_id", id}, {"result", result}};
}

void register_batch(Store &store, const httplib::Request &req,
                    httplib::Response &res)
{
    std::optional<json> body = batch_body(req, res);
    if (!body) {
        return;
    }
    json results = json::array();
    std::vector<NewDevice> valid;
    std::vector<size_t> valid_at;  // each valid device's index in results
    for (const json &item : *body) {
        // The same checks and messages as POST /api/v1/devices.
        std::string error = "body must be a JSON object";
        std::optional<NewDevice> d;
        if (item.is_object()) {
            d = parse_new_device(item, error);
        }
        if (d) {
            valid_at.push_back(results.size());
            valid.push_back(std::move(*d));
            results.push_back(nullptr);
        } else {
            json r = item_result(item, "error");
            r["error"] = error;
            results.push_back(std::move(r));
        }
    }
    std::vector<bool> created = store.create_devices(valid);
    for (size_t i = 0; i < valid.size(); i++) {
        results[valid_at[i]] = {{"device_id", valid[i].device_id},
                                {"result", created[i] ? "created" : "exists"}};
    }
    reply_json(res, 200, results);
}

}  // namespace

void add_device_batch_route(PathRouter &r, Store &store)
{
    r.add("POST", "/api/v1/devices:batch",
          [&store](const httplib::Request &req, httplib::Response &res,
                   const PathRouter::Params &) {
              register_batch(store, req, res);
          });
}

}  // namespace omadm_backend
