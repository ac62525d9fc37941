#include "codec/wbxml_encoder.hpp"

#include <cstdint>

#include "codec/syncml_encoder.hpp"
#include "codec/wbxml_tokens.hpp"

namespace omadm {

namespace {

using namespace wbxml;

class wbxml_emitter : public syncml_emitter {
public:
    std::string out;  // the body; the header comes last (see done())

    void root(bool v11) override
    {
        v11_ = v11;
        tag(PAGE_SYNCML, "SyncML", true);
    }

    // Header (version, public id, charset, string table) + body.
    std::string done()
    {
        std::string body = std::move(out);
        out.clear();
        out.push_back(char(VERSION_1_2));
        mb(v11_ ? PUBLIC_ID_SYNCML_11 : PUBLIC_ID_SYNCML_12);
        mb(CHARSET_UTF8);
        mb(uint32_t(table_.size()));
        out.append(table_);
        out.append(body);
        return std::move(out);
    }
    void open(const char *name) override { tag(PAGE_SYNCML, name, true); }
    void close(const char *) override { out.push_back(char(END)); }
    void empty(const char *name) override { tag(PAGE_SYNCML, name, false); }
    void element(const char *name, std::string_view value) override
    {
        leaf(PAGE_SYNCML, name, value);
    }
    void metinf(const char *name, std::string_view value) override
    {
        leaf(PAGE_METINF, name, value);
    }

private:
    void mb(uint32_t v)
    {
        char buf[5];
        int n = 0;
        do {
            buf[n++] = char(v & 0x7F);
            v >>= 7;
        } while (v);
        while (n > 1) out.push_back(char(buf[--n] | 0x80));
        out.push_back(buf[0]);
    }

    void tag(uint8_t page, const char *name, bool content)
    {
        if (page != page_) {
            out.push_back(char(SWITCH_PAGE));
            out.push_back(char(page));
            page_ = page;
        }
        uint8_t t = tag_of(page, name);
        if (t == 0) {
            out.push_back(char(content ? LITERAL_C : LITERAL));
            literal(name);
            return;
        }
        out.push_back(char(content ? t | TAG_CONTENT : t));
    }

    // An element without a token (an unknown command kept by name) is a
    // LITERAL naming a string-table entry.
    void literal(std::string_view name)
    {
        size_t at = table_.find(std::string(name) + '\0');
        if (at == std::string::npos) {
            at = table_.size();
            table_.append(name).push_back('\0');
        }
        mb(uint32_t(at));
    }

    void leaf(uint8_t page, const char *name, std::string_view value)
    {
        if (value.empty()) {
            tag(page, name, false);
            return;
        }
        tag(page, name, true);
        if (valid_utf8(value) && value.find('\0') == std::string_view::npos) {
            out.push_back(char(STR_I));
            out.append(value);
            out.push_back('\0');
        } else {
            out.push_back(char(OPAQUE));
            mb(uint32_t(value.size()));
            out.append(value);
        }
        out.push_back(char(END));
    }

    uint8_t page_ = PAGE_SYNCML;
    std::string table_;
    bool v11_ = false;
};

}  // namespace

std::string encode_wbxml(const message &m)
{
    wbxml_emitter w;
    w.out.reserve(512);
    emit_syncml(m, w);
    return w.done();
}

}  // namespace omadm
