#include "fleet.hpp"

#include <climits>
#include <cstdio>

namespace sim {

fleet::fleet(run_context &ctx, const std::vector<device_identity> &ids)
    : ctx_(ctx)
{
    const options &o = ctx.opt;
    // with a duration and no --sessions, devices cycle until the deadline
    unsigned per_device = o.duration_s > 0 && !o.sessions_given ? UINT_MAX
                                                                : o.sessions;
    for (const auto &id : ids) {
        devices_.push_back(std::make_unique<device>(
            ctx, id, [this](device &d, bool) { session_done(d); }));
        devices_.back()->remaining = per_device;
        ready_.push_back(devices_.back().get());
    }
    planned_ = per_device == UINT_MAX ? 0 : uint64_t(per_device) * ids.size();
}

void fleet::session_done(device &d)
{
    active_--;
    ctx_.st.sessions_active = active_;
    if (d.remaining > 0) {
        ready_.push_back(&d);
    }
}

void fleet::dispatch()
{
    const options &o = ctx_.opt;
    uint64_t limit = o.concurrency ? o.concurrency : devices_.size();
    while (!stopping_ && !ready_.empty()) {
        if (o.rate > 0 ? backlog_ == 0 : active_ >= limit) {
            break;
        }
        if (o.rate > 0) {
            backlog_--;
        }
        device *d = ready_.front();
        ready_.pop_front();
        if (d->remaining != UINT_MAX) {
            d->remaining--;
        }
        active_++;
        d->start_session();
    }
    ctx_.st.sessions_active = active_;
}

void fleet::run()
{
    const options &o = ctx_.opt;
    auto start = clock::now();
    auto never = start + std::chrono::hours(24 * 365);
    auto deadline = o.duration_s > 0
        ? start + std::chrono::microseconds(long(o.duration_s * 1e6))
        : never;
    auto period = o.rate > 0
        ? std::chrono::nanoseconds(long(1e9 / o.rate))
        : std::chrono::nanoseconds(0);
    auto next_start = start;
    auto next_progress = start + std::chrono::seconds(1);

    for (;;) {
        auto now = clock::now();
        if (!stopping_ && now >= deadline) {
            stopping_ = true;
        }
        if (o.rate > 0 && !stopping_) {
            while (next_start <= now) {
                backlog_++;
                next_start += period;
            }
        }
        dispatch();
        if (active_ == 0 && (stopping_ || ready_.empty())) {
            break;
        }
        double secs = std::chrono::duration<double>(now - start).count();
        if (now >= next_progress) {
            if (!o.quiet) {
                std::fprintf(stderr, "%s\n",
                             progress_line(ctx_.st, secs, planned_).c_str());
            }
            next_progress += std::chrono::seconds(1);
        }
        auto wake = std::min(next_progress, deadline);
        if (o.rate > 0 && !stopping_) {
            wake = std::min(wake, next_start);
        }
        ctx_.loop.run_once(wake);
    }
    ctx_.st.elapsed_s =
        std::chrono::duration<double>(clock::now() - start).count();
}

}  // namespace sim
