#include "auth/nonce.hpp"

#include "auth/base64.hpp"
#include "auth/hmac_auth.hpp"
#include "auth/md5_auth.hpp"

namespace omadm {

nonce nonce::fresh()
{
    return nonce(base64_encode(random_nonce()));
}

nonce nonce::from_b64(std::string_view text)
{
    return nonce(std::string(text));
}

bool nonce::md5_proves(std::string_view inner, std::string_view presented) const
{
    std::string bytes;
    return base64_decode(b64_, bytes)
           && secure_equal(omadm::md5_digest(inner, bytes), presented);
}

bool nonce::mac_proves(std::string_view inner, std::string_view body,
                       std::string_view mac) const
{
    std::string bytes;
    return base64_decode(b64_, bytes) && hmac_verify(inner, bytes, body, mac);
}

std::string nonce::md5_digest(std::string_view inner) const
{
    std::string bytes;
    if (!base64_decode(b64_, bytes)) bytes.clear();
    return omadm::md5_digest(inner, bytes);
}

std::string nonce::mac(std::string_view inner, std::string_view body) const
{
    std::string bytes;
    if (!base64_decode(b64_, bytes)) bytes.clear();
    return hmac_mac(inner, bytes, body);
}

}  // namespace omadm
