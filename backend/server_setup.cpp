#include "server_setup.hpp"

#include "console_static.hpp"
#include "contract_api.hpp"
#include "enrollment_service.hpp"
#include "http_json.hpp"
#include "operator_api.hpp"
#include "request_log.hpp"
#include "request_metrics.hpp"
#include "request_stream.hpp"

#include <exception>
#include <limits>

namespace omadm_backend {

ConnectionLimits connection_limits(const Options &opt, Apis apis)
{
    return {static_cast<size_t>(opt.threads),
            apis == Apis::contract
                ? std::numeric_limits<size_t>::max()
                : static_cast<size_t>(opt.max_client_connections),
            std::chrono::seconds(opt.header_timeout),
            std::chrono::seconds(opt.body_timeout)};
}

void configure_server(httplib::Server &server, Store &store, const Options &opt,
                      Apis apis)
{
    server.set_payload_max_length(max_body_bytes);
    // nginx keeps connections to us open (upstream `keepalive`) and sends
    // request after request on each: allow as many as its own default
    // keepalive_requests.  An idle one holds a thread for
    // --keepalive-timeout; nginx's upstream keepalive_timeout must be
    // shorter, so that nginx, not we, closes an idle connection (a request
    // sent on one we are closing would fail).
    server.set_keep_alive_max_count(1000);
    server.set_keep_alive_timeout(opt.keepalive_timeout);

    install_request_log(server);
    install_request_metrics(server);

    // Errors httplib produces itself (404 for an unknown path, 413, 400)
    // get the same {"error": ...} shape as ours; a request it could not
    // read because it came too slowly (or too large) says so.
    server.set_error_handler(
        [](const httplib::Request &, httplib::Response &res) {
            if (const auto &cut = request_cut_off_on_this_thread()) {
                reply_error(res, cut->status, cut->reason);
                res.set_header("Connection", "close");
            } else if (res.body.empty()) {
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
    if (apis != Apis::operator_api) {
        mount_contract_api(server, store, opt.contract_key,
                           opt.contract_version);
    }
    if (apis != Apis::contract) {
        mount_operator_api(server, store, opt.admin_token, opt.viewer_token);
        mount_enrollment_services(server, store, opt);
        if (!opt.console_dir.empty()) {
            mount_console(server, opt.console_dir);
        }
    }
}

}  // namespace omadm_backend
