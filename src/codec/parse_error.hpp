// Why a device message could not be decoded: what both decoders (XML and
// WBXML) and the builder they share report.
#pragma once

#include <string>

namespace omadm {

struct parse_error {
    std::string reason;    // for the 400 body / error log; no secrets
    bool too_big = false;  // a limit of omadm_limits_t tripped (413)
};

}  // namespace omadm
