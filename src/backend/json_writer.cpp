#include "backend/json_writer.hpp"

#include <nlohmann/json.hpp>

namespace omadm {

namespace {

// RFC 3629 UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF):
// what nlohmann's serializer accepts without replacing.
bool valid_utf8(std::string_view s)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const auto *end = p + s.size();
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;  // bounds of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (size_t(end - p) <= n) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (size_t i = 2; i <= n; i++) {
            if (p[i] < 0x80 || p[i] > 0xBF) return false;
        }
        p += n + 1;
    }
    return true;
}

}  // namespace

void json_writer::separate()
{
    if (!first_) out_ += ',';
    first_ = false;
}

json_writer &json_writer::begin_object()
{
    separate();
    out_ += '{';
    first_ = true;
    return *this;
}

json_writer &json_writer::end_object()
{
    out_ += '}';
    first_ = false;
    return *this;
}

json_writer &json_writer::begin_array()
{
    separate();
    out_ += '[';
    first_ = true;
    return *this;
}

json_writer &json_writer::end_array()
{
    out_ += ']';
    first_ = false;
    return *this;
}

json_writer &json_writer::key(std::string_view name)
{
    value(name);  // a name is escaped like a string value
    out_ += ':';
    first_ = true;  // the value follows without a comma
    return *this;
}

json_writer &json_writer::value(std::string_view s)
{
    separate();
    if (!valid_utf8(s)) {
        // rare (a decoded Basic user name may be anything): nlohmann's own
        // replacement, byte for byte
        out_ += nlohmann::json(s).dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
        return *this;
    }
    out_ += '"';
    string_body(s);
    out_ += '"';
    return *this;
}

json_writer &json_writer::value(bool b)
{
    separate();
    out_ += b ? "true" : "false";
    return *this;
}

json_writer &json_writer::value(unsigned long long n)
{
    separate();
    char buf[24];
    char *p = buf + sizeof buf;
    do {
        *--p = char('0' + n % 10);
        n /= 10;
    } while (n);
    out_.append(p, size_t(buf + sizeof buf - p));
    return *this;
}

json_writer &json_writer::value(long long n)
{
    if (n >= 0) return value((unsigned long long) n);
    separate();
    out_ += '-';
    first_ = true;
    return value(0ULL - (unsigned long long) n);
}

// The escapes nlohmann writes for valid UTF-8 (ensure_ascii off).
void json_writer::string_body(std::string_view s)
{
    static const char hex[] = "0123456789abcdef";
    for (char ch : s) {
        auto c = (unsigned char) ch;
        switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
            if (c <= 0x1F) {
                out_ += "\\u00";
                out_ += hex[c >> 4];
                out_ += hex[c & 0xF];
            } else {
                out_ += ch;
            }
        }
    }
}

}  // namespace omadm
