#include "server_setup.hpp"

#include "contract_api.hpp"
#include "http_json.hpp"
#include "operator_api.hpp"
#include "request_log.hpp"

#include <exception>

namespace omadm_backend {

void configure_server(httplib::Server &server, Store &store, const Options &opt)
{
    int threads = opt.threads;
    server.new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    server.set_payload_max_length(max_body_bytes);
    // An idle keep-alive connection holds a pool thread, and stop() waits
    // for it: keep the wait short. nginx's proxy_pass closes after each
    // subrequest unless an upstream `keepalive` is configured, and reopening
    // a loopback connection is cheap.
    server.set_keep_alive_timeout(2);
    // httplib writes headers and body separately; without TCP_NODELAY the
    // body waits for the client's delayed ACK (40 ms per request).
    server.set_tcp_nodelay(true);

    install_request_log(server);

    // Errors httplib produces itself (404 for an unknown path, 413, 400)
    // get the same {"error": ...} shape as ours.
    server.set_error_handler(
        [](const httplib::Request &, httplib::Response &res) {
            if (res.body.empty()) {
                reply_error(res, res.status,
                            res.status == 404   ? "not found"
                            : res.status == 413 ? "request body too large"
                                                : "bad request");
            }
        });
    server.set_exception_handler([](const httplib::Request &,
                                    httplib::Response &res,
                                    std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            what = e.what();
        } catch (...) {
        }
        log_line("error: " + what);
        reply_error(res, 500, "internal error");
    });

    store.set_profile_recheck_hours(opt.profile_recheck_hours);
    store.set_profile_recheck_sessions(opt.profile_recheck_sessions);
    mount_contract_api(server, store, opt.contract_key);
    mount_operator_api(server, store, opt.admin_token);
}

}  // namespace omadm_backend
