#include "event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

namespace sim {

event_loop::event_loop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {}

event_loop::~event_loop()
{
    if (epfd_ >= 0) {
        ::close(epfd_);
    }
}

bool event_loop::add(int fd, uint32_t events, io_handler *h)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool event_loop::modify(int fd, uint32_t events, io_handler *h)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void event_loop::remove(int fd)
{
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void event_loop::arm(timer &t, clock::time_point when)
{
    t.gen++;
    t.armed = true;
    timers_.push(entry{when, t.gen, &t});
}

void event_loop::run_once(clock::time_point until)
{
    auto now = clock::now();
    // drop stale heap entries so the wait below is not cut short by them
    while (!timers_.empty()
           && (!timers_.top().t->armed || timers_.top().t->gen != timers_.top().gen))
    {
        timers_.pop();
    }
    if (!timers_.empty() && timers_.top().when < until) {
        until = timers_.top().when;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - now).count();
    if (wait < 0) {
        wait = 0;
    }
    if (wait > 1000) {
        wait = 1000;
    }

    epoll_event events[256];
    int n = epoll_wait(epfd_, events, 256, int(wait) + (wait > 0 ? 1 : 0));
    for (int i = 0; i < n; i++) {
        static_cast<io_handler *>(events[i].data.ptr)->on_io(events[i].events);
    }

    now = clock::now();
    while (!timers_.empty() && timers_.top().when <= now) {
        entry e = timers_.top();
        timers_.pop();
        if (e.t->armed && e.t->gen == e.gen) {
            e.t->armed = false;
            e.t->fire();
        }
    }
}

}  // namespace sim
