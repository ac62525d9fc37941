#include "crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>

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

}  // namespace

std::string base64_encode(const std::string &in)
{
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                            reinterpret_cast<const unsigned char *>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view in)
{
    std::string compact;
    compact.reserve(in.size());
    for (char c : in) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            compact.push_back(c);
        }
    }
    if (compact.size() % 4 != 0 || compact.size() > size_t(INT_MAX)) {
        return std::nullopt;
    }
    std::string out(compact.size() / 4 * 3, '\0');
    // EVP_DecodeBlock accepts characters outside the alphabet in some
    // places and keeps the padding's zero bytes: check both here.
    for (size_t i = 0; i < compact.size(); i++) {
        char c = compact[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                     || (c >= '0' && c <= '9') || c == '+' || c == '/';
        bool pad = c == '=' && i + 2 >= compact.size()
                   && (i + 1 == compact.size() || compact[i + 1] == '=');
        if (!alpha && !pad) {
            return std::nullopt;
        }
    }
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                            reinterpret_cast<const unsigned char *>(
                                compact.data()),
                            static_cast<int>(compact.size()));
    if (n < 0) {
        return std::nullopt;
    }
    size_t pads = 0;
    while (pads < compact.size() && compact[compact.size() - 1 - pads] == '=') {
        pads++;
    }
    out.resize(static_cast<size_t>(n) - pads);
    return out;
}

std::string random_bytes(size_t n)
{
    std::string out(n, '\0');
    if (n > size_t(INT_MAX)
        || RAND_bytes(reinterpret_cast<unsigned char *>(out.data()),
                      static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return out;
}

std::string md5_inner(const std::string &username, const std::string &password)
{
    return base64_encode(digest(EVP_md5(), username + ":" + password));
}

std::string basic_credential(const std::string &username,
                             const std::string &password)
{
    return base64_encode(username + ":" + password);
}

std::string hex_encode(std::string_view bytes, bool upper_case)
{
    const char *digits = upper_case ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

std::string sha256_hex(const std::string &in)
{
    return hex_encode(digest(EVP_sha256(), in));
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
    return base64_encode(std::string(reinterpret_cast<char *>(out), 16));
}

}  // namespace omadm_backend
