#include "crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace omadm_backend {

namespace {

std::string digest(const EVP_MD *md, const std::string &in)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(in.data(), in.size(), out, &len, md, nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    return std::string(reinterpret_cast<char *>(out), len);
}

std::string base64(const std::string &in)
{
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                            reinterpret_cast<const unsigned char *>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

}  // namespace

std::string md5_inner(const std::string &username, const std::string &password)
{
    return base64(digest(EVP_md5(), username + ":" + password));
}

std::string basic_credential(const std::string &username,
                             const std::string &password)
{
    return base64(username + ":" + password);
}

std::string sha256_hex(const std::string &in)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : digest(EVP_sha256(), in)) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

bool secret_equal(const std::string &a, const std::string &b)
{
    std::string ha = digest(EVP_sha256(), a);
    std::string hb = digest(EVP_sha256(), b);
    return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

std::string keyed_nonce(const std::string &key, const std::string &message)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t        len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(),
                  key.size(),
                  reinterpret_cast<const unsigned char *>(message.data()),
                  message.size(), out, sizeof(out), &len)
            == nullptr
        || len < 16) {
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return base64(std::string(reinterpret_cast<char *>(out), 16));
}

}  // namespace omadm_backend
