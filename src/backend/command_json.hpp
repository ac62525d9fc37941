// A backend command as a JSON value and back, for the session state that
// keeps the commands not sent yet (session/session_state.cpp): the same
// fields, and the same checks, as in an "exchange" answer.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "backend/contract.hpp"

namespace omadm {

nlohmann::json to_json_value(const backend_command &c);

// False with why set when j is not a command the contract allows.
bool read_command(const nlohmann::json &j, backend_command &out,
                  std::string &why);

// The same for nlohmann's conversions (a member of a kept value):
// from_json throws std::invalid_argument with the reason.
void to_json(nlohmann::json &j, const backend_command &c);
void from_json(const nlohmann::json &j, backend_command &c);

}  // namespace omadm
