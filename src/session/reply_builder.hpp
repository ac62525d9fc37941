// The server's messages: the SyncHdr, the Status of the device's SyncHdr
// and of each of its commands, and the commands packed against the
// device's MaxMsgSize with a byte budget counted as they are added
// (codec/message_writer.hpp), never by encoding the whole message again.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backend/contract.hpp"
#include "codec/message_writer.hpp"
#include "session/answers.hpp"
#include "session/authenticator.hpp"
#include "session/context.hpp"

namespace omadm {

class reply_builder {
public:
    reply_builder(exchange_context &ctx, authenticator &auth,
                  const device_answers &answers);

    // Our SyncHdr (MsgID after our last, RespURI with the session's token),
    // Final set.
    message skeleton() const;
    // The Status of the device's SyncHdr (CmdID set by the caller).
    command hdr_status(const std::string &code) const;
    // A Status for each device command that wants one: code, or our own
    // code for it (device_answers::codes) when code is 200.
    void add_statuses(message &m, const std::string &code,
                      unsigned &next_cmd_id) const;

    // 505/513: the device speaks a version we do not.
    message version_refusal(std::string &reason) const;
    // 401/407 with the Chal, every command answered with the same code.
    message refusal(const challenge &chal) const;
    // 403 to everything: the backend no longer knows the device.
    message device_gone() const;
    // The head of an authenticated answer: 212 at a session start (else
    // 200) with its Chal, and the server's Cred when one is due.
    message authenticated_head(bool session_start) const;

    // Whether the command fits in a message of its own (the head and its
    // Status, no other Status), with some slack for the package's later
    // messages.
    bool fits_alone(const backend_command &bc, bool session_start) const;

    // The commands [0, stop) in order into m, as many as fit within the
    // device's MaxMsgSize; their Status keys into outstanding.  Returns how
    // many went in.
    size_t pack(message &m, unsigned &next_cmd_id,
                const std::vector<backend_command> &cmds, size_t stop) const;

private:
    std::string resp_uri() const;
    void declare_limits(message &m) const;

    exchange_context &ctx_;
    authenticator &auth_;
    const device_answers &answers_;
};

}  // namespace omadm
