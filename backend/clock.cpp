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

std::string iso8601_hours_before(const std::string &iso, int hours)
{
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
                    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                    &tm.tm_sec, &ms)
        != 7) {
        return iso;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::time_t t = timegm(&tm) - static_cast<std::time_t>(hours) * 3600;
    std::string out = iso8601(t);
    char frac[8];
    std::snprintf(frac, sizeof(frac), ".%03dZ", ms % 1000);
    return out.substr(0, out.size() - 5) + frac;
}

}  // namespace omadm_backend
