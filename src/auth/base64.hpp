// Standard base64 (RFC 4648 alphabet, '=' padding), as SyncML uses it for
// credentials and nonces.
#pragma once

#include <string>
#include <string_view>

namespace omadm {

std::string base64_encode(std::string_view bytes);

// Strict: standard alphabet, correct padding, length a multiple of 4 after
// surrounding whitespace is trimmed.  Returns false (out untouched) on bad
// input.  An empty (or all-whitespace) text decodes to empty bytes.
bool base64_decode(std::string_view text, std::string &out);

}  // namespace omadm
