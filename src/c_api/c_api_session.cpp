// omadm_session_describe(): a stored session record as text, for the unit
// tests and tools (the record itself is binary, session_state.cpp).
#include <cstdlib>
#include <cstring>
#include <new>

#include "c_api/c_api_util.hpp"
#include "session/session_state.hpp"

using namespace omadm;

int omadm_session_describe(const char *record, size_t len, char **out,
                           size_t *out_len) noexcept
{
    if (!valid_input(record, len) || out == nullptr) return OMADM_EINVAL;
    try {
        session_state st;
        if (!deserialize(view(record, len), st)) return OMADM_EINVAL;
        std::string text = describe(st);
        char *p = static_cast<char *>(std::malloc(text.size() + 1));
        if (p == nullptr) return OMADM_ERROR;
        std::memcpy(p, text.data(), text.size());
        p[text.size()] = '\0';
        *out = p;
        if (out_len) *out_len = text.size();
        return OMADM_OK;
    } catch (const std::bad_alloc &) {
        return OMADM_ERROR;
    }
}
