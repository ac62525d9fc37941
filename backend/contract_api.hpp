// The module<->backend contract: POST /contract/{auth,nonce,exchange,object}.
#pragma once

#include "store.hpp"

#include <httplib.h>

#include <string>

namespace omadm_backend {

// contract_version 1 leaves out what version 2 added (the credential
// record in `nonce`, `credential_version`), as an older backend would.
void mount_contract_api(httplib::Server &server, Store &store,
                        const std::string &contract_key,
                        int contract_version = 2);

}  // namespace omadm_backend
