// A single forward pass over the bytes: every read is bounds-checked, every
// length is checked against what is left before anything is allocated, and
// the element events go to the same syncml_builder as the XML decoder's.
#include "codec/wbxml_decoder.hpp"

#include <climits>
#include <cstdint>
#include <cstring>

#include "codec/syncml_builder.hpp"
#include "codec/wbxml_tokens.hpp"

namespace omadm {

namespace {

using namespace wbxml;

// Decoded text (all strings, including string-table references) may be at
// most this many times the input plus a margin: a table entry referenced
// again and again must not turn a small body into gigabytes.
constexpr size_t k_text_factor = 8;
constexpr size_t k_text_margin = 64 * 1024;

// The namespace a SyncML FPI stands for, as the XML root would carry it.
std::string fpi_namespace(std::string_view fpi)
{
    constexpr std::string_view pre = "-//SYNCML//DTD SyncML ";
    constexpr std::string_view post = "//EN";
    if (fpi.size() > pre.size() + post.size()
        && fpi.substr(0, pre.size()) == pre
        && fpi.substr(fpi.size() - post.size()) == post) {
        auto ver
            = fpi.substr(pre.size(), fpi.size() - pre.size() - post.size());
        return "SYNCML:SYNCML" + std::string(ver);
    }
    return {};  // unknown: VerDTD/VerProto decide
}

std::string hex2(unsigned v)
{
    static const char d[] = "0123456789ABCDEF";
    return std::string("0x") + d[(v >> 4) & 15] + d[v & 15];
}

class decoder {
public:
    decoder(std::string_view body, const omadm_limits_t &limits, message &out)
        : in_(body), b_(limits, out),
          text_budget_(body.size() <= (SIZE_MAX - k_text_margin) / k_text_factor
                           ? body.size() * k_text_factor + k_text_margin
                           : SIZE_MAX)
    {
    }

    bool run(parse_error &err);

private:
    bool header();
    bool element_token(uint8_t tok);
    bool end_token();
    bool text(std::string_view s, bool utf8);
    bool table_string(uint32_t index, std::string_view &s,
                      size_t max_len = SIZE_MAX);
    bool byte(uint8_t &v);
    bool mb(uint32_t &v);
    bool fail(std::string reason, bool too_big = false)
    {
        return b_.fail(std::move(reason), too_big);
    }
    bool truncated()
    {
        return fail("WBXML truncated at byte " + std::to_string(in_.size()));
    }
    std::string at() const { return " at byte " + std::to_string(tok_pos_); }

    std::string_view in_;
    syncml_builder b_;
    size_t pos_ = 0, tok_pos_ = 0;
    std::string_view table_;  // string table
    std::string root_ns_;     // from the public id
    uint8_t page_ = PAGE_SYNCML;
    size_t open_ = 0;  // elements with content not yet ENDed
    bool root_seen_ = false;
    size_t text_budget_, text_used_ = 0;
};

bool decoder::byte(uint8_t &v)
{
    if (pos_ >= in_.size()) return truncated();
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
}

// mb_u_int32: 7 bits a byte, high bit = more; at most 32 bits.
bool decoder::mb(uint32_t &v)
{
    size_t start = pos_;
    v = 0;
    for (int n = 1;; n++) {
        uint8_t c = 0;
        if (!byte(c)) return false;
        if (v > (UINT32_MAX >> 7) || n > 5) {
            return fail("WBXML mb_u_int32 overflow at byte "
                        + std::to_string(start));
        }
        v = (v << 7) | (c & 0x7F);
        if (!(c & 0x80)) return true;
    }
}

// max_len: refuse a longer string without scanning past it.
bool decoder::table_string(uint32_t index, std::string_view &s, size_t max_len)
{
    if (index >= table_.size()) {
        return fail("WBXML string table reference " + std::to_string(index)
                    + " past its end (" + std::to_string(table_.size())
                    + " bytes)" + at());
    }
    std::string_view rest = table_.substr(index);
    size_t scan = max_len < rest.size() ? max_len + 1 : rest.size();
    size_t nul = rest.substr(0, scan).find('\0');
    if (nul == std::string_view::npos && rest.size() > max_len) {
        return fail("WBXML string table entry " + std::to_string(index)
                    + " longer than " + std::to_string(max_len) + " bytes"
                    + at());
    }
    if (nul == std::string_view::npos) {
        return fail("WBXML string table entry " + std::to_string(index)
                    + " is not NUL-terminated");
    }
    s = rest.substr(0, nul);
    return true;
}

bool decoder::header()
{
    uint8_t version = 0;
    if (!byte(version)) return false;
    if (version >> 4) {
        return fail("unsupported WBXML version "
                    + std::to_string((version >> 4) + 1) + "."
                    + std::to_string(version & 15));
    }
    uint32_t public_id, fpi_index = 0;
    if (!mb(public_id)) return false;
    if (public_id == 0 && !mb(fpi_index)) return false;
    if (version > 0) {  // WBXML 1.0 has no charset: UTF-8 is assumed
        uint32_t charset;
        if (!mb(charset)) return false;
        if (charset != CHARSET_UTF8) {
            return fail("WBXML charset " + std::to_string(charset)
                        + " not supported (only UTF-8, 106)");
        }
    }
    uint32_t len;
    if (!mb(len)) return false;
    if (len > in_.size() - pos_) return truncated();
    table_ = in_.substr(pos_, len);
    pos_ += len;

    if (public_id == 0) {
        std::string_view fpi;
        tok_pos_ = 1;
        if (!table_string(fpi_index, fpi)) return false;
        root_ns_ = fpi_namespace(fpi);
    } else if (public_id == PUBLIC_ID_SYNCML_11) {
        root_ns_ = "SYNCML:SYNCML1.1";
    } else if (public_id == PUBLIC_ID_SYNCML_12) {
        root_ns_ = "SYNCML:SYNCML1.2";
    }  // else (unknown, MetInf 0x1202, ...): VerDTD/VerProto decide
    return true;
}

// Element names per code page; the namespace a page stands for.
bool decoder::element_token(uint8_t tok)
{
    if (root_seen_ && open_ == 0) {
        return fail("data after the end of the WBXML document" + at());
    }
    if (tok & TAG_ATTRS) return fail("WBXML attributes not supported" + at());
    std::string_view name;
    if ((tok & TAG_MASK) == LITERAL) {
        uint32_t index;
        // A literal name is copied into every element that uses it, so
        // it is short and counted like text: a long one repeated would
        // multiply a small body (a reviewer's finding).
        if (!mb(index) || !table_string(index, name, max_element_name)) {
            return false;
        }
        if (name.empty()) return fail("empty WBXML LITERAL tag name" + at());
        text_used_ += name.size();
        if (text_used_ > text_budget_) {
            return fail("decoded WBXML text larger than "
                            + std::to_string(text_budget_) + " bytes",
                        true);
        }
    } else {
        name = tag_name(page_, tok & TAG_MASK);
        if (name.empty() && page_ <= PAGE_METINF) {
            return fail("unknown WBXML tag " + hex2(tok & TAG_MASK)
                        + " on code page " + std::to_string(page_) + at());
        }
    }
    std::string_view uri = page_ == PAGE_SYNCML   ? std::string_view(root_ns_)
                           : page_ == PAGE_METINF ? "syncml:metinf"
                                                  : "wbxml:foreign-page";
    if (!b_.start(uri, name)) return false;
    root_seen_ = true;
    if (tok & TAG_CONTENT) {
        open_++;
        return true;
    }
    return end_token();
}

bool decoder::end_token()
{
    if (b_.closing_data_with_children()) {
        return fail("WBXML Data with child elements not supported"
                    " (send it as OPAQUE)"
                    + at());
    }
    return b_.end();
}

bool decoder::text(std::string_view s, bool utf8)
{
    if (open_ == 0) return fail("WBXML text outside the root element" + at());
    text_used_ += s.size();
    if (text_used_ > text_budget_) {
        return fail("decoded WBXML text larger than "
                        + std::to_string(text_budget_) + " bytes",
                    true);
    }
    if (utf8 && !valid_utf8(s)) return fail("invalid UTF-8 in WBXML" + at());
    return b_.text(s);
}

bool decoder::run(parse_error &err)
{
    if (in_.empty()) {
        err = {"empty body", false};
        return false;
    }
    if (in_.size() > size_t(INT_MAX)) {
        err = {"message too large", true};
        return false;
    }
    bool ok = header();
    while (ok && pos_ < in_.size()) {
        tok_pos_ = pos_;
        uint8_t tok = static_cast<uint8_t>(in_[pos_++]);
        switch (tok) {
        case SWITCH_PAGE: ok = byte(page_); break;
        case END:
            if (open_ == 0) {
                ok = fail("unbalanced WBXML END" + at());
                break;
            }
            open_--;
            ok = end_token();
            break;
        case STR_I: {
            size_t nul = in_.find('\0', pos_);
            if (nul == std::string_view::npos) {
                ok = truncated();
                break;
            }
            ok = text(in_.substr(pos_, nul - pos_), true);
            pos_ = nul + 1;
            break;
        }
        case STR_T: {
            uint32_t index;
            std::string_view s;
            ok = mb(index) && table_string(index, s) && text(s, true);
            break;
        }
        case ENTITY: {
            uint32_t cp;
            if (!(ok = mb(cp))) break;
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                ok = fail("WBXML ENTITY " + std::to_string(cp)
                          + " is not a character" + at());
                break;
            }
            char u[4];
            size_t n;
            if (cp < 0x80) {
                u[0] = char(cp);
                n = 1;
            } else if (cp < 0x800) {
                u[0] = char(0xC0 | (cp >> 6));
                u[1] = char(0x80 | (cp & 0x3F));
                n = 2;
            } else if (cp < 0x10000) {
                u[0] = char(0xE0 | (cp >> 12));
                u[1] = char(0x80 | ((cp >> 6) & 0x3F));
                u[2] = char(0x80 | (cp & 0x3F));
                n = 3;
            } else {
                u[0] = char(0xF0 | (cp >> 18));
                u[1] = char(0x80 | ((cp >> 12) & 0x3F));
                u[2] = char(0x80 | ((cp >> 6) & 0x3F));
                u[3] = char(0x80 | (cp & 0x3F));
                n = 4;
            }
            ok = text(std::string_view(u, n), false);
            break;
        }
        case OPAQUE: {
            uint32_t len;
            if (!(ok = mb(len))) break;
            if (len > in_.size() - pos_) {
                ok = truncated();
                break;
            }
            ok = text(in_.substr(pos_, len), false);  // bytes, kept as sent
            pos_ += len;
            break;
        }
        case PI:
            ok = fail("WBXML processing instructions not supported" + at());
            break;
        case EXT_I_0:
        case EXT_I_0 + 1:
        case EXT_I_0 + 2:
        case EXT_T_0:
        case EXT_T_0 + 1:
        case EXT_T_0 + 2:
        case EXT_0:
        case EXT_0 + 1:
        case EXT_0 + 2:
            ok = fail("WBXML extension token " + hex2(tok) + " not supported"
                      + at());
            break;
        default: ok = element_token(tok); break;
        }
    }
    if (b_.failed()) {
        err = b_.error();
        return false;
    }
    if (!root_seen_) {
        err = {"WBXML has no root element", false};
        return false;
    }
    if (open_ != 0) {
        err = {"WBXML truncated: " + std::to_string(open_)
                   + " element(s) not closed",
               false};
        return false;
    }
    return b_.finish(err);
}

}  // namespace

bool parse_wbxml(std::string_view body, const omadm_limits_t &limits,
                 message &out, parse_error &err)
{
    return run_decoder<decoder>(body, limits, out, err);
}

}  // namespace omadm
