#include "console_api.hpp"

#include "clock.hpp"
#include "http_json.hpp"

namespace omadm_backend {

namespace {

thread_local OperatorRole role_now = OperatorRole::operator_;

using Req = httplib::Request;
using Res = httplib::Response;

// The opaque cursor: hex of "<sort key>\n<device id>" (neither holds LF).
std::string encode_cursor(const std::pair<std::string, std::string> &after)
{
    static const char digits[] = "0123456789abcdef";
    std::string raw = after.first + "\n" + after.second, out;
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::optional<std::pair<std::string, std::string>>
decode_cursor(const std::string &hex)
{
    if (hex.empty() || hex.size() % 2 || hex.size() > 2048) {
        return std::nullopt;
    }
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string raw;
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        raw += static_cast<char>(hi * 16 + lo);
    }
    size_t nl = raw.find('\n');
    if (nl == std::string::npos) return std::nullopt;
    return std::make_pair(raw.substr(0, nl), raw.substr(nl + 1));
}

}  // namespace

RoleScope::RoleScope(OperatorRole r) { role_now = r; }
RoleScope::~RoleScope() { role_now = OperatorRole::operator_; }
OperatorRole current_role() { return role_now; }

void add_console_routes(PathRouter &r, Store &store)
{
    r.add("GET", "/api/v1/whoami",
          [](const Req &, Res &res, const PathRouter::Params &) {
              reply_json(res, 200,
                         {{"role", current_role() == OperatorRole::viewer
                                       ? "viewer"
                                       : "operator"}});
          });
    r.add("GET", "/api/v1/stats",
          [&store](const Req &, Res &res, const PathRouter::Params &) {
              reply_json(res, 200, store.stats(now_iso8601()));
          });
}

bool reply_device_page(Store &store, const Req &req, Res &res)
{
    bool paged = false;
    for (const char *p : {"limit", "cursor", "q", "sort"}) {
        paged = paged || req.has_param(p);
    }
    if (!paged) {
        return false;
    }
    DevicePageQuery q;
    if (req.has_param("limit")) {
        const std::string v = req.get_param_value("limit");
        size_t n = 0;
        bool ok = !v.empty() && v.size() <= 4;
        for (char c : v) {
            ok = ok && c >= '0' && c <= '9';
            n = n * 10 + static_cast<size_t>(c - '0');
        }
        if (!ok || n < 1 || n > 500) {
            reply_error(res, 400, "\"limit\" must be a number from 1 to 500");
            return true;
        }
        q.limit = n;
    }
    if (req.has_param("sort")) {
        std::string s = req.get_param_value("sort");
        q.descending = !s.empty() && s[0] == '-';
        if (q.descending) s.erase(0, 1);
        if (s != "device_id" && s != "created_at" && s != "last_seen") {
            reply_error(res, 400,
                        "\"sort\" must be device_id, created_at or last_seen,"
                        " optionally preceded by -");
            return true;
        }
        q.sort = s;
    }
    if (req.has_param("q")) {
        q.q = req.get_param_value("q");
        if (q.q.size() > 256) {
            reply_error(res, 400, "\"q\" is longer than 256 bytes");
            return true;
        }
    }
    if (req.has_param("cursor")) {
        q.after = decode_cursor(req.get_param_value("cursor"));
        if (!q.after) {
            reply_error(res, 400, "\"cursor\" is not a cursor this API gave");
            return true;
        }
    }
    DevicePage page = store.device_page(q);
    reply_json(res, 200,
               {{"devices", page.devices},
                {"next_cursor",
                 page.next ? json(encode_cursor(*page.next)) : json(nullptr)}});
    return true;
}

}  // namespace omadm_backend
