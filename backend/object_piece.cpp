#include "object_piece.hpp"

namespace omadm_backend {

namespace {

constexpr int cut_off = -1;

// Bytes of the well-formed UTF-8 character at s[i] (RFC 3629 table 3-7),
// 0 when the bytes there are not one, cut_off when its end is past s.
int char_length(const std::string &s, size_t i)
{
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        return 1;
    }
    int n;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        lo = b == 0xE0 ? 0xA0 : lo;  // no overlong forms
        hi = b == 0xED ? 0x9F : hi;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        lo = b == 0xF0 ? 0x90 : lo;
        hi = b == 0xF4 ? 0x8F : hi;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    for (int k = 1; k < n; k++) {
        if (i + k >= s.size()) {
            return cut_off;
        }
        auto c = static_cast<unsigned char>(s[i + k]);
        bool ok = k == 1 ? c >= lo && c <= hi : is_continuation_byte(c);
        if (!ok) {
            return 0;
        }
    }
    return n;
}

// Bytes json_text writes for an ASCII character (UTF-8 kept as is).
size_t escaped_ascii(unsigned char c)
{
    switch (c) {
    case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t':
        return 2;
    default:
        return c < 0x20 ? 6 : 1;  // \u00XX
    }
}

}  // namespace

size_t piece_bytes(const std::string &bytes, bool at_end, size_t budget)
{
    size_t taken = 0, escaped = 0;
    while (taken < bytes.size()) {
        int n = char_length(bytes, taken);
        if (n == cut_off && !at_end) {
            break;  // the rest of the character is in the next piece
        }
        size_t len, cost;
        if (n <= 0) {
            // Malformed (never from the operator API, which only takes
            // valid UTF-8): json_text writes U+FFFD, 3 bytes, at most once
            // per byte.
            len = 1;
            cost = 3;
        } else if (n == 1) {
            len = 1;
            cost = escaped_ascii(static_cast<unsigned char>(bytes[taken]));
        } else {
            len = cost = static_cast<size_t>(n);
        }
        if (escaped + cost > budget) {
            break;
        }
        taken += len;
        escaped += cost;
    }
    return taken;
}

}  // namespace omadm_backend
