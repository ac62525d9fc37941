// SyncML credential arithmetic (protocol digest §5): basic, MD5 digest,
// constant-time comparison and nonce generation.
#pragma once

#include <string>
#include <string_view>

namespace omadm {

// 16 raw bytes of MD5 (OpenSSL EVP); throws std::runtime_error on failure.
std::string md5_raw(std::string_view bytes);

// B64(MD5(user ":" pass)): what a backend may store instead of a password.
std::string md5_inner(std::string_view user, std::string_view pass);

// B64(MD5(inner ":" nonce_bytes)); the nonce as raw bytes, not base64.
std::string md5_digest(std::string_view inner, std::string_view nonce_bytes);

// B64(user ":" pass)
std::string basic_credential(std::string_view user, std::string_view pass);

// Decodes a basic Cred/Data and splits it at the first ':'.  False when
// the text is not base64 or has no ':'.
bool parse_basic_credential(std::string_view b64, std::string &user,
                            std::string &pass);

// Constant time for equal lengths (CRYPTO_memcmp); different lengths are
// unequal.
bool secure_equal(std::string_view a, std::string_view b);

// 16 bytes from RAND_bytes (raw, not base64); throws std::runtime_error if
// the generator fails.
std::string random_nonce();

}  // namespace omadm
