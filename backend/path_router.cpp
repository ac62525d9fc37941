#include "path_router.hpp"

#include "http_json.hpp"

namespace omadm_backend {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::vector<std::string> split(const std::string &path)
{
    std::vector<std::string> out;
    size_t start = 1;  // past the leading '/'
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) {
            slash = path.size();
        }
        out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

}  // namespace

std::optional<std::string> percent_decode(const std::string &s)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        int hi = hex_value(s[i + 1]);
        int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

void PathRouter::add(const std::string &method, const std::string &pattern,
                     Handler handler)
{
    routes_.push_back({method, split(pattern), std::move(handler)});
}

void PathRouter::dispatch(const httplib::Request &req,
                          httplib::Response &res) const
{
    std::string raw = req.target.substr(0, req.target.find('?'));
    std::vector<std::string> segments = split(raw);
    for (std::string &seg : segments) {
        std::optional<std::string> decoded = percent_decode(seg);
        if (!decoded) {
            reply_error(res, 400, "malformed %-escape in the path");
            return;
        }
        seg = std::move(*decoded);
    }

    std::string allow;
    for (const Route &r : routes_) {
        if (r.segments.size() != segments.size()) {
            continue;
        }
        Params params;
        bool match = true;
        for (size_t i = 0; i < segments.size() && match; i++) {
            if (r.segments[i] == "{}") {
                match = !segments[i].empty();
                params.push_back(segments[i]);
            } else {
                match = r.segments[i] == segments[i];
            }
        }
        if (!match) {
            continue;
        }
        if (r.method == req.method) {
            r.handler(req, res, params);
            return;
        }
        allow += (allow.empty() ? "" : ", ") + r.method;
    }
    if (!allow.empty()) {
        res.set_header("Allow", allow);
        reply_error(res, 405, "method not allowed");
        return;
    }
    reply_error(res, 404, "not found");
}

}  // namespace omadm_backend
