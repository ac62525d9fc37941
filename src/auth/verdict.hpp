// What authenticating a device message came to: $omadm_auth.  The values
// are include/omadm.h's OMADM_VERDICT_*, their names one table
// (verdict.cpp) that the glue reads through omadm_verdict_name().
#pragma once

#include <string_view>

#include "omadm.h"

namespace omadm {

enum class verdict {
    none = OMADM_VERDICT_NONE,
    ok = OMADM_VERDICT_OK,
    session = OMADM_VERDICT_SESSION,
    missing = OMADM_VERDICT_MISSING,
    failed = OMADM_VERDICT_FAILED,
    stale = OMADM_VERDICT_STALE,
    throttled = OMADM_VERDICT_THROTTLED,
    undecided = OMADM_VERDICT_UNDECIDED,
};

// The verdict's name, static and NUL-terminated; "" for no verdict value.
std::string_view verdict_name(verdict v);

}  // namespace omadm
