#include "console_static.hpp"

#include "http_json.hpp"
#include "request_metrics.hpp"

#include <fstream>
#include <sstream>

namespace omadm_backend {

const char *const console_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

const char *content_type(const std::string &name)
{
    auto ends = [&name](const char *ext) {
        std::string e = ext;
        return name.size() > e.size()
               && name.compare(name.size() - e.size(), e.size(), e) == 0;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    if (ends(".ico")) return "image/x-icon";
    if (ends(".json")) return "application/json";
    return nullptr;  // not served
}

// Only plain names: letters, digits, '-', '_', '.', '/' between them, no
// ".." or hidden files.
bool safe_name(const std::string &name)
{
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '_'
                  || c == '.' || c == '/';
        if (!ok) return false;
    }
    return name[0] != '/' && name.find("..") == std::string::npos
           && name.find("/.") == std::string::npos && name[0] != '.';
}

void security_headers(httplib::Response &res)
{
    res.set_header("Content-Security-Policy", console_csp);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cache-Control", "no-cache");
}

}  // namespace

void mount_console(httplib::Server &server, const std::string &dir)
{
    add_counted_route(server, "GET", "/console",
                      [](const httplib::Request &, httplib::Response &res) {
                          res.status = 301;
                          res.set_header("Location", "/console/");
                      });
    add_counted_route(server, "GET", "/console/(.*)", [dir](const httplib::Request &req,
                                      httplib::Response &res) {
        std::string name = req.matches[1];
        if (name.empty()) name = "index.html";
        const char *type = safe_name(name) ? content_type(name) : nullptr;
        std::ifstream in;
        if (type) in.open(dir + "/" + name, std::ios::binary);
        security_headers(res);
        if (!type || !in) {
            reply_error(res, 404, "not found");
            return;
        }
        std::ostringstream body;
        body << in.rdbuf();
        res.status = 200;
        res.set_content(body.str(), type);
    }, "/console/{file}");
}

}  // namespace omadm_backend
