#include "auth/scheme.hpp"

#include "common/text.hpp"

namespace omadm {

namespace {

struct scheme_row {
    auth_scheme scheme;
    const char *name;
    const char *cred_type;
};

// The one table of the schemes' names.
constexpr scheme_row k_schemes[] = {
    {auth_scheme::basic, "basic", "syncml:auth-basic"},
    {auth_scheme::md5, "md5", "syncml:auth-md5"},
    {auth_scheme::hmac, "hmac", "syncml:auth-MAC"},
};

const scheme_row *row_of(auth_scheme s)
{
    for (const auto &r : k_schemes)
        if (r.scheme == s) return &r;
    return nullptr;
}

}  // namespace

auth_scheme scheme_of_bits(unsigned bits)
{
    for (const auto &r : k_schemes)
        if (unsigned(r.scheme) == bits) return r.scheme;
    return auth_scheme::none;
}

const char *cred_type(auth_scheme s)
{
    const scheme_row *r = row_of(s);
    return r ? r->cred_type : "";
}

auth_scheme scheme_of_cred_type(std::string_view type)
{
    type = trim(type);
    if (type.empty()) return auth_scheme::basic;
    for (const auto &r : k_schemes)
        if (iequals(type, r.cred_type)) return r.scheme;
    return auth_scheme::none;
}

const char *scheme_name(auth_scheme s)
{
    const scheme_row *r = row_of(s);
    return r ? r->name : "";
}

auth_scheme scheme_of_name(std::string_view name)
{
    for (const auto &r : k_schemes)
        if (name == r.name) return r.scheme;
    return auth_scheme::none;
}

}  // namespace omadm
