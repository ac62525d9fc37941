#include "auth/hmac_auth.hpp"

#include "auth/base64.hpp"
#include "auth/md5_auth.hpp"
#include "common/text.hpp"

namespace omadm {

namespace {

constexpr size_t algorithm_max = 16;

bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

// Everything below 0x20 but TAB, and DEL: never in a header we accept
// (a NUL or CR/LF here means a broken or smuggling client).
bool is_ctl(char c)
{
    unsigned char u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

// RFC 7230 tchar: what a parameter name is made of.
bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')) {
        return true;
    }
    for (char t : std::string_view("!#$%&'*+-.^_`|~")) {
        if (c == t) return true;
    }
    return false;
}

// Reads one quoted-string (the opening quote already consumed) into val,
// undoing \-escapes.  False when the closing quote is missing.
bool read_quoted(std::string_view s, size_t &i, std::string &val)
{
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return true;
        if (c == '\\') {
            if (i == s.size()) return false;
            c = s[i++];
        }
        val += c;
    }
    return false;
}

// One parameter value, quoted or as a bare run up to white space or ','.
bool read_value(std::string_view s, size_t &i, std::string &val,
                std::string &why)
{
    if (i < s.size() && s[i] == '"') {
        ++i;
        if (!read_quoted(s, i, val)) {
            why = "x-syncml-hmac: unterminated quoted value";
            return false;
        }
        return true;
    }
    size_t start = i;
    while (i < s.size() && !is_ows(s[i]) && s[i] != ',') {
        if (s[i] == '"') {
            why = "x-syncml-hmac: stray quote in a value";
            return false;
        }
        ++i;
    }
    val.assign(s.substr(start, i - start));
    return true;
}

// Stores a known parameter once; false on a repeat or an over-long value.
bool take(const char *name, std::string &val, size_t max, bool &seen,
          std::string &slot, std::string &why)
{
    if (seen) {
        why = std::string("x-syncml-hmac: duplicate ") + name;
        return false;
    }
    if (val.size() > max) {
        why = std::string("x-syncml-hmac: ") + name + " too long";
        return false;
    }
    seen = true;
    slot = std::move(val);
    return true;
}

}  // namespace

bool parse_hmac_header(std::string_view value, hmac_header &out,
                       std::string &why)
{
    if (value.size() > hmac_header_max) {
        why = "x-syncml-hmac: header too long";
        return false;
    }
    for (char c : value) {
        if (is_ctl(c)) {
            why = "x-syncml-hmac: control character";
            return false;
        }
    }

    bool seen_alg = false, seen_user = false, seen_mac = false;
    size_t i = 0;
    out = hmac_header();
    for (;;) {
        while (i < value.size() && is_ows(value[i])) ++i;
        if (i == value.size()) break;
        if (value[i] == ',') {  // an empty list element (RFC 7230 #rule)
            ++i;
            continue;
        }

        size_t start = i;
        while (i < value.size() && is_tchar(value[i])) ++i;
        std::string_view name = value.substr(start, i - start);
        if (name.empty()) {
            why = "x-syncml-hmac: parameter name expected";
            return false;
        }
        while (i < value.size() && is_ows(value[i])) ++i;
        if (i == value.size() || value[i] != '=') {
            why = "x-syncml-hmac: '=' expected after a parameter name";
            return false;
        }
        ++i;
        while (i < value.size() && is_ows(value[i])) ++i;

        std::string val;
        if (!read_value(value, i, val, why)) return false;
        while (i < value.size() && is_ows(value[i])) ++i;
        if (i < value.size() && value[i] != ',') {
            why = "x-syncml-hmac: ',' expected between parameters";
            return false;
        }

        bool ok = true;
        if (iequals(name, "algorithm")) {
            ok = take("algorithm", val, algorithm_max, seen_alg, out.algorithm,
                      why);
        } else if (iequals(name, "username")) {
            ok = take("username", val, hmac_username_max, seen_user,
                      out.username, why);
        } else if (iequals(name, "mac")) {
            ok = take("mac", val, hmac_mac_max, seen_mac, out.mac, why);
        }  // other parameters: ignored, so a later extension still parses
        if (!ok) return false;
    }

    if (!seen_alg || iequals(out.algorithm, "MD5")) {
        out.algorithm = "MD5";
    } else {
        why = "x-syncml-hmac: unsupported algorithm";
        return false;
    }
    if (out.username.empty()) {
        why = "x-syncml-hmac: username missing";
        return false;
    }
    if (out.mac.empty()) {
        why = "x-syncml-hmac: mac missing";
        return false;
    }
    std::string raw;
    if (out.mac.size() != 24 || !base64_decode(out.mac, raw)
        || raw.size() != 16) {
        why = "x-syncml-hmac: mac is not base64 of 16 bytes";
        return false;
    }
    return true;
}

std::string hmac_mac(std::string_view inner, std::string_view nonce_bytes,
                     std::string_view body)
{
    std::string body_digest = base64_encode(md5_raw(body));
    std::string s;
    s.reserve(inner.size() + 2 + nonce_bytes.size() + body_digest.size());
    s.append(inner).append(1, ':').append(nonce_bytes).append(1, ':');
    s.append(body_digest);
    return base64_encode(md5_raw(s));
}

bool hmac_verify(std::string_view inner, std::string_view nonce_bytes,
                 std::string_view body, std::string_view presented_mac)
{
    return secure_equal(hmac_mac(inner, nonce_bytes, body), presented_mac);
}

std::string hmac_header_value(std::string_view username, std::string_view mac)
{
    std::string v("algorithm=MD5, username=\"");
    for (char c : username) {
        if (c == '"' || c == '\\') v.push_back('\\');
        v.push_back(c);
    }
    v.append("\", mac=").append(mac);
    return v;
}

}  // namespace omadm
