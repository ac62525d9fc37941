#include "http_json.hpp"

#include "json_text.hpp"

namespace omadm_backend {

using nlohmann::json;

void reply_json(httplib::Response &res, int status, const json &body)
{
    res.status = status;
    res.set_content(json_text(body), "application/json");
}

void reply_error(httplib::Response &res, int status, const std::string &msg)
{
    reply_json(res, status, {{"error", msg}});
}

void reply_or_404(httplib::Response &res, const std::optional<json> &v,
                  const char *what)
{
    if (v) {
        reply_json(res, 200, *v);
    } else {
        reply_error(res, 404, what);
    }
}

std::optional<json> json_body(const httplib::Request &req,
                              httplib::Response &res)
{
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
        reply_error(res, 400, "body is not valid JSON");
        return std::nullopt;
    }
    if (!body.is_object()) {
        reply_error(res, 400, "body must be a JSON object");
        return std::nullopt;
    }
    return body;
}

}  // namespace omadm_backend
