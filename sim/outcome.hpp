// The answer a simulated device gives a server command: a pure function of
// (seed, device id, target), so a run can be repeated and --verify can
// compute what every queued command must end with.
#pragma once

#include <cstdint>
#include <string>

namespace sim {

enum class outcome_kind { ok, notfound, fail, slow };

// Weights of the four outcomes (any non-negative integers, not all zero).
struct outcome_mix {
    unsigned ok = 100, notfound = 0, fail = 0, slow = 0;
};

struct outcome {
    outcome_kind kind;
    int          status;     // the SyncML Status code the device sends
    std::string  data;       // Results/Data for a Get answered 200
};

// "ok=80,notfound=10,fail=5,slow=5"; names not given weigh 0.
bool parse_mix(const std::string &text, outcome_mix &out, std::string &err);

// 64-bit FNV-1a over the parts separated by a NUL byte, then mixed.
uint64_t stable_hash(uint64_t seed, const std::string &a, const std::string &b);

outcome decide_outcome(const outcome_mix &mix, uint64_t seed,
                       const std::string &device_id, const std::string &target);

}  // namespace sim
