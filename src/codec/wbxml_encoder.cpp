#include "codec/wbxml_encoder.hpp"

#include <cstdint>

#include "codec/syncml_encoder.hpp"
#include "codec/wbxml_tokens.hpp"

namespace omadm {

namespace {

using namespace wbxml;

// What the emitter carries from one element to the next: the code page
// it is on and the string table (literal tags) so far.
struct wbxml_state {
    uint8_t page = PAGE_SYNCML;
    std::string table;
    bool v11 = false;

    // Version, public id, charset and string table: what goes before the
    // body once it is known.
    std::string header() const
    {
        std::string h;
        h.push_back(char(VERSION_1_2));
        mb(h, v11 ? PUBLIC_ID_SYNCML_11 : PUBLIC_ID_SYNCML_12);
        mb(h, CHARSET_UTF8);
        mb(h, uint32_t(table.size()));
        h.append(table);
        return h;
    }

    static void mb(std::string &out, uint32_t v)
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
};

class wbxml_emitter : public syncml_emitter {
public:
    // Writes the body to out, going on from state.
    wbxml_emitter(std::string &out, wbxml_state &state) : out(out), st_(state)
    {
    }

    std::string &out;

    void root(bool v11) override
    {
        st_.v11 = v11;
        tag(PAGE_SYNCML, "SyncML", true);
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
    void mb(uint32_t v) { wbxml_state::mb(out, v); }

    void tag(uint8_t page, const char *name, bool content)
    {
        if (page != st_.page) {
            out.push_back(char(SWITCH_PAGE));
            out.push_back(char(page));
            st_.page = page;
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
        size_t at = st_.table.find(std::string(name) + '\0');
        if (at == std::string::npos) {
            at = st_.table.size();
            st_.table.append(name).push_back('\0');
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

    wbxml_state &st_;
};

class wbxml_writer : public piece_writer {
public:
    explicit wbxml_writer(const message &m)
        : v11_(m.version == syncml_version::v1_1), final_(m.final)
    {
        wbxml_emitter w(body_, state_);
        emit_head(m, w);
        for (const auto &c : m.body) emit_command(c, v11_, w);
    }

    size_t size_with(const command *c) const override
    {
        wbxml_state st = state_;  // a page and a (normally empty) table
        std::string more;
        wbxml_emitter w(more, st);
        if (c) emit_command(*c, v11_, w);
        emit_tail(final_, w);
        return st.header().size() + body_.size() + more.size();
    }

    void add(const command &c) override
    {
        wbxml_emitter w(body_, state_);
        emit_command(c, v11_, w);
    }

private:
    std::string body_;  // the body so far, without its tail
    wbxml_state state_;
    bool v11_, final_;
};

}  // namespace

std::string encode_wbxml(const message &m)
{
    std::string body;
    body.reserve(512);
    wbxml_state st;
    wbxml_emitter w(body, st);
    emit_syncml(m, w);
    return st.header() + body;
}

std::unique_ptr<piece_writer> wbxml_piece_writer(const message &m)
{
    return std::make_unique<wbxml_writer>(m);
}

}  // namespace omadm
