#include "registration.hpp"

#include <algorithm>
#include <atomic>

#include <nlohmann/json.hpp>

#include "operator_api.hpp"

namespace sim {

namespace {

const size_t batch_devices = 10000;   // the backend's limit per batch
// The backend writes one batch at a time; a second request in flight
// overlaps its JSON work with the other's transaction.
const unsigned batch_threads = 2;

enum class batch_answer { registered, no_endpoint, failed };

batch_answer register_batch(operator_api &api,
                            const std::vector<device_identity> &ids,
                            size_t first, size_t n, std::string &err)
{
    nlohmann::json body = nlohmann::json::array();
    for (size_t i = first; i < first + n; i++) {
        body.push_back({{"device_id", ids[i].id},
                        {"username", ids[i].username},
                        {"password", ids[i].password}});
    }
    std::string out;
    int st = api.call("POST", "/devices:batch", body.dump(), out);
    if (st == 404) {
        return batch_answer::no_endpoint;
    }
    auto results = nlohmann::json::parse(out, nullptr, false);
    if (st != 200 || !results.is_array() || results.size() != n) {
        err = st < 0 ? out
                     : "register a batch: HTTP " + std::to_string(st) + " "
                           + out.substr(0, 500);
        return batch_answer::failed;
    }
    for (size_t i = 0; i < n; i++) {
        const nlohmann::json &r = results[i];
        std::string result = r.is_object() && r.contains("result")
                                     && r["result"].is_string()
                                 ? r["result"].get<std::string>() : "";
        if (result != "created" && result != "exists") {
            err = "register " + ids[first + i].id + ": " + r.dump();
            return batch_answer::failed;
        }
    }
    return batch_answer::registered;
}

bool register_one_by_one(const std::string &api_base, const std::string &token,
                         const std::vector<device_identity> &ids,
                         unsigned threads, std::string &err)
{
    return for_each_parallel(api_base, token, ids.size(), threads,
        [&ids](operator_api &api, size_t i, std::string &e) {
            return api.register_device(ids[i].id, ids[i].username,
                                       ids[i].password, e);
        }, err);
}

}  // namespace

bool register_fleet(const std::string &api_base, const std::string &token,
                    const std::vector<device_identity> &ids,
                    unsigned threads, std::string &err)
{
    size_t batches = (ids.size() + batch_devices - 1) / batch_devices;
    std::atomic<bool> no_endpoint{false};
    bool ok = for_each_parallel(api_base, token, batches, batch_threads,
        [&](operator_api &api, size_t b, std::string &e) {
            if (no_endpoint) {
                return true;
            }
            size_t first = b * batch_devices;
            size_t n = std::min(batch_devices, ids.size() - first);
            switch (register_batch(api, ids, first, n, e)) {
            case batch_answer::registered:
                return true;
            case batch_answer::no_endpoint:
                no_endpoint = true;   // an older backend
                return true;
            default:
                return false;
            }
        }, err);
    if (ok && no_endpoint) {
        return register_one_by_one(api_base, token, ids, threads, err);
    }
    return ok;
}

}  // namespace sim
