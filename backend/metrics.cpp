#include "metrics.hpp"

#include <cstdio>

namespace omadm_backend {

namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// A label value as the text format wants it: \, " and newline escaped.
void append_label_value(std::string &out, const std::string &v)
{
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

// "0.0005", "1.0": whole seconds with a ".0", as the Python client and
// Prometheus 3 write them, so series keep one name across exporters.
std::string le_text(int64_t us)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, us % 1000000 ? "%g" : "%.1f",
                  static_cast<double>(us) / 1e6);
    return buf;
}

const char *kind_name(size_t kind)
{
    static const char *const names[] = {"busy", "constraint", "io", "other"};
    return names[kind];
}

}  // namespace

void MetricsText::family(const std::string &name, const char *type,
                         const char *help)
{
    name_ = "omadm_backend_" + name;
    out_ += "# HELP " + name_ + " " + help + "\n";
    out_ += "# TYPE " + name_ + " " + type + "\n";
}

void MetricsText::sample_head(const char *suffix, const Labels &labels)
{
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) {
        out_ += '{';
        for (size_t i = 0; i < labels.size(); i++) {
            if (i) {
                out_ += ',';
            }
            out_ += labels[i].first;
            out_ += "=\"";
            append_label_value(out_, labels[i].second);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
}

void MetricsText::sample(const char *suffix, const Labels &labels,
                         uint64_t value)
{
    sample_head(suffix, labels);
    out_ += std::to_string(value) + "\n";
}

void MetricsText::sample(const char *suffix, const Labels &labels,
                         double value)
{
    sample_head(suffix, labels);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f\n", value);
    out_ += buf;
}

void LatencyHistogram::observe(std::chrono::microseconds elapsed)
{
    int64_t us = elapsed.count() < 0 ? 0 : elapsed.count();
    size_t i = 0;
    while (i < bounds_us.size() && us > bounds_us[i]) {
        i++;
    }
    buckets_[i].fetch_add(1, relaxed);
    sum_us_.fetch_add(static_cast<uint64_t>(us), relaxed);
}

void LatencyHistogram::write(MetricsText &out,
                             const MetricsText::Labels &labels) const
{
    // The count is the buckets' total, so +Inf and _count agree even while
    // requests are being observed.
    uint64_t cumulative = 0;
    MetricsText::Labels with_le = labels;
    with_le.emplace_back("le", "");
    for (size_t i = 0; i < buckets_.size(); i++) {
        cumulative += buckets_[i].load(relaxed);
        with_le.back().second =
            i < bounds_us.size() ? le_text(bounds_us[i]) : "+Inf";
        out.sample("_bucket", with_le, cumulative);
    }
    out.sample("_sum", labels,
               static_cast<double>(sum_us_.load(relaxed)) / 1e6);
    out.sample("_count", labels, cumulative);
}

void RouteStats::record(int status,
                        std::optional<std::chrono::microseconds> elapsed)
{
    size_t i = status >= first_status && status <= last_status
                   ? static_cast<size_t>(status - first_status)
                   : by_status_.size() - 1;
    by_status_[i].fetch_add(1, relaxed);
    if (elapsed) {
        latency_.observe(*elapsed);
    }
}

// Only the codes seen: a series appears with its first request.
void RouteStats::write_requests(MetricsText &out) const
{
    for (size_t i = 0; i < by_status_.size(); i++) {
        uint64_t n = by_status_[i].load(relaxed);
        if (n == 0) {
            continue;
        }
        std::string code = i + 1 < by_status_.size()
                               ? std::to_string(first_status + static_cast<int>(i))
                               : "other";
        out.sample("", {{"method", method_}, {"route", route_}, {"code", code}},
                   n);
    }
}

void RouteStats::write_latency(MetricsText &out) const
{
    latency_.write(out, {{"method", method_}, {"route", route_}});
}

void count_db_error(DbErrorKind kind)
{
    Metrics::process().count_db_error(kind);
}

Metrics &Metrics::process()
{
    static Metrics metrics;
    return metrics;
}

Metrics::Metrics()
    : start_time_(std::chrono::duration<double>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count())
{
}

RouteStats &Metrics::route(const std::string &method, const std::string &route)
{
    std::lock_guard<std::mutex> lock(routes_mutex_);
    for (RouteStats &r : routes_) {
        if (r.method() == method && r.route() == route) {
            return r;
        }
    }
    return routes_.emplace_back(method, route);
}

void Metrics::count_db_error(DbErrorKind kind)
{
    db_errors_[static_cast<size_t>(kind)].fetch_add(1, relaxed);
}

void Metrics::write(MetricsText &out) const
{
    std::lock_guard<std::mutex> lock(routes_mutex_);
    out.family("http_requests_total", "counter",
               "HTTP requests answered, by route pattern and status code"
               " (route \"other\": no route took it)");
    for (const RouteStats &r : routes_) {
        r.write_requests(out);
    }
    unrouted_.write_requests(out);
    out.family("http_request_duration_seconds", "histogram",
               "Time from a request's headers to its answer being ready,"
               " by route pattern");
    for (const RouteStats &r : routes_) {
        r.write_latency(out);
    }
    unrouted_.write_latency(out);

    out.family("db_errors_total", "counter",
               "Database statements or transactions that failed, by kind");
    for (size_t k = 0; k < db_errors_.size(); k++) {
        out.sample("", {{"kind", kind_name(k)}}, db_errors_[k].load(relaxed));
    }

    out.family("open_connections", "gauge",
               "Client connections open on all listeners");
    int64_t open = open_connections_.load(relaxed);
    out.sample("", {}, static_cast<uint64_t>(open < 0 ? 0 : open));
    out.family("refused_connections_total", "counter",
               "Connections refused past --max-client-connections");
    out.sample("", {}, refused_connections_.load(relaxed));
    out.family("start_time_seconds", "gauge",
               "When the process started, in seconds since the Unix epoch");
    out.sample("", {}, start_time_);
}

}  // namespace omadm_backend
