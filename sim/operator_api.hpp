// Blocking calls to the backend's operator API (docs/backend-api.md), used
// only before and after the run: register devices, queue commands, read
// them back.  One keep-alive connection per client; for_each_parallel
// spreads many calls over a few clients.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace sim {

class operator_api {
public:
    // base: "http://127.0.0.1:8080/api/v1"
    operator_api(const std::string &base, const std::string &token);
    ~operator_api();
    operator_api(const operator_api &) = delete;
    operator_api &operator=(const operator_api &) = delete;

    // HTTP status, or -1 for a transport error (reason in out)
    int call(const std::string &method, const std::string &path,
             const std::string &json_body, std::string &out);

    // POST /devices; true for 201 and 409 (already registered)
    bool register_device(const std::string &id, const std::string &user,
                         const std::string &pass, std::string &err);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// "/devices/<percent-encoded id>"
std::string device_path(const std::string &device_id);

// Runs fn(client, i) for i in [0, n) on `threads` threads, each with its own
// client.  Returns false (with the first error) as soon as one fn fails.
bool for_each_parallel(const std::string &base, const std::string &token,
                       size_t n, unsigned threads,
                       const std::function<bool(operator_api &, size_t,
                                                std::string &)> &fn,
                       std::string &err);

}  // namespace sim
