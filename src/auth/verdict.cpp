#include "auth/verdict.hpp"

namespace omadm {

namespace {

// Indexed by OMADM_VERDICT_*: the words README.md documents.
constexpr std::string_view k_names[] = {
    "none",   "ok",    "session",   "missing",
    "failed", "stale", "throttled", "undecided",
};

}  // namespace

std::string_view verdict_name(verdict v)
{
    size_t i = size_t(v);
    return i < sizeof(k_names) / sizeof(k_names[0]) ? k_names[i]
                                                    : std::string_view();
}

}  // namespace omadm
