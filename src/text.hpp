// Small text helpers shared by the core.  ASCII only and locale-free: what
// they match must not depend on a setlocale() somewhere in the process.
#pragma once

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
    auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
    };
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace omadm
