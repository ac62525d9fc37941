// A device repeating a message whose answer it lost gets the kept answer
// again (session_state::last_response), and only when it is the same
// message: its print below, and the answer re-encoded when the repeat
// came in the other encoding.
#pragma once

#include <string>
#include <string_view>

#include "codec/syncml_codec.hpp"
#include "codec/syncml_message.hpp"

namespace omadm {

// What a message says, to tell a resend of it from another message with
// its MsgID: the token it came with and the decoded message (a resend in
// the other encoding is the same message), or for one signed with
// x-syncml-hmac its bytes and MAC (mac_signed), since the MAC vouches for
// the bytes.  A SHA-256 in hex.
std::string message_print(std::string_view token, const message &msg,
                          std::string_view mac_signed);

// The same for the exact bytes of a message in enc, with its token: a
// resend in the same encoding is recognised by it before any decode.
// Equal bytes decode to an equal message, so a match says no more than
// an equal message_print() would.  A SHA-256 in hex.
std::string bytes_print(std::string_view token, encoding enc,
                        std::string_view body);

// The kept answer in enc: our own message, so it decodes.  False when it
// cannot be: the message is then handled afresh.
bool in_encoding(std::string &kept, encoding enc);

}  // namespace omadm
