// The backend's "exchange" request out of a device message: its DevInfo,
// alerts, Statuses and Results matched to the backend's command ids
// (session_state::outstanding), a Get's Status held until the end of the
// device's package, large objects settled, and the server's credentials
// the device refused taken back.
#pragma once

#include <string>
#include <vector>

#include "backend/contract.hpp"
#include "session/answers.hpp"
#include "session/authenticator.hpp"
#include "session/context.hpp"
#include "session/incoming_object.hpp"
#include "session/outgoing_object.hpp"

namespace omadm {

// The device's message ends its package: it has Final, or it answers a
// message of ours that left Final out to send more, which the device must
// not close its package before (§3.3).
bool device_done(const exchange_context &ctx, bool answers_our_package);

class request_builder {
public:
    request_builder(exchange_context &ctx, authenticator &auth,
                    device_answers &answers, incoming_objects &incoming,
                    outgoing_object_sender &outgoing);

    // note: set when the device refused the server's credentials, for the
    // error log.
    exchange_request build(bool session_start, bool answers_our_package,
                           std::string &note);

    // Commands that can never be sent, reported failed; max_commands asks
    // for as many others as there is room for.
    exchange_request failed(std::vector<failed_report> failed,
                            unsigned max_commands) const;

private:
    void take_back_refused(exchange_request &r, std::string &note);

    exchange_context &ctx_;
    authenticator &auth_;
    device_answers &answers_;
    incoming_objects &incoming_;
    outgoing_object_sender &outgoing_;
};

}  // namespace omadm
