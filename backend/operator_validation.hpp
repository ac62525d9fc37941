// Turning operator request bodies into store inputs, with a message that
// says what is wrong for a 400.
#pragma once

#include "store.hpp"

#include <optional>
#include <string>

namespace omadm_backend {

// {"device_id","username","password"}: non-empty strings, the id and the
// user name (and the optional server_username) of at most 256 bytes.
std::optional<NewDevice> parse_new_device(const json &body, std::string &error);

// {"verb","target","data"?,"format"?,"type"?,"correlator"? (Exec only)},
// Copy's "source", an Alert's "data" (its code), "options", "text",
// "choices", a container's "commands" (nested, within the container
// limits), all within the size limits of contract_command.hpp
// (docs/backend-api.md, "Commands") and without control characters XML
// cannot carry.
std::optional<NewCommand> parse_new_command(const json &body,
                                            std::string &error);

}  // namespace omadm_backend
