// Splits the few URLs the simulator uses (http[s]://host[:port]/path?query).
#pragma once

#include <string>

namespace sim {

struct url {
    bool        tls = false;
    std::string host;
    unsigned    port = 0;
    std::string target;   // path and query, at least "/"

    // "host:port" or "host" when the port is the scheme's default, for Host:
    std::string authority() const;
};

bool parse_url(const std::string &text, url &out);

}  // namespace sim
