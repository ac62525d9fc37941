#include "clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace omadm_backend {

std::string now_iso8601()
{
    using namespace std::chrono;
    auto now = system_clock::now();
    auto ms =
        duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[32];
    std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%s.%03dZ", date, static_cast<int>(ms));
    return buf;
}

std::string iso8601(std::time_t t)
{
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

}  // namespace omadm_backend
