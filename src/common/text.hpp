// Small text helpers shared by the core.  ASCII only and locale-free: what
// they match must not depend on a setlocale() somewhere in the process.
#pragma once

#include <cstddef>
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

}  // namespace omadm
