#include "auth/md5_auth.hpp"

#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/base64.hpp"

namespace omadm {

std::string md5_raw(std::string_view bytes)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr)
            != 1
        || len != 16) {
        throw std::runtime_error("MD5 digest failed");
    }
    return std::string(reinterpret_cast<char *>(md), len);
}

std::string md5_inner(std::string_view user, std::string_view pass)
{
    std::string s;
    s.reserve(user.size() + 1 + pass.size());
    s.append(user).append(1, ':').append(pass);
    return base64_encode(md5_raw(s));
}

std::string md5_digest(std::string_view inner, std::string_view nonce_bytes)
{
    std::string s;
    s.reserve(inner.size() + 1 + nonce_bytes.size());
    s.append(inner).append(1, ':').append(nonce_bytes);
    return base64_encode(md5_raw(s));
}

std::string basic_credential(std::string_view user, std::string_view pass)
{
    std::string s;
    s.reserve(user.size() + 1 + pass.size());
    s.append(user).append(1, ':').append(pass);
    return base64_encode(s);
}

bool parse_basic_credential(std::string_view b64, std::string &user,
                            std::string &pass)
{
    std::string plain;
    if (!base64_decode(b64, plain)) return false;
    size_t colon = plain.find(':');
    if (colon == std::string::npos) return false;
    user = plain.substr(0, colon);
    pass = plain.substr(colon + 1);
    return true;
}

bool secure_equal(std::string_view a, std::string_view b)
{
    // Length is not secret (digests have a fixed length); contents are.
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_nonce()
{
    unsigned char buf[16];
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return std::string(reinterpret_cast<char *>(buf), sizeof(buf));
}

}  // namespace omadm
