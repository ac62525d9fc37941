// One epoll instance and a timer heap: the whole fleet runs on the thread
// that calls run_once() in a loop, so devices need no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace sim {

using clock = std::chrono::steady_clock;

struct io_handler {
    virtual void on_io(uint32_t events) = 0;

protected:
    ~io_handler() = default;
};

// A re-armable one-shot timer.  Arming again replaces the previous
// deadline; the owner must outlive the loop's use of it (devices and
// their connections live for the whole run).
struct timer {
    std::function<void()> fire;
    uint64_t              gen = 0;
    bool                  armed = false;
};

class event_loop {
public:
    event_loop();
    ~event_loop();
    event_loop(const event_loop &) = delete;
    event_loop &operator=(const event_loop &) = delete;

    bool ok() const { return epfd_ >= 0; }

    // epoll_ctl wrappers; level-triggered, data.ptr = handler
    bool add(int fd, uint32_t events, io_handler *h);
    bool modify(int fd, uint32_t events, io_handler *h);
    void remove(int fd);

    void arm(timer &t, clock::time_point when);
    void disarm(timer &t) { t.armed = false; }

    // Waits for I/O at most until `until` (or the next timer), dispatches
    // what is ready and every timer that is due.
    void run_once(clock::time_point until);

private:
    struct entry {
        clock::time_point when;
        uint64_t          gen;
        timer            *t;
        bool operator>(const entry &o) const { return when > o.when; }
    };

    int epfd_ = -1;
    std::priority_queue<entry, std::vector<entry>, std::greater<entry>> timers_;
};

}  // namespace sim
