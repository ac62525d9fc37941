// The backend's command tree (backend/contract.hpp) as SyncML commands: Atomic
// and Sequence with their nested commands, Copy's Source, the Items of a
// user-interaction Alert.  Every command, nested or not, gets its own CmdID
// and its own entry in the session's outstanding map, so the device's
// Status for a container and for each child reaches its own backend id.
#pragma once

#include <map>
#include <string>

#include "backend/contract.hpp"
#include "codec/syncml_message.hpp"

namespace omadm {

// next_cmd_id: the CmdID to give, advanced past the whole tree.
// outstanding: "<msg_id>:<CmdID>" -> backend id, added for each command
// that expects a Status (all but a session abort, which ends the session).
command to_syncml(const backend_command &bc, const std::string &msg_id,
                  unsigned &next_cmd_id,
                  std::map<std::string, std::string> &outstanding);

// The device aborted the session (its Alert 1223): the answer carries
// Statuses only (§3.2).
bool device_aborted(const message &m);

}  // namespace omadm
