// The option string of a user-interaction alert (Item 1 of Alerts
// 1100-1104): URL-encoded name=value pairs, MINDT, MAXDT, DR, MAXLEN, IT,
// ET (omadm-protocol.md §4).  The operator may give them as an object.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace omadm_backend {

// {"MINDT":10,"DR":"1",...} -> "MINDT=10&DR=1" (fixed order, values
// percent-encoded).  False with error naming the option when one is
// unknown, of the wrong type, or not allowed for this alert code.
bool encode_alert_options(const nlohmann::json &options,
                          const std::string &code, std::string &out,
                          std::string &error);

}  // namespace omadm_backend
