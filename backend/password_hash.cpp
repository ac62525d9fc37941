#include "password_hash.hpp"

#include "crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace omadm_backend {

namespace {

constexpr int log2_n = 14;
constexpr uint64_t cost_r = 8, cost_p = 1;
constexpr size_t salt_bytes = 16, hash_bytes = 32;
const std::string prefix = "$scrypt$ln=14,r=8,p=1$";

std::string scrypt(const std::string &password, const std::string &salt)
{
    std::string out(hash_bytes, '\0');
    if (EVP_PBE_scrypt(password.data(), password.size(),
                       reinterpret_cast<const unsigned char *>(salt.data()),
                       salt.size(), uint64_t(1) << log2_n, cost_r, cost_p,
                       64 * 1024 * 1024,
                       reinterpret_cast<unsigned char *>(out.data()),
                       out.size())
        != 1) {
        throw std::runtime_error("EVP_PBE_scrypt failed");
    }
    return out;
}

}  // namespace

std::string hash_password(const std::string &password)
{
    std::string salt = random_bytes(salt_bytes);
    return prefix + base64_encode(salt) + "$"
           + base64_encode(scrypt(password, salt));
}

bool password_matches(const std::string &password, const std::string &stored)
{
    if (stored.compare(0, prefix.size(), prefix) != 0) return false;
    size_t dollar = stored.find('$', prefix.size());
    if (dollar == std::string::npos) return false;
    std::optional<std::string> salt =
        base64_decode(std::string_view(stored).substr(prefix.size(),
                                                      dollar - prefix.size()));
    std::optional<std::string> want =
        base64_decode(std::string_view(stored).substr(dollar + 1));
    if (!salt || !want || want->size() != hash_bytes) return false;
    std::string got = scrypt(password, *salt);
    return CRYPTO_memcmp(got.data(), want->data(), hash_bytes) == 0;
}

void spend_password_check(const std::string &password)
{
    (void) scrypt(password, std::string(salt_bytes, '\0'));
}

}  // namespace omadm_backend
