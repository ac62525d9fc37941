// Timestamps as the API shows them: ISO-8601 UTC with milliseconds,
// "2025-01-31T12:34:56.789Z". Fixed width, so they also sort as text.
#pragma once

#include <ctime>
#include <string>

namespace omadm_backend {

std::string now_iso8601();

// A moment to the second, in the same format (".000Z").
std::string iso8601(std::time_t t);

// `hours` before the moment `iso` (this format), its milliseconds kept;
// `iso` itself when it is not in this format.
std::string iso8601_hours_before(const std::string &iso, int hours);

}  // namespace omadm_backend
