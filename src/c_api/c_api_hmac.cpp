// extern "C" entry points of the syncml:auth-MAC helpers (include/omadm.h),
// for unit tests and tools; the engine uses hmac_auth.hpp directly.
#include <cstring>
#include <string>

#include "auth/base64.hpp"
#include "auth/hmac_auth.hpp"
#include "c_api/c_api_util.hpp"
#include "omadm.h"

using namespace omadm;

extern "C" {

int omadm_auth_hmac_mac(const char *inner, size_t inner_len,
                        const char *nonce_b64, size_t nonce_b64_len,
                        const char *body, size_t body_len, char *out,
                        size_t out_size, size_t *out_len) noexcept
{
    if (!valid_input(inner, inner_len) || !valid_input(nonce_b64, nonce_b64_len)
        || !valid_input(body, body_len)) {
        return OMADM_EINVAL;
    }
    try {
        std::string nonce;
        if (!base64_decode(view(nonce_b64, nonce_b64_len), nonce)) {
            return OMADM_EINVAL;
        }
        return put_out(
            hmac_mac(view(inner, inner_len), nonce, view(body, body_len)), out,
            out_size, out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

int omadm_hmac_header_parse(const char *value, size_t len, char *out,
                            size_t out_size, size_t *out_len) noexcept
{
    if (!valid_input(value, len)) return OMADM_EINVAL;
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
