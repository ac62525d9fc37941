// Writes SyncML in DTD element order.  Each command writes only the fields
// its DTD content model has, so a misfilled model cannot produce a message
// a strict client would refuse.
#include "codec/syncml_encoder.hpp"

namespace omadm {

namespace {

// The walk: DTD order, shared by every encoding.
class walker {
public:
    explicit walker(syncml_emitter &e, bool v11) : e_(e), v11_(v11) {}

    void message_element(const message &m);
    void head(const message &m);  // SyncML, SyncHdr, and SyncBody opened
    void command_element(const command &c);
    void tail(bool final);  // Final, and the SyncBody and SyncML closed

private:
    // <name>value</name> only when value is not empty
    void optional(const char *name, std::string_view value)
    {
        if (!value.empty()) e_.element(name, value);
    }

    // MetInf DTD order: Format, Type, Mark, Size, NextNonce, MaxMsgSize,
    // MaxObjSize.
    void meta_fields(const meta &m)
    {
        auto mi = [&](const char *name, std::string_view v) {
            if (!v.empty()) e_.metinf(name, v);
        };
        mi("Format", m.format);
        mi("Type", m.type);
        mi("Mark", m.mark);
        mi("Size", m.size);
        mi("NextNonce", m.next_nonce);
        mi("MaxMsgSize", m.max_msg_size);
        mi("MaxObjSize", m.max_obj_size);
    }

    void meta_element(const meta &m)
    {
        if (m.empty()) return;
        e_.open("Meta");
        meta_fields(m);
        e_.close("Meta");
    }

    void locuri(const char *name, std::string_view uri, std::string_view loc)
    {
        if (uri.empty() && loc.empty()) return;
        e_.open(name);
        e_.element("LocURI", uri);
        optional("LocName", loc);
        e_.close(name);
    }

    void item_element(const item &it)
    {
        if (it.target.empty() && it.source.empty() && it.meta.empty()
            && it.data.empty() && !it.more_data) {
            e_.empty("Item");  // e.g. the empty options item of a UI alert
            return;
        }
        e_.open("Item");
        locuri("Target", it.target, {});
        locuri("Source", it.source, {});
        meta_element(it.meta);
        optional("Data", it.data);
        if (it.more_data) e_.empty("MoreData");
        e_.close("Item");
    }

    void header_element(const message &m);

    syncml_emitter &e_;
    bool v11_;  // writing DM 1.1
};

void walker::message_element(const message &m)
{
    head(m);
    for (const auto &c : m.body) command_element(c);
    tail(m.final);
}

void walker::head(const message &m)
{
    e_.root(v11_);
    header_element(m);
    e_.open("SyncBody");
}

void walker::tail(bool final)
{
    if (final) e_.empty("Final");
    e_.close("SyncBody");
    e_.close("SyncML");
}

void walker::header_element(const message &m)
{
    const header &h = m.hdr;
    e_.open("SyncHdr");
    e_.element("VerDTD", v11_ ? "1.1" : "1.2");
    e_.element("VerProto", v11_ ? "DM/1.1" : "DM/1.2");
    e_.element("SessionID", h.session_id);
    e_.element("MsgID", h.msg_id);
    e_.open("Target");
    e_.element("LocURI", h.target);
    optional("LocName", h.target_name);
    e_.close("Target");
    e_.open("Source");
    e_.element("LocURI", h.source);
    optional("LocName", h.source_name);
    e_.close("Source");
    optional("RespURI", h.resp_uri);
    if (h.has_cred) {
        e_.open("Cred");
        meta_element(h.cred.meta);
        e_.element("Data", h.cred.data);
        e_.close("Cred");
    }
    meta_element(h.meta);
    e_.close("SyncHdr");
}

void walker::command_element(const command &c)
{
    const char *n = c.name.c_str();
    bool status = c.name == "Status", results = c.name == "Results";
    bool alert = c.name == "Alert", exec = c.name == "Exec";
    bool container = c.name == "Atomic" || c.name == "Sequence";

    e_.open(n);
    e_.element("CmdID", c.cmd_id);
    if (c.no_resp && !status && !results) e_.empty("NoResp");
    if (status || results) {
        if (status || !c.msg_ref.empty()) e_.element("MsgRef", c.msg_ref);
        e_.element("CmdRef", c.cmd_ref);
    }
    if (status) e_.element("Cmd", c.cmd);
    if (!status && !alert) meta_element(c.meta);
    if (status || results) {
        for (const auto &r : c.target_refs) e_.element("TargetRef", r);
        for (const auto &r : c.source_refs) e_.element("SourceRef", r);
    }
    if (status && c.has_chal) {
        e_.open("Chal");
        e_.open("Meta");
        meta_fields(c.chal);
        e_.close("Meta");
        e_.close("Chal");
    }
    if (status) e_.element("Data", c.data);
    if (alert) optional("Data", c.data);
    // Correlator is new in DM 1.2: a 1.1 DTD has no place for it.
    if ((alert || exec) && !v11_) optional("Correlator", c.correlator);
    if (container) {
        for (const auto &child : c.commands) command_element(child);
    } else {
        for (const auto &it : c.items) item_element(it);
    }
    e_.close(n);
}

class xml_emitter : public syncml_emitter {
public:
    explicit xml_emitter(std::string &to) : out(to) {}

    std::string &out;

    void root(bool v11) override
    {
        out += v11 ? "<SyncML xmlns=\"SYNCML:SYNCML1.1\">"
                   : "<SyncML xmlns=\"SYNCML:SYNCML1.2\">";
    }
    void open(const char *name) override
    {
        out.append("<").append(name).append(">");
    }
    void close(const char *name) override
    {
        out.append("</").append(name).append(">");
    }
    void empty(const char *name) override
    {
        out.append("<").append(name).append("/>");
    }
    void element(const char *name, std::string_view value) override
    {
        open(name);
        text(value);
        close(name);
    }
    void metinf(const char *name, std::string_view value) override
    {
        out.append("<").append(name).append(" xmlns=\"syncml:metinf\">");
        text(value);
        close(name);
    }

private:
    // Character data: &, <, > escaped; CR as a reference so it survives
    // the parser's line-end normalisation; characters XML 1.0 cannot carry
    // become U+FFFD.
    void text(std::string_view s)
    {
        for (char c : s) {
            switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\r': out += "&#13;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t'
                    && c != '\n') {
                    out += "\xEF\xBF\xBD";
                } else {
                    out += c;
                }
            }
        }
    }
};

}  // namespace

void emit_syncml(const message &m, syncml_emitter &e)
{
    walker(e, m.version == syncml_version::v1_1).message_element(m);
}

void emit_head(const message &m, syncml_emitter &e)
{
    walker(e, m.version == syncml_version::v1_1).head(m);
}

void emit_command(const command &c, bool v11, syncml_emitter &e)
{
    walker(e, v11).command_element(c);
}

void emit_tail(bool final, syncml_emitter &e)
{
    walker(e, false).tail(final);
}

std::string encode_syncml(const message &m)
{
    std::string out;
    out.reserve(1024);
    xml_emitter x(out);
    emit_syncml(m, x);
    return out;
}

namespace {

class xml_writer : public piece_writer {
public:
    explicit xml_writer(const message &m)
        : v11_(m.version == syncml_version::v1_1), final_(m.final)
    {
        xml_emitter x(body_);
        emit_head(m, x);
        for (const auto &c : m.body) emit_command(c, v11_, x);
    }

    size_t size_with(const command *c) const override
    {
        std::string more;
        xml_emitter x(more);
        if (c) emit_command(*c, v11_, x);
        emit_tail(final_, x);
        return body_.size() + more.size();
    }

    void add(const command &c) override
    {
        xml_emitter x(body_);
        emit_command(c, v11_, x);
    }

private:
    std::string body_;  // the message so far, without its tail
    bool v11_, final_;
};

}  // namespace

std::unique_ptr<piece_writer> xml_piece_writer(const message &m)
{
    return std::make_unique<xml_writer>(m);
}

}  // namespace omadm
