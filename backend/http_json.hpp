// JSON in and out of httplib requests, with the API's error shape
// {"error": "message"}.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace omadm_backend {

void reply_json(httplib::Response &res, int status, const nlohmann::json &body);
void reply_error(httplib::Response &res, int status, const std::string &msg);

// 200 with the value, or 404 with `what` when there is none.
void reply_or_404(httplib::Response &res,
                  const std::optional<nlohmann::json> &v, const char *what);

// The body as a JSON object, or nullopt after answering 400.
std::optional<nlohmann::json> json_body(const httplib::Request &req,
                                        httplib::Response &res);

}  // namespace omadm_backend
