// What every collaborator of one exchange reads: the location's
// configuration, the device's message, the encoding of the answer, the
// time, and the session state they bring up to date for the answer.
#pragma once

#include <ctime>
#include <string>

#include "codec/syncml_codec.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"
#include "session/session_state.hpp"

namespace omadm {

struct exchange_context {
    const omadm_config_t &cf;
    const message &msg;
    encoding enc;
    time_t now;
    // the session as the answer leaves it: loaded from the store when the
    // message carries its token, else a fresh one (exchange::begin())
    session_state st;
    // the server's Source/LocURI and the base of its RespURI: cf's, or the
    // request's (exchange::set_server_id())
    std::string server_id, resp_uri;

    const std::string &device_id() const { return msg.hdr.source; }
    const std::string &session_id() const { return msg.hdr.session_id; }
};

}  // namespace omadm
