// Schedules the devices' sessions: closed loop (at most C sessions at a
// time) or open loop (R session starts per second), an optional duration
// after which no session starts, and the progress line.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "device.hpp"

namespace sim {

class fleet {
public:
    fleet(run_context &ctx, const std::vector<device_identity> &ids);

    // Runs until every session ended (or, with --duration, until the
    // deadline and the drain of the sessions in flight).
    void run();

    // sessions the run was asked for; 0 when only a duration bounds it
    uint64_t planned() const { return planned_; }

private:
    void dispatch();
    void session_done(device &d);

    run_context                         &ctx_;
    std::vector<std::unique_ptr<device>> devices_;
    std::deque<device *>                 ready_;   // idle, sessions left
    uint64_t active_ = 0;
    uint64_t backlog_ = 0;     // open loop: starts due, not yet served
    uint64_t planned_ = 0;
    bool     stopping_ = false;
};

}  // namespace sim
