// syncml:auth-MAC (protocol digest §5.5): the x-syncml-hmac HTTP header and
// the spec's nested-MD5 message MAC.  Not an RFC 2104 HMAC, despite the name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace omadm {

// Bounds of the header: a value past them is refused, never truncated.
constexpr size_t hmac_header_max = 1024;   // the whole header value
constexpr size_t hmac_username_max = 256;  // as SyncHdr Source/LocName
constexpr size_t hmac_mac_max = 64;        // MD5 in base64 is 24 chars

struct hmac_header {
    std::string algorithm;  // canonical upper case: "MD5"
    std::string username;   // unescaped, never empty
    std::string mac;        // base64 of 16 bytes, as sent
};

// Parses `algorithm=MD5, username="user", mac=base64`: parameters in any
// order, names case-insensitive, values quoted (with \-escapes) or not,
// spaces and tabs around '=' and ',', empty list elements ignored, unknown
// parameters ignored.  algorithm is optional (MD5).  Returns false with why
// set (operator-facing, no secrets) on a duplicate or unknown algorithm, an
// empty or missing username or mac, a mac that is not base64 of 16 bytes,
// a value over its bound, a control character, or bad syntax.  out is
// unspecified then.  Throws only std::bad_alloc.
bool parse_hmac_header(std::string_view value, hmac_header &out,
                       std::string &why);

// The header value for a MAC: `algorithm=MD5, username="user", mac=...`,
// the username quoted with \-escapes, so parse_hmac_header reads it back.
// Throws only std::bad_alloc.
std::string hmac_header_value(std::string_view username, std::string_view mac);

// B64(MD5(inner ":" nonce_bytes ":" B64(MD5(body)))); inner is
// B64(MD5(user ":" pass)) as the backend stores it, the nonce raw bytes
// (decoded from its base64), body the HTTP body bytes exactly as received.
// Throws std::runtime_error if the digest fails, std::bad_alloc.
std::string hmac_mac(std::string_view inner, std::string_view nonce_bytes,
                     std::string_view body);

// hmac_mac() compared with the presented mac in constant time.
bool hmac_verify(std::string_view inner, std::string_view nonce_bytes,
                 std::string_view body, std::string_view presented_mac);

}  // namespace omadm
