// --verify: the K commands queued per device before the run, and the check
// after it that each ended exactly as the device's outcome function says.
#pragma once

#include <string>
#include <vector>

#include "outcome.hpp"
#include "stats.hpp"

namespace sim {

struct planned_command {
    std::string verb, target, data;
    std::string id;              // the backend's command id once queued
};

// K commands: Get on even k, Replace on odd k, target ./Sim/<k>/Node.
std::vector<planned_command> plan_commands(unsigned k);

// False when a command the device received on a planned target
// (./Sim/<k>/Node) is not the planned one: another verb, or a Replace
// whose data is not d-<k>.  The device then answers 400, a status no
// outcome gives, so the check after the run counts it wrong.
bool received_as_planned(const std::string &verb, const std::string &target,
                         const std::string &data);

// The JSON body that queues one command.
std::string queue_body(const planned_command &c);

// Checks one device's planned commands against its
// GET /devices/{id}/commands answer (a JSON array) and adds to `counts`.
void check_device(const std::string &device_id,
                  const std::vector<planned_command> &planned,
                  const std::string &commands_json, const outcome_mix &mix,
                  uint64_t seed, verify_counts &counts);

}  // namespace sim
