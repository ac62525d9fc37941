#include "request_log.hpp"

#include "clock.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

namespace omadm_backend {

namespace {

using steady = std::chrono::steady_clock;

// httplib serves a connection on one pool thread from the request line to
// the logger call, so the start time of the request in progress can live in
// a thread_local. Requests rejected before routing (a malformed request
// line) have none and are logged with "-".
thread_local std::optional<steady::time_point> request_start;

// Method or raw path as sent, control bytes and spaces masked: a log line
// must stay one line of space-separated fields whatever a client sends.
std::string printable(std::string s)
{
    if (s.size() > 512) {
        s = s.substr(0, 512) + "...";
    }
    for (char &c : s) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    return s.empty() ? "-" : s;
}

httplib::Server::HandlerResponse mark_start(const httplib::Request &,
                                            httplib::Response &)
{
    request_start = steady::now();
    return httplib::Server::HandlerResponse::Unhandled;
}

std::string elapsed_ms()
{
    std::optional<std::chrono::microseconds> d = request_elapsed();
    if (!d) {
        return "-";
    }
    request_start.reset();
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f",
                  static_cast<double>(d->count()) / 1000.0);
    return buf;
}

}  // namespace

std::optional<std::chrono::microseconds> request_elapsed()
{
    if (!request_start) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::microseconds>(
        steady::now() - *request_start);
}

void log_line(const std::string &msg)
{
    std::string line = now_iso8601() + " " + msg + "\n";
    // One write per line, so lines from pool threads do not interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

namespace {

void log_request(const httplib::Request &req, const httplib::Response &res)
{
    std::string path = req.target.substr(0, req.target.find('?'));
    log_line(req.remote_addr + " " + printable(req.method) + " "
             + printable(path) + " " + std::to_string(res.status) + " "
             + elapsed_ms() + "ms");
}

}  // namespace

void install_request_log(httplib::Server &server)
{
    server.set_pre_routing_handler(mark_start);
    server.set_logger(log_request);
}

}  // namespace omadm_backend
