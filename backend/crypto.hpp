// The few cryptographic operations the backend needs, over OpenSSL 3's EVP.
#pragma once

#include <string>

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

}  // namespace omadm_backend
