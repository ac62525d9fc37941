// One device message, from its body to the HTTP answer: authentication,
// session bookkeeping, backend calls and the response message.  Driven by
// the C ABI in c_api_exchange.cpp (see include/omadm.h for the loop).
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backend_json.hpp"
#include "failure_counts.hpp"
#include "omadm.h"
#include "session_state.hpp"
#include "syncml_codec.hpp"
#include "syncml_message.hpp"
#include "syncml_parser.hpp"

namespace omadm {

// Shared by the exchange*.cpp files.
// Decimal, 1 to max_digits digits, XML white space around.
bool to_number(std::string_view text, size_t max_digits,
               unsigned long long &out);
// A SyncML status code: 1 to 9 digits.
bool to_code(std::string_view text, int &out);
// False when absent; throws std::bad_alloc.
bool store_get(const omadm_store_t &s, const std::string &key,
               std::string &out);
// "backend <op> unreachable" / "... answered <status>"
std::string backend_reason(const char *op, int status);

class exchange {
public:
    // Copies body and token; parses in enc, and answers in it.  cf and
    // store must outlive *this.
    exchange(const omadm_config_t &cf, const omadm_store_t &store,
             std::string_view body, encoding enc, std::string_view token,
             time_t now);
    exchange(exchange &&) = default;
    // A message given up before its answer (the client went away, nginx
    // reloaded) gives back the attempt it reserved: nothing was learnt.
    ~exchange();

    // Next action; pointers in act stay valid until the next call.
    // OMADM_EINVAL when a backend answer is awaited but not given.
    int run(omadm_action_t &act);

    // OMADM_EINVAL when no backend call is outstanding.
    int backend_done(int http_status, std::string_view body);

    // nullptr when the variable has no value (yet).
    const std::string *var(int which) const;

    // The request's x-syncml-hmac header (exchange_auth.cpp); OMADM_EINVAL
    // after the first run().
    int set_hmac(std::string_view value);

    // The client's address, which failure counters are kept per;
    // OMADM_EINVAL after the first run().
    int set_peer(std::string_view addr);

private:
    enum class state { fresh, awaiting, answered, responded };
    enum class op { none, nonce, auth, exchange, object };
    enum class throttle_change { none, increment, reset };

    // steps
    void begin();
    bool in_request_encoding(std::string &kept) const;
    void after_backend();
    void on_nonce();
    void on_auth();
    void on_exchange();

    void start_unauthenticated();
    void challenge(int code);
    void auth_failed(const char *reason);
    void auth_stale(const char *reason);
    bool digest_matches(const std::string &inner,
                        const std::string &nonce_b64) const;
    bool reserve_attempt();
    void release_attempt();
    failure_counts &failures();
    std::string message_print() const;
    unsigned long mirrored_msg_id() const;
    void ask_exchange(bool session_start);
    void ask(op which, const char *name, std::string body);

    // answers
    void respond_text(int status, std::string reason);
    void respond_syncml(std::string body);
    void respond_version();
    void respond_unauthenticated();
    void respond_authenticated();
    // packages (§3.3, exchange.cpp)
    bool load_pending();
    void ask_failed(std::vector<failed_report> failed);
    message authenticated_head();
    bool fits_alone(const backend_command &bc);
    size_t encoded_size(const message &m) const;
    void respond_device_gone();
    void backend_failed(std::string reason);

    // large objects (exchange_objects.cpp)
    struct object_outcome {
        std::string command_id;     // the Get's backend id
        int         code;           // 200: delivered; else the failure
        int         held_status;    // the Get's own Status, 0: none
    };
    const omadm_store_t &objects() const;
    std::string segment_key(bool incoming, unsigned serial,
                            unsigned n) const;
    bool put_segment(const std::string &key, const std::string &val);
    void drop_segments(bool incoming, unsigned serial, unsigned count);
    void keep_objects_alive();
    void receive_chunk(const command &c, const item &it,
                       const std::string *get_id, exchange_request &r);
    int store_chunk(const std::string &data);
    bool load_incoming(std::string &out);
    void fail_incoming(int code);
    void settle_objects(exchange_request &r);
    void forget_held(const std::string &command_id);
    void chunk_answered(int code, exchange_request &r);
    void check_sending(exchange_request &r, bool package_ends);
    void end_sending();
    std::optional<std::string> unsendable(const backend_command &bc);
    bool is_large(const backend_command &bc);
    bool commands_go_out() const;
    void answer();
    bool start_sending();
    bool load_outgoing(unsigned long long offset, unsigned long long len,
                       std::string &out);
    void on_object();
    bool add_chunk(message &m, unsigned &n);

    // message building
    bool device_done() const;
    message reply_skeleton() const;
    command hdr_status(const std::string &code) const;
    void add_command_statuses(message &m, const std::string &code,
                              unsigned &cmd_id) const;
    exchange_request build_request(bool session_start);
    void persist(const message &m);
    std::string resp_uri() const;

    // syncml:auth-MAC and the server's own credentials (exchange_auth.cpp)
    void start_hmac();
    bool hmac_matches(const std::string &inner,
                      const std::string &nonce_b64) const;
    void verify_presented(const auth_reply &r, bool &ok, bool &stale);
    bool session_needs_auth();
    void ask_session_auth();
    void on_session_auth(const auth_reply &r);
    void take_server_credentials(const auth_reply &r);
    void read_server_status();
    void apply_server_status(exchange_request &r);
    void on_authenticated();
    void add_server_cred(message &m);
    void sign_response(const std::string &body);
    unsigned challenge_scheme() const;

    const omadm_config_t &cf_;
    const omadm_store_t  &store_;
    time_t                now_;
    encoding              enc_;
    std::string           token_;
    std::string           peer_;

    bool        parsed_ = false;
    parse_error perr_;
    message     msg_;

    state       state_ = state::fresh;
    op          op_ = op::none;
    int         backend_status_ = 0;
    std::string backend_body_;

    session_state st_;
    bool          session_start_ = false;
    throttle_change throttle_ = throttle_change::none;
    bool          owns_session_ = false;         // see begin()
    bool          attempt_reserved_ = false;     // see reserve_attempt()
    std::optional<failure_counts> failures_;     // see failures()

    // authentication in progress
    int         chal_code_ = 0;
    std::string chal_nonce_;        // base64, for md5 challenges
    std::string auth_scheme_;       // "md5" | "basic"
    std::string presented_user_;
    std::string presented_secret_;  // md5: Cred/Data; basic: md5_inner
    std::string used_nonce_, next_nonce_;   // base64
    std::set<std::string> answered_;        // outstanding keys answered
    // the commands of this answer, in order: those kept from earlier
    // messages (session_state::pending) first, then the backend's that fit
    std::vector<backend_command> kept_;
    std::vector<std::string>     kept_raw_;
    bool        pending_loaded_ = false;
    unsigned    failed_rounds_ = 0;     // see ask_failed()
    bool        answers_our_package_ = false;   // see device_done()

    // large objects (exchange_objects.cpp)
    std::map<std::string, std::string> answer_codes_;  // CmdID -> our
                                    // Status code for a device command
    std::vector<object_outcome> object_outcomes_;
    std::vector<std::string> drops_;    // object store keys done with
    bool        chunk_stored_ = false;  // one per message
    std::string fetched_;           // a piece of the object we send
    unsigned long long asked_ = 0;  // ... its length as asked for

    // syncml:auth-MAC and server credentials (exchange_auth.cpp)
    std::string raw_body_;          // kept only where HMAC is accepted
    bool        has_hmac_ = false;  // the request had x-syncml-hmac
    bool        hmac_ok_ = false;   // ... and it parsed
    std::string hmac_user_, hmac_mac_, hmac_why_;
    bool        mac_used_ = false;  // sign the response (device used MAC)
    bool        mid_session_auth_ = false;  // auth asked for a live session
    std::string server_user_, server_inner_, server_basic_;
    bool        server_status_read_ = false;
    int         device_hdr_code_ = 0;   // device's Status on our SyncHdr
    std::string device_chal_nonce_;     // ... and the nonce in its Chal
    std::string response_hmac_;     // x-syncml-hmac of our response

    // action output
    std::string op_name_;
    std::string out_body_;
    int         http_status_ = 0;
    const char *content_type_ = nullptr;

    // variables
    std::string device_id_, session_id_, msg_id_;
    std::string auth_ = "none";
    std::string error_;
};

}  // namespace omadm
