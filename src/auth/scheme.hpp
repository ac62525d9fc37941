// The credential schemes a location accepts (omadm_auth), as their
// OMADM_AUTH_* bits, and the SyncML types that name them in a Cred or Chal.
#pragma once

#include <string_view>

#include "omadm.h"

namespace omadm {

enum class auth_scheme : unsigned {
    none = 0,
    basic = OMADM_AUTH_BASIC,  // syncml:auth-basic
    md5 = OMADM_AUTH_MD5,      // syncml:auth-md5
    hmac = OMADM_AUTH_HMAC,    // syncml:auth-MAC (the x-syncml-hmac header)
};

// Whether a set of OMADM_AUTH_* bits holds the scheme.
constexpr bool accepts(unsigned set, auth_scheme s)
{
    return s != auth_scheme::none && (set & unsigned(s)) != 0;
}

// One OMADM_AUTH_* bit as a scheme (cf.auth_challenge, cf.server_auth);
// none for anything else.
auth_scheme scheme_of_bits(unsigned bits);

// The Meta/Type of a Cred or Chal in the scheme; "" for none.
const char *cred_type(auth_scheme s);

// The scheme a Cred's Meta/Type names, ASCII case-insensitive; an empty
// type is basic (SyncML's default); none when the type is unknown.
auth_scheme scheme_of_cred_type(std::string_view type);

// "basic", "md5", "hmac" ("" for none): how the session state keeps it.
const char *scheme_name(auth_scheme s);
auth_scheme scheme_of_name(std::string_view name);

}  // namespace omadm
