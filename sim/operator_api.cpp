#include "operator_api.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "url.hpp"

namespace sim {

struct operator_api::impl {
    impl(const std::string &scheme_host_port, std::string p)
        : cli(scheme_host_port), prefix(std::move(p))
    {}
    httplib::Client  cli;
    std::string      prefix;
    httplib::Headers headers;
};

namespace {

std::string scheme_host_port(const std::string &base, std::string &prefix)
{
    url u;
    if (!parse_url(base, u)) {
        prefix = "/";
        return base;
    }
    prefix = u.target == "/" ? "" : u.target;
    while (!prefix.empty() && prefix.back() == '/') {
        prefix.pop_back();
    }
    return (u.tls ? "https://" : "http://") + u.authority();
}

}  // namespace

operator_api::operator_api(const std::string &base, const std::string &token)
{
    std::string prefix;
    std::string shp = scheme_host_port(base, prefix);
    impl_ = std::make_unique<impl>(shp, prefix);
    impl_->cli.set_keep_alive(true);
    // httplib writes a request's head and body separately: with Nagle the
    // body waits for the backend's delayed ACK, ~40 ms a POST.
    impl_->cli.set_tcp_nodelay(true);
    impl_->cli.set_connection_timeout(5);
    impl_->cli.set_read_timeout(30);
    impl_->headers = {{"Authorization", "Bearer " + token}};
}

operator_api::~operator_api() = default;

int operator_api::call(const std::string &method, const std::string &path,
                       const std::string &body, std::string &out)
{
    std::string full = impl_->prefix + path;
    httplib::Result r = method == "GET"
        ? impl_->cli.Get(full.c_str(), impl_->headers)
        : impl_->cli.Post(full.c_str(), impl_->headers, body,
                          "application/json");
    if (!r) {
        out = "operator API " + method + " " + full + ": "
              + httplib::to_string(r.error());
        return -1;
    }
    out = r->body;
    return r->status;
}

bool operator_api::register_device(const std::string &id,
                                   const std::string &user,
                                   const std::string &pass, std::string &err)
{
    nlohmann::json req = {{"device_id", id}, {"username", user},
                          {"password", pass}};
    std::string out;
    int st = call("POST", "/devices", req.dump(), out);
    if (st == 201 || st == 409) {
        return true;
    }
    err = st < 0 ? out
                 : "register " + id + ": HTTP " + std::to_string(st) + " "
                       + out;
    return false;
}

std::string device_path(const std::string &id)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string p = "/devices/";
    for (unsigned char c : id) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            p += char(c);
        } else {
            p += '%';
            p += hex[c >> 4];
            p += hex[c & 15];
        }
    }
    return p;
}

bool for_each_parallel(const std::string &base, const std::string &token,
                       size_t n, unsigned threads,
                       const std::function<bool(operator_api &, size_t,
                                                std::string &)> &fn,
                       std::string &err)
{
    std::atomic<size_t> next{0};
    std::atomic<bool>   failed{false};
    std::mutex          mu;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads && t < n; t++) {
        pool.emplace_back([&] {
            operator_api api(base, token);
            for (size_t i; !failed && (i = next++) < n;) {
                std::string e;
                if (!fn(api, i, e)) {
                    std::lock_guard<std::mutex> lock(mu);
                    if (!failed.exchange(true)) {
                        err = e;
                    }
                }
            }
        });
    }
    for (auto &th : pool) {
        th.join();
    }
    return !failed;
}

}  // namespace sim
