// Enrollment users' passwords, stored only as a slow salted hash: scrypt
// (OpenSSL's EVP_PBE_scrypt), N = 2^14, r = 8, p = 1 (16 MiB and some
// tens of milliseconds per check), a 16-byte random salt, 32 bytes out:
//     $scrypt$ln=14,r=8,p=1$<salt base64>$<hash base64>
#pragma once

#include <string>

namespace omadm_backend {

std::string hash_password(const std::string &password);

// Constant-time comparison; false for a stored value in another format.
bool password_matches(const std::string &password, const std::string &stored);

// Costs what a real check costs, for a user who does not exist: the
// answer's timing must not tell who does.
void spend_password_check(const std::string &password);

}  // namespace omadm_backend
