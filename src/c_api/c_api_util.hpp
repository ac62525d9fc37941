// Small helpers shared by the extern "C" entry points (c_api_*.cpp): how a
// (pointer, length) argument is checked and read, and how a string result
// is written to the caller's buffer.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "omadm.h"

namespace omadm {

// A NULL pointer is only valid with a zero length.
inline bool valid_input(const char *p, size_t len)
{
    return p != nullptr || len == 0;
}

inline std::string_view view(const char *p, size_t len)
{
    return p ? std::string_view(p, len) : std::string_view();
}

// s and a NUL into out; OMADM_EINVAL if it does not fit.
inline int put_out(const std::string &s, char *out, size_t out_size,
                   size_t *out_len)
{
    if (out == nullptr || out_size < s.size() + 1) return OMADM_EINVAL;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    if (out_len) *out_len = s.size();
    return OMADM_OK;
}

}  // namespace omadm
