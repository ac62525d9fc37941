// One simulated device: its credentials and nonce, and the state machine
// of a session (package 1, challenges, answers, RespURI) with retries of a
// failed session as a new session.  Everything runs on the event loop.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connection.hpp"
#include "device_messages.hpp"
#include "options.hpp"
#include "stats.hpp"
#include "url.hpp"

namespace sim {

struct device_identity {
    std::string id, username, password;
};

// What every device shares for the run.
struct run_context {
    const options        &opt;
    event_loop           &loop;
    const server_address &server;
    const tls_context    *tls;        // nullptr for plain http
    url                   base;       // --url
    std::string           run_tag;    // makes SessionIDs unique per run
    stats                &st;
};

class device final : private http_connection::sink {
public:
    // called when a session ended, completed (true) or failed for good
    using done_fn = std::function<void(device &, bool)>;

    device(run_context &ctx, device_identity who, done_fn on_done);

    void start_session();
    bool busy() const { return busy_; }
    const device_identity &identity() const { return who_; }

    unsigned remaining = 0;    // sessions still to run (the fleet's count)

private:
    enum class wait { none, timeout, retry, slow };

    void begin_attempt();
    void send_package1(bool with_status);
    void send_answer();
    void post(const std::string &xml);
    std::string hmac_header(const std::string &body) const;
    device_header header(bool with_cred) const;
    void handle(omadm::message &&m);
    outcome tree_outcome(const omadm::command &c, const std::string &target);
    void attempt_failed(const std::string &kind, long delay_ms = -1);
    void session_failed(const std::string &kind);
    void finish(bool ok);
    void on_timer();

    void on_response(http_response &r) override;
    void on_failure(const std::string &kind) override;

    run_context    &ctx_;
    device_identity who_;
    done_fn         on_done_;
    std::string     inner_;          // B64(MD5(user:pass)): MD5 and HMAC
    http_connection conn_;
    timer           timer_;
    wait            waiting_ = wait::none;

    bool        busy_ = false;
    std::string nonce_;               // raw bytes of the last NextNonce
    bool        has_nonce_ = false;
    unsigned    session_seq_ = 0;     // every attempt gets a new SessionID
    std::map<std::string, std::string> tree_;  // --tree: the DM tree
    unsigned    sessions_begun_ = 0;  // for --drift
    unsigned    attempts_ = 0;        // failed attempts of this session
    clock::time_point session_start_, sent_at_;

    // the current attempt
    std::string    session_id_;
    unsigned       msg_id_ = 0;
    std::string    target_uri_;       // Target/LocURI: URL or RespURI
    std::string    path_;             // request target on the connection
    bool           authed_ = false;
    unsigned       challenges_ = 0;
    omadm::message last_;             // the server's last message
    std::vector<command_answer> answers_;
};

}  // namespace sim
