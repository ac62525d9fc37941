// A setting's value as its SyncML format reads it: checked at upload, and
// compared with what the device reports when it is read back.
#pragma once

#include <string>

namespace omadm_backend {

// Whether `data` is a value of `format`: int a decimal integer, bool true
// or false, b64 base64; anything for the others.  `why` says what is wrong.
bool valid_value(const std::string &format, const std::string &data,
                 std::string &why);

// Whether the device's `reported` value is the `desired` one: int
// numerically, bool case-insensitively, xml after whitespace normalisation,
// b64 decoded, everything else (chr) exactly.
bool same_value(const std::string &format, const std::string &desired,
                const std::string &reported);

}  // namespace omadm_backend
