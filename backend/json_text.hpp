// The one way this backend turns JSON into text, so a size measured while
// building an answer is the size actually sent.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace omadm_backend {

// Compact, UTF-8 kept as is; "replace": a stored string that is not valid
// UTF-8 must not turn a whole answer into an exception.
inline std::string json_text(const nlohmann::json &j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace omadm_backend
