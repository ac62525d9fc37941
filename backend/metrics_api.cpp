#include "metrics_api.hpp"

namespace omadm_backend {

namespace {

void write_connection_stats(MetricsText &out, const Store::ConnectionStats &s)
{
    out.family("db_write_queue_depth", "gauge",
               "Write calls waiting for the group-commit writer");
    out.sample("", {}, static_cast<uint64_t>(s.writer.queued));
    out.family("db_commits_total", "counter",
               "Transactions the group-commit writer ended (committed or"
               " rolled back)");
    out.sample("", {}, s.writer.commits);
    out.family("db_write_calls_total", "counter",
               "Write calls run in those transactions (calls per commit:"
               " the grouping achieved)");
    out.sample("", {}, s.writer.calls);
    out.family("db_readers_busy", "gauge", "Reader connections in use");
    out.sample("", {}, static_cast<uint64_t>(s.readers.busy));
    out.family("db_reader_waits_total", "counter",
               "Read calls that had to wait for a free reader connection");
    out.sample("", {}, s.readers.waits);
}

}  // namespace

void add_metrics_route(PathRouter &router, Store &store)
{
    router.add("GET", "/metrics",
               [&store](const httplib::Request &, httplib::Response &res,
                        const PathRouter::Params &) {
                   MetricsText out;
                   Metrics::process().write(out);
                   write_connection_stats(out, store.connection_stats());
                   res.status = 200;
                   res.set_content(out.text(),
                                   "text/plain; version=0.0.4; charset=utf-8");
               });
}

}  // namespace omadm_backend
