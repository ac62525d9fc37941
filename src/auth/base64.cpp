#include "auth/base64.hpp"

#include <cstdint>

#include "common/text.hpp"

namespace omadm {

namespace {

const char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16
                     | uint32_t(uint8_t(bytes[i + 1])) << 8
                     | uint8_t(bytes[i + 2]);
        out += alphabet[v >> 18];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    size_t rest = bytes.size() - i;
    if (rest) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        out += alphabet[v >> 18];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool base64_decode(std::string_view text, std::string &out)
{
    text = trim(text);
    if (text.size() % 4 != 0) return false;

    std::string res;
    res.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int a = sextet(text[i]), b = sextet(text[i + 1]);
        if (a < 0 || b < 0) return false;
        uint32_t v = uint32_t(a) << 18 | uint32_t(b) << 12;
        char c3 = text[i + 2], c4 = text[i + 3];
        if (last && c3 == '=' && c4 == '=') {
            if (v & 0xffff) return false;  // non-canonical trailing bits
            res += char(v >> 16);
            break;
        }
        int c = sextet(c3);
        if (c < 0) return false;
        v |= uint32_t(c) << 6;
        if (last && c4 == '=') {
            if (v & 0xff) return false;
            res += char(v >> 16);
            res += char((v >> 8) & 0xff);
            break;
        }
        int d = sextet(c4);
        if (d < 0) return false;
        v |= uint32_t(d);
        res += char(v >> 16);
        res += char((v >> 8) & 0xff);
        res += char(v & 0xff);
    }
    out = std::move(res);
    return true;
}

}  // namespace omadm
