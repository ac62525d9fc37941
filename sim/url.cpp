#include "url.hpp"

#include <cstdlib>

namespace sim {

std::string url::authority() const
{
    bool dflt = (tls && port == 443) || (!tls && port == 80);
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]"
                                                          : host;
    return dflt ? h : h + ":" + std::to_string(port);
}

bool parse_url(const std::string &text, url &out)
{
    url u;
    std::string rest;
    if (text.compare(0, 8, "https://") == 0) {
        u.tls = true;
        rest = text.substr(8);
    } else if (text.compare(0, 7, "http://") == 0) {
        rest = text.substr(7);
    } else {
        return false;
    }
    auto slash = rest.find_first_of("/?");
    std::string hostport = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (u.target[0] == '?') {
        u.target = "/" + u.target;
    }
    std::string port;
    if (!hostport.empty() && hostport[0] == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos) {
            return false;
        }
        u.host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size()) {
            if (hostport[close + 1] != ':') {
                return false;
            }
            port = hostport.substr(close + 2);
        }
    } else {
        auto colon = hostport.rfind(':');
        u.host = hostport.substr(0, colon);
        if (colon != std::string::npos) {
            port = hostport.substr(colon + 1);
        }
    }
    if (u.host.empty()) {
        return false;
    }
    if (port.empty()) {
        u.port = u.tls ? 443 : 80;
    } else {
        char *end = nullptr;
        unsigned long p = std::strtoul(port.c_str(), &end, 10);
        if (*end != '\0' || p == 0 || p > 65535) {
            return false;
        }
        u.port = unsigned(p);
    }
    out = u;
    return true;
}

}  // namespace sim
