// A compact binary record: unsigned LEB128 numbers and length-prefixed
// byte strings, written in a fixed order and read back in that order.
// The reader never reads past its input: a short or damaged record makes
// every later read fail, and the caller treats the record as absent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace omadm {

class record_writer {
public:
    void number(uint64_t v)
    {
        while (v >= 0x80) {
            out_.push_back(char((v & 0x7f) | 0x80));
            v >>= 7;
        }
        out_.push_back(char(v));
    }
    void bytes(std::string_view s)
    {
        number(s.size());
        out_.append(s);
    }
    // Lowercase hex of even length (tokens, prints) takes half its size;
    // the length's low bit says which form follows.
    void hex_or_bytes(std::string_view s);
    void raw(std::string_view s) { out_.append(s); }
    std::string &text() { return out_; }

private:
    std::string out_;
};

class record_reader {
public:
    explicit record_reader(std::string_view in) : in_(in) {}

    bool number(uint64_t &v)
    {
        v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (in_.empty()) return fail();
            auto b = (unsigned char) in_.front();
            in_.remove_prefix(1);
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return true;
        }
        return fail();
    }
    template <class T> bool number_as(T &v)
    {
        uint64_t n;
        if (!number(n) || n > uint64_t(T(~T(0)))) return fail();
        v = T(n);
        return true;
    }
    bool bytes(std::string_view &s)
    {
        uint64_t n;
        if (!number(n) || n > in_.size()) return fail();
        s = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }
    bool bytes(std::string &s)
    {
        std::string_view v;
        if (!bytes(v)) return false;
        s.assign(v);
        return true;
    }
    bool hex_or_bytes(std::string &s);
    bool prefix(std::string_view p)
    {
        if (in_.substr(0, p.size()) != p) return fail();
        in_.remove_prefix(p.size());
        return true;
    }
    std::string_view rest() const { return in_; }
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && in_.empty(); }

private:
    bool fail()
    {
        ok_ = false;
        in_ = {};
        return false;
    }

    std::string_view in_;
    bool ok_ = true;
};

inline void record_writer::hex_or_bytes(std::string_view s)
{
    auto nibble = [](char c) {
        return c >= '0' && c <= '9' ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : -1;
    };
    bool hex = s.size() % 2 == 0;
    for (char c : s) hex = hex && nibble(c) >= 0;
    if (!hex) {
        number(uint64_t(s.size()) << 1);
        out_.append(s);
        return;
    }
    number((uint64_t(s.size() / 2) << 1) | 1);
    for (size_t i = 0; i < s.size(); i += 2)
        out_.push_back(char(nibble(s[i]) << 4 | nibble(s[i + 1])));
}

inline bool record_reader::hex_or_bytes(std::string &s)
{
    uint64_t n;
    if (!number(n) || (n >> 1) > in_.size()) return fail();
    std::string_view v = in_.substr(0, n >> 1);
    in_.remove_prefix(n >> 1);
    if (!(n & 1)) {
        s.assign(v);
        return true;
    }
    static const char digits[] = "0123456789abcdef";
    s.clear();
    s.reserve(v.size() * 2);
    for (unsigned char c : v) {
        s.push_back(digits[c >> 4]);
        s.push_back(digits[c & 15]);
    }
    return true;
}

}  // namespace omadm
