// Registering the fleet before the run: POST /devices:batch, 10,000
// devices a request, or one POST /devices per device where the backend
// has no batch endpoint (it answers 404).
#pragma once

#include <string>
#include <vector>

#include "device.hpp"

namespace sim {

// true when every device was created or already existed
bool register_fleet(const std::string &api_base, const std::string &token,
                    const std::vector<device_identity> &ids, unsigned threads,
                    std::string &err);

}  // namespace sim
