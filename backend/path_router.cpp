#include "path_router.hpp"

#include "http_json.hpp"
#include "request_metrics.hpp"

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

namespace {

// "/api/v1/devices/{}" -> "/api/v1/devices/{id}", the metrics' route label.
std::string route_label(const std::string &pattern)
{
    std::string out;
    for (size_t i = 0; i < pattern.size(); i++) {
        if (pattern.compare(i, 2, "{}") == 0) {
            out += "{id}";
            i++;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

}  // namespace

void PathRouter::add(const std::string &method, const std::string &pattern,
                     Handler handler)
{
    routes_.push_back({method, split(pattern), std::move(handler),
                       &Metrics::process().route(method, route_label(pattern))});
}

PathRouter::Match PathRouter::match(const httplib::Request &req) const
{
    Match m;
    std::string raw = req.target.substr(0, req.target.find('?'));
    std::vector<std::string> segments = split(raw);
    for (std::string &seg : segments) {
        std::optional<std::string> decoded = percent_decode(seg);
        if (!decoded) {
            m.bad_escape = true;
            return m;
        }
        seg = std::move(*decoded);
    }

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
            m.route = &r;
            m.params = std::move(params);
            count_request_as(*r.stats);
            return m;
        }
        m.allow += (m.allow.empty() ? "" : ", ") + r.method;
    }
    return m;
}

void PathRouter::serve(const Match &m, const httplib::Request &req,
                       httplib::Response &res) const
{
    if (m.route) {
        m.route->handler(req, res, m.params);
    } else if (m.bad_escape) {
        reply_error(res, 400, "malformed %-escape in the path");
    } else if (!m.allow.empty()) {
        res.set_header("Allow", m.allow);
        reply_error(res, 405, "method not allowed");
    } else {
        reply_error(res, 404, "not found");
    }
}

}  // namespace omadm_backend
