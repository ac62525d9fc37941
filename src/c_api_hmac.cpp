// extern "C" entry points of the syncml:auth-MAC helpers (include/omadm.h),
// for unit tests and tools; the engine uses hmac_auth.hpp directly.
#include <cstring>
#include <string>

#include "base64.hpp"
#include "hmac_auth.hpp"
#include "omadm.h"

using namespace omadm;

namespace {

std::string_view view(const char *p, size_t len)
{
    return p ? std::string_view(p, len) : std::string_view();
}

int put_out(const std::string &s, char *out, size_t out_size, size_t *out_len)
{
    if (out == nullptr || out_size < s.size() + 1) return OMADM_EINVAL;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    if (out_len) *out_len = s.size();
    return OMADM_OK;
}

}  // namespace

extern "C" {

int omadm_auth_hmac_mac(const char *inner, size_t inner_len,
                        const char *nonce_b64, size_t nonce_b64_len,
                        const char *body, size_t body_len, char *out,
                        size_t out_size, size_t *out_len) noexcept
{
    if ((inner == nullptr && inner_len != 0)
        || (nonce_b64 == nullptr && nonce_b64_len != 0)
        || (body == nullptr && body_len != 0)) {
        return OMADM_EINVAL;
    }
    try {
        std::string nonce;
        if (!base64_decode(view(nonce_b64, nonce_b64_len), nonce)) {
            return OMADM_EINVAL;
        }
        return put_out(hmac_mac(view(inner, inner_len), nonce,
                                view(body, body_len)),
                       out, out_size, out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

int omadm_hmac_header_parse(const char *value, size_t len, char *out,
                            size_t out_size, size_t *out_len) noexcept
{
    if (value == nullptr && len != 0) return OMADM_EINVAL;
    try {
        hmac_header h;
        std::string why;
        if (!parse_hmac_header(view(value, len), h, why)) {
            put_out(why, out, out_size, out_len);
            return OMADM_EINVAL;
        }
        return put_out("algorithm=" + h.algorithm + "\nusername=" + h.username
                           + "\nmac=" + h.mac + "\n",
                       out, out_size, out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

}  // extern "C"
