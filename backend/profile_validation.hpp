// Turning group and profile request bodies into store inputs, with a 400
// message that says what is wrong (and for raw SyncML on which line).
#pragma once

#include "profile_model.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace omadm_backend {

// A group or profile name: 1 to 128 characters, no control characters.
bool valid_name(const std::string &name, std::string &error);

// {"name"} of POST /api/v1/groups.
std::optional<std::string> parse_group_name(const nlohmann::json &body,
                                            std::string &error);

// POST and PUT /api/v1/profiles: {"name", "settings": [...]} or {"name",
// "syncml": "..."}.  With `path_name` (PUT) the body's name may be left
// out but must match when given.
std::optional<NewProfile>
parse_new_profile(const nlohmann::json &body,
                  const std::optional<std::string> &path_name,
                  ProfileError &err);

}  // namespace omadm_backend
