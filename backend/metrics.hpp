// The backend's metrics (GET /metrics, metrics_api.hpp): counters and
// histograms that any thread bumps without a lock (relaxed atomics, fixed
// arrays), and the Prometheus text format (0.0.4) they are read in.
//
// Every series is known ahead: a route is registered with its handler,
// before serving starts, and a request no route took is counted under
// "other"; status codes are a fixed array.  So no request, however odd its
// path or method, adds a series or allocates anything here.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace omadm_backend {

// Builds the exposition text.  Every name gets the "omadm_backend_" prefix.
class MetricsText {
public:
    using Labels = std::vector<std::pair<const char *, std::string>>;

    // Starts a family: its # HELP and # TYPE lines.
    void family(const std::string &name, const char *type, const char *help);
    // A sample of the current family; suffix "" or "_bucket", "_sum", ...
    void sample(const char *suffix, const Labels &labels, uint64_t value);
    void sample(const char *suffix, const Labels &labels, double value);

    const std::string &text() const { return out_; }

private:
    void sample_head(const char *suffix, const Labels &labels);
    std::string name_;
    std::string out_;
};

// Latencies in fixed buckets from 0.5 ms to 10 s.
class LatencyHistogram {
public:
    static constexpr std::array<int64_t, 14> bounds_us = {
        500,    1000,   2500,   5000,    10000,   25000,   50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

    void observe(std::chrono::microseconds elapsed);
    // The _bucket, _sum and _count samples, with `labels` and `le`.
    void write(MetricsText &out, const MetricsText::Labels &labels) const;

private:
    std::array<std::atomic<uint64_t>, bounds_us.size() + 1> buckets_{};  // last: +Inf
    std::atomic<uint64_t> sum_us_{0};
};

// The requests one route served: a count per status code, and latencies.
class RouteStats {
public:
    RouteStats(std::string method, std::string route)
        : method_(std::move(method)), route_(std::move(route))
    {
    }

    // elapsed: nullopt for a request rejected before it was routed (its
    // headers unreadable), which has no start time.
    void record(int status, std::optional<std::chrono::microseconds> elapsed);

    const std::string &method() const { return method_; }
    const std::string &route() const { return route_; }
    void write_requests(MetricsText &out) const;
    void write_latency(MetricsText &out) const;

private:
    static constexpr int first_status = 100, last_status = 599;
    std::string method_, route_;
    // 100..599, then one for anything else (code="other").
    std::array<std::atomic<uint64_t>, last_status - first_status + 2> by_status_{};
    LatencyHistogram latency_;
};

// Why a database statement or transaction failed, for
// omadm_backend_db_errors_total.  A store maps its own codes onto these
// (sqlite_db.cpp: SQLITE_BUSY/LOCKED, CONSTRAINT, IOERR/FULL/CORRUPT...;
// a PostgreSQL store would map SQLSTATE classes 40/55, 23, 08/53/58).
enum class DbErrorKind { busy, constraint, io, other };
void count_db_error(DbErrorKind kind);

// The process's one registry.
class Metrics {
public:
    static Metrics &process();

    // At setup, before serving: the stats of `method` `route` (a pattern
    // such as "/api/v1/devices/{id}"; the same pair again returns the same).
    RouteStats &route(const std::string &method, const std::string &route);
    // Requests no route took: unknown paths and methods, malformed requests.
    RouteStats &unrouted() { return unrouted_; }

    void count_db_error(DbErrorKind kind);
    void connection_opened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
    void connection_refused() { refused_connections_.fetch_add(1, std::memory_order_relaxed); }

    void write(MetricsText &out) const;

private:
    Metrics();

    const double start_time_;  // seconds since the epoch
    mutable std::mutex routes_mutex_;  // registration and scrapes only
    std::deque<RouteStats> routes_;    // stable addresses
    RouteStats unrouted_{"other", "other"};
    std::array<std::atomic<uint64_t>, 4> db_errors_{};
    std::atomic<int64_t> open_connections_{0};
    std::atomic<uint64_t> refused_connections_{0};
};

}  // namespace omadm_backend
