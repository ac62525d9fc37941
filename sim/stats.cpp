#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace sim {

percentiles compute_percentiles(std::vector<uint32_t> v)
{
    percentiles p;
    if (v.empty()) {
        return p;
    }
    std::sort(v.begin(), v.end());
    // nearest rank: the smallest sample with at least q of them at or below
    auto at = [&v](double q) {
        size_t rank = size_t(std::ceil(q * double(v.size())));
        return double(v[rank == 0 ? 0 : rank - 1]) / 1000.0;
    };
    p.p50 = at(0.50);
    p.p90 = at(0.90);
    p.p99 = at(0.99);
    p.max = double(v.back()) / 1000.0;
    return p;
}

namespace {

double rate(const stats &s)
{
    return s.elapsed_s > 0 ? double(s.sessions_completed) / s.elapsed_s : 0;
}

double round3(double x)
{
    return std::round(x * 1000.0) / 1000.0;
}

nlohmann::ordered_json pct_json(const std::vector<uint32_t> &samples)
{
    percentiles p = compute_percentiles(samples);
    return {{"p50", round3(p.p50)}, {"p90", round3(p.p90)},
            {"p99", round3(p.p99)}, {"max", round3(p.max)}};
}

}  // namespace

std::string progress_line(const stats &s, double elapsed, uint64_t planned)
{
    char buf[256];
    std::string of = planned ? "/" + std::to_string(planned) : "";
    std::snprintf(buf, sizeof buf,
                  "[%6.1fs] sessions %llu%s done, %llu failed, %llu active, "
                  "%llu retries, %llu messages, %.1f sessions/s",
                  elapsed, (unsigned long long) s.sessions_completed,
                  of.c_str(), (unsigned long long) s.sessions_failed,
                  (unsigned long long) s.sessions_active,
                  (unsigned long long) s.session_retries,
                  (unsigned long long) s.messages,
                  elapsed > 0 ? double(s.sessions_completed) / elapsed : 0.0);
    return buf;
}

std::string report_table(const stats &s)
{
    std::string out;
    char buf[256];
    auto line = [&](const char *name, const std::string &value) {
        std::snprintf(buf, sizeof buf, "  %-22s %s\n", name, value.c_str());
        out += buf;
    };
    auto num = [](uint64_t n) { return std::to_string(n); };
    auto pct = [&](const std::vector<uint32_t> &v) {
        percentiles p = compute_percentiles(v);
        std::snprintf(buf, sizeof buf,
                      "p50 %.1f  p90 %.1f  p99 %.1f  max %.1f ms",
                      p.p50, p.p90, p.p99, p.max);
        return std::string(buf);
    };
    out += "omadm-sim results\n";
    line("devices", num(s.devices));
    line("sessions completed", num(s.sessions_completed));
    line("sessions failed", num(s.sessions_failed));
    line("session retries", num(s.session_retries));
    line("messages", num(s.messages));
    std::snprintf(buf, sizeof buf, "%.2f s", s.elapsed_s);
    line("elapsed", buf);
    std::snprintf(buf, sizeof buf, "%.1f", rate(s));
    line("sessions/s", buf);
    line("session latency", pct(s.session_us));
    line("message latency", pct(s.message_us));
    std::string st;
    for (const auto &h : s.http_status) {
        st += (st.empty() ? "" : "  ") + std::to_string(h.first) + ": "
              + num(h.second);
    }
    line("HTTP statuses", st.empty() ? "-" : st);
    std::string er;
    for (const auto &e : s.errors) {
        er += (er.empty() ? "" : "  ") + e.first + ": " + num(e.second);
    }
    line("errors", er.empty() ? "none" : er);
    if (s.has_verify) {
        const verify_counts &v = s.verify;
        line("verify", num(v.commands) + " commands, " + num(v.correct)
                           + " correct, " + num(v.wrong) + " wrong, "
                           + num(v.missing) + " missing, "
                           + num(v.duplicated) + " duplicated");
        for (const auto &p : v.problems) {
            line("", p);
        }
    }
    return out;
}

std::string report_json(const stats &s)
{
    nlohmann::ordered_json j;
    j["devices"] = s.devices;
    j["sessions_completed"] = s.sessions_completed;
    j["sessions_failed"] = s.sessions_failed;
    j["session_retries"] = s.session_retries;
    j["messages"] = s.messages;
    j["elapsed_s"] = round3(s.elapsed_s);
    j["sessions_per_second"] = round3(rate(s));
    j["session_ms"] = pct_json(s.session_us);
    j["message_ms"] = pct_json(s.message_us);
    j["http_status"] = nlohmann::ordered_json::object();
    for (const auto &h : s.http_status) {
        j["http_status"][std::to_string(h.first)] = h.second;
    }
    j["errors"] = nlohmann::ordered_json::object();
    for (const auto &e : s.errors) {
        j["errors"][e.first] = e.second;
    }
    if (s.has_verify) {
        j["verify"] = {{"commands", s.verify.commands},
                       {"correct", s.verify.correct},
                       {"wrong", s.verify.wrong},
                       {"missing", s.verify.missing},
                       {"duplicated", s.verify.duplicated}};
    }
    return j.dump() + "\n";
}

}  // namespace sim
