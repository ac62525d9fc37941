// Small text helpers shared by the core.  ASCII only and locale-free: what
// they match must not depend on a setlocale() somewhere in the process.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace omadm {

// XML white space (the S production): space, tab, CR, LF.
constexpr bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Without leading and trailing XML white space.
inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
    return s;
}

// ASCII case-insensitive equality.
inline bool iequals(std::string_view a, std::string_view b)
{
    auto lower
        = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// The longest prefix of s of at most n bytes that does not end inside a
// UTF-8 character (s is taken to start at a character boundary).
inline size_t utf8_prefix(std::string_view s, size_t n)
{
    if (n >= s.size()) return s.size();
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) n--;
    return n;
}

// Lower-case hex of bytes (session tokens, message prints, describe()).
inline std::string hex(std::string_view bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0x0f]);
    }
    return out;
}

// The core's one number parser: 1 to max_digits decimal digits, XML white
// space around, nothing else (no sign, no junk).
inline bool parse_decimal(std::string_view text, size_t max_digits,
                          unsigned long long &out)
{
    text = trim(text);
    if (text.empty() || text.size() > max_digits) return false;
    unsigned long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (unsigned) (c - '0');
    }
    out = v;
    return true;
}

// A SyncML status code, or MaxMsgSize and the like: 1 to 9 digits.
inline bool parse_code(std::string_view text, int &out)
{
    unsigned long long v;
    if (!parse_decimal(text, 9, v)) return false;
    out = (int) v;
    return true;
}

}  // namespace omadm
