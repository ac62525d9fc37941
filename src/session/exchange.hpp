// One device message, from its body to the HTTP answer, as a short state
// machine over named collaborators (docs/architecture.md):
//
//   authenticator      who sent it: Cred, x-syncml-hmac, throttle, the
//                      server's own credentials; steps as auth_outcome
//   request_builder    what the backend's "exchange" call carries
//   incoming_objects   a device's large object, chunk by chunk
//   outgoing_object_sender  one of ours, chunk by chunk
//   reply_builder      our message, packed against the device's MaxMsgSize
//   kv_store           the sessions in the shared store
//
// Driven by the C ABI in c_api/c_api_exchange.cpp (see include/omadm.h for
// the loop).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/verdict.hpp"
#include "backend/contract.hpp"
#include "codec/parse_error.hpp"
#include "codec/syncml_codec.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"
#include "session/answers.hpp"
#include "session/authenticator.hpp"
#include "session/context.hpp"
#include "session/incoming_object.hpp"
#include "session/kv_store.hpp"
#include "session/object_segments.hpp"
#include "session/outgoing_object.hpp"
#include "session/reply_builder.hpp"
#include "session/request_builder.hpp"

namespace omadm {

class exchange {
public:
    // Copies body and token; parses in enc, and answers in it.  cf and
    // store must outlive *this.
    exchange(const omadm_config_t &cf, const omadm_store_t &store,
             std::string_view body, encoding enc, std::string_view token,
             time_t now);
    exchange(const exchange &) = delete;
    exchange &operator=(const exchange &) = delete;

    // Next action; pointers in act stay valid until the next call.
    // OMADM_EINVAL when a backend answer is awaited but not given.
    int run(omadm_action_t &act);

    // OMADM_EINVAL when no backend call is outstanding.
    int backend_done(int http_status, std::string_view body);

    // empty when the variable has no value (yet); valid until destroy.
    std::string_view var(int which) const;
    // What the message came to, for the glue's counters.
    omadm_outcome_t outcome() const;

    // The request's x-syncml-hmac header, and the client's address that
    // failure counters are kept per; OMADM_EINVAL after the first run().
    int set_hmac(std::string_view value);
    int set_peer(std::string_view addr);
    // The server's id and RespURI base for this message, where the
    // configuration leaves them to the request.
    int set_server_id(std::string_view id);
    // An exception's text, for the glue's error log (noexcept).
    void internal_error(const char *what) noexcept;

private:
    enum class state { fresh, awaiting, answered, responded };
    enum class op { none, nonce, auth, exchange, object };

    struct backend_call {
        op which = op::none;
        const char *name = "";
        int status = 0;
        std::string answer;
    };
    // the commands of this answer, in order: those kept from earlier
    // messages (session_state::pending) first, then the backend's
    struct queue {
        std::vector<backend_command> cmds;
        bool loaded = false;         // the session's pending are in cmds
        unsigned failed_rounds = 0;  // see ask_failed()
    };
    struct action_out {
        std::string body;
        int http_status = 0;
        const char *content_type = nullptr;
        std::string hmac;         // x-syncml-hmac of the answer, "" for none
        std::string retry_after;  // of a 503
        omadm_header_t headers[2];
    };

    // The session's kept answer, when this message is the very one it
    // answered: found by the SyncHdr's text and the bytes' print before
    // any decode (find_resend()).
    struct resend {
        session_state stored;
        std::string session_id, msg_id, source;  // as the scan found them
    };

    static bool prints_bytes(const omadm_config_t &cf, encoding enc);
    static std::optional<resend> find_resend(const omadm_config_t &cf,
                                             const omadm_store_t &store,
                                             std::string_view body,
                                             encoding enc,
                                             std::string_view token);
    static std::optional<parse_error> decode(std::string_view body,
                                             encoding enc,
                                             const omadm_limits_t &limits,
                                             message &out);

    // steps
    void resend_kept_answer();
    void begin();
    void dispatch(auth_outcome o);
    void ask(op which, const char *name, std::string body);
    void after_backend();
    void ask_exchange(bool session_start);
    void on_exchange();
    void ask_failed(std::vector<failed_report> failed);
    bool commands_go_out() const;
    void answer();
    void on_object();

    // answers
    void respond_text(int status, std::string reason);
    void respond_syncml(std::string body);
    void respond_authenticated();
    void respond_device_gone();
    void backend_failed(std::string reason);
    void persist(const message &m);

    std::string message_print() const;
    unsigned long mirrored_msg_id() const;
    bool device_done() const;

    message msg_;
    std::optional<resend> resend_;    // then the message is not decoded
    std::optional<parse_error> bad_;  // the body is not usable SyncML
    exchange_context ctx_;
    kv_store sessions_;
    std::string token_;
    std::string body_;  // the bytes, where they are printed (persist())
    bool owns_session_ = false;  // the message carries the session's token
    bool answers_our_package_ = false;  // see device_done()

    state state_ = state::fresh;
    backend_call call_;

    device_answers answers_;
    authenticator auth_;
    object_segments segments_;
    reply_builder reply_;
    incoming_objects incoming_;
    outgoing_object_sender outgoing_;
    request_builder requests_;
    queue queue_;
    std::optional<exchange_request> built_;  // this message's exchange

    action_out out_;
    verdict verdict_ = verdict::none;
    bool resent_ = false;  // the answer is the kept one, sent again
    std::string error_;
};

}  // namespace omadm
