// The few cryptographic operations the backend needs, over OpenSSL 3's EVP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omadm_backend {

// B64(MD5(username ":" password)): the only form in which a device password
// is stored. It is exactly what the module needs to check MD5 and Basic
// credentials (docs/backend-api.md, "auth").
std::string md5_inner(const std::string &username, const std::string &password);

// B64(username ":" password): a Basic credential.  Stored only for the
// server's own credential toward a device, where omadm_server_auth basic
// must present it (Basic cannot be made from the MD5 inner value).
std::string basic_credential(const std::string &username,
                             const std::string &password);

// Equality that takes the same time wherever the inputs differ, and whatever
// their lengths: both sides are hashed first, so the comparison never leaks
// the secret's length or a matching prefix.
bool secret_equal(const std::string &a, const std::string &b);

// Lower-case hex SHA-256, for fingerprints (not secrets).
std::string sha256_hex(const std::string &in);

// B64 of the first 16 bytes of HMAC-SHA-256(key, message): a value that is
// the same on every call and every backend sharing the key, and that no one
// without the key can tell from a random nonce.
std::string keyed_nonce(const std::string &key, const std::string &message);

// Bytes as hex digits.
std::string hex_encode(std::string_view bytes, bool upper_case = false);

// Standard base64 with padding, no line breaks.
std::string base64_encode(const std::string &in);
// White space between the characters is allowed (XML and PEM wrap lines);
// nullopt for anything else that is not base64.
std::optional<std::string> base64_decode(std::string_view in);

// n bytes from OpenSSL's CSPRNG (RAND_bytes); throws if it fails.
std::string random_bytes(size_t n);

}  // namespace omadm_backend
