// What a run measured: counters, latency samples, and the two reports
// (the human table and the --json object of docs/omadm-sim.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sim {

struct verify_counts {
    uint64_t commands = 0, correct = 0, wrong = 0, missing = 0,
             duplicated = 0;
    std::vector<std::string> problems;   // first few, for the table
};

struct stats {
    unsigned devices = 0;
    uint64_t sessions_completed = 0;
    uint64_t sessions_failed = 0;
    uint64_t session_retries = 0;
    uint64_t messages = 0;
    uint64_t sessions_active = 0;
    double   elapsed_s = 0;
    std::vector<uint32_t>             session_us;   // one per completed session
    std::vector<uint32_t>             message_us;   // one per HTTP response
    std::map<int, uint64_t>           http_status;
    std::map<std::string, uint64_t>   errors;
    bool          has_verify = false;
    verify_counts verify;

    void error(const std::string &kind) { errors[kind]++; }
};

struct percentiles {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;   // milliseconds
};

percentiles compute_percentiles(std::vector<uint32_t> samples_us);

std::string progress_line(const stats &s, double elapsed_s, uint64_t planned);
std::string report_table(const stats &s);
std::string report_json(const stats &s);

}  // namespace sim
