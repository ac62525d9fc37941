#include "session/repeat.hpp"

#include <stdexcept>

#include <openssl/evp.h>

#include "common/text.hpp"

namespace omadm {

namespace {

std::string sha256_hex(std::string_view text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr))
        throw std::runtime_error("SHA-256 failed");
    return hex(std::string_view(reinterpret_cast<const char *>(md), len));
}

}  // namespace

std::string message_print(std::string_view token, const message &msg,
                          std::string_view mac_signed)
{
    std::string text(token);
    text += '\n';
    if (!mac_signed.empty()) {
        text += mac_signed;
    } else {
        text += encode_message(msg, encoding::xml);
    }
    return sha256_hex(text);
}

std::string bytes_print(std::string_view token, encoding enc,
                        std::string_view body)
{
    // not a message_print(): another first line
    std::string text = enc == encoding::xml ? "bytes xml\n" : "bytes wbxml\n";
    text += std::to_string(token.size());  // the token is the sender's
    text += ':';
    text += token;
    text += body;
    return sha256_hex(text);
}

bool in_encoding(std::string &kept, encoding enc)
{
    encoding was = encoding_of(kept);
    if (was == enc) return true;
    message m;
    parse_error e;
    if (!decode_message(kept, was, omadm_limits_t{}, m, e)) return false;
    kept = encode_message(m, enc);
    return true;
}

}  // namespace omadm
