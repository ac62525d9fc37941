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

// The JSON body that queues one command.
std::string queue_body(const planned_command &c);

// Checks one device's planned commands against its
// GET /devices/{id}/commands answer (a JSON array) and adds to `counts`.
void check_device(const std::string &device_id,
                  const std::vector<planned_command> &planned,
                  const std::string &commands_json, const outcome_mix &mix,
                  uint64_t seed, verify_counts &counts);

}  // namespace sim
