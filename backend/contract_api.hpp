// The module<->backend contract: POST /contract/{auth,nonce,exchange,object}.
#pragma once

#include "store.hpp"

#include <httplib.h>

#include <string>

namespace omadm_backend {

void mount_contract_api(httplib::Server &server, Store &store,
                        const std::string &contract_key);

}  // namespace omadm_backend
