#include "setting_values.hpp"

#include "auth/base64.hpp"  // the core's, strict

#include <optional>

namespace omadm_backend {

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string trim(const std::string &s)
{
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) {
        b++;
    }
    while (e > b && is_space(s[e - 1])) {
        e--;
    }
    return s.substr(b, e - b);
}

// "+007" -> "7", "-0" -> "0"; nullopt when not a decimal integer.  Kept as
// text: a device may report more digits than int64 holds.
std::optional<std::string> canonical_integer(const std::string &raw)
{
    std::string s = trim(raw);
    bool negative = false;
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        negative = s[i] == '-';
        i++;
    }
    if (i == s.size()) {
        return std::nullopt;
    }
    for (size_t j = i; j < s.size(); j++) {
        if (s[j] < '0' || s[j] > '9') {
            return std::nullopt;
        }
    }
    size_t first = s.find_first_not_of('0', i);
    if (first == std::string::npos) {
        return std::string("0");
    }
    return (negative ? "-" : "") + s.substr(first);
}

std::optional<bool> boolean(const std::string &raw)
{
    std::string s = trim(raw);
    for (char &c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    if (s == "true") {
        return true;
    }
    if (s == "false") {
        return false;
    }
    return std::nullopt;
}

// Whitespace anywhere (the line breaks of a pasted certificate) is not
// part of the value.
std::optional<std::string> decoded_base64(const std::string &in)
{
    std::string compact;
    for (char c : in) {
        if (!is_space(c)) {
            compact += c;
        }
    }
    std::string out;
    if (!omadm::base64_decode(compact, out)) {
        return std::nullopt;
    }
    return out;
}

// Whitespace between tags and at the ends dropped, other runs made one
// space: the same document pretty-printed or not.
std::string normalised_xml(const std::string &s)
{
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        if (!is_space(s[i])) {
            out += s[i++];
            continue;
        }
        size_t end = i;
        while (end < s.size() && is_space(s[end])) {
            end++;
        }
        bool between_tags = (out.empty() || out.back() == '>')
                            && (end == s.size() || s[end] == '<');
        if (!between_tags) {
            out += ' ';
        }
        i = end;
    }
    return out;
}

}  // namespace

bool valid_value(const std::string &format, const std::string &data,
                 std::string &why)
{
    if (format == "int" && !canonical_integer(data)) {
        why = "is not an integer, as format int requires";
        return false;
    }
    if (format == "bool" && !boolean(data)) {
        why = "must be true or false for format bool";
        return false;
    }
    if (format == "b64" && !decoded_base64(data)) {
        why = "is not base64, as format b64 requires";
        return false;
    }
    return true;
}

bool same_value(const std::string &format, const std::string &desired,
                const std::string &reported)
{
    if (format == "int") {
        std::optional<std::string> a = canonical_integer(desired),
                                   b = canonical_integer(reported);
        return a && b ? *a == *b : desired == reported;
    }
    if (format == "bool") {
        std::optional<bool> a = boolean(desired), b = boolean(reported);
        return a && b ? *a == *b : desired == reported;
    }
    if (format == "xml") {
        return normalised_xml(desired) == normalised_xml(reported);
    }
    if (format == "b64") {
        std::optional<std::string> a = decoded_base64(desired),
                                   b = decoded_base64(reported);
        return a && b ? *a == *b : desired == reported;
    }
    return desired == reported;
}

}  // namespace omadm_backend
