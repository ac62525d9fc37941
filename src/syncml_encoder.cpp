// Writes SyncML in DTD element order.  Each command writes only the fields
// its DTD content model has, so a misfilled model cannot produce a message
// a strict client would refuse.
#include "syncml_encoder.hpp"

namespace omadm {

namespace {

class writer {
public:
    std::string out;
    bool        v11 = false;    // writing DM 1.1

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

    void open(const char *name) { out.append("<").append(name).append(">"); }
    void close(const char *name) { out.append("</").append(name).append(">"); }

    // <name>value</name>, always (required elements)
    void element(const char *name, std::string_view value)
    {
        open(name);
        text(value);
        close(name);
    }

    // <name>value</name> only when value is not empty
    void optional(const char *name, std::string_view value)
    {
        if (!value.empty()) element(name, value);
    }

    void metinf(const char *name, std::string_view value)
    {
        if (value.empty()) return;
        out.append("<").append(name).append(" xmlns=\"syncml:metinf\">");
        text(value);
        close(name);
    }

    // MetInf DTD order: Format, Type, Mark, Size, NextNonce, MaxMsgSize,
    // MaxObjSize.
    void meta_fields(const meta &m)
    {
        metinf("Format", m.format);
        metinf("Type", m.type);
        metinf("Mark", m.mark);
        metinf("Size", m.size);
        metinf("NextNonce", m.next_nonce);
        metinf("MaxMsgSize", m.max_msg_size);
        metinf("MaxObjSize", m.max_obj_size);
    }

    void meta_element(const meta &m)
    {
        if (m.empty()) return;
        open("Meta");
        meta_fields(m);
        close("Meta");
    }

    void locuri(const char *name, std::string_view uri, std::string_view loc)
    {
        if (uri.empty() && loc.empty()) return;
        open(name);
        element("LocURI", uri);
        optional("LocName", loc);
        close(name);
    }

    void item_element(const item &it)
    {
        if (it.target.empty() && it.source.empty() && it.meta.empty()
            && it.data.empty() && !it.more_data) {
            out += "<Item/>";  // e.g. the empty options item of a UI alert
            return;
        }
        open("Item");
        locuri("Target", it.target, {});
        locuri("Source", it.source, {});
        meta_element(it.meta);
        optional("Data", it.data);
        if (it.more_data) out += "<MoreData/>";
        close("Item");
    }

    void header_element(const message &m);
    void command_element(const command &c);
};

void writer::header_element(const message &m)
{
    const header &h = m.hdr;
    open("SyncHdr");
    element("VerDTD", v11 ? "1.1" : "1.2");
    element("VerProto", v11 ? "DM/1.1" : "DM/1.2");
    element("SessionID", h.session_id);
    element("MsgID", h.msg_id);
    open("Target");
    element("LocURI", h.target);
    optional("LocName", h.target_name);
    close("Target");
    open("Source");
    element("LocURI", h.source);
    optional("LocName", h.source_name);
    close("Source");
    optional("RespURI", h.resp_uri);
    if (h.has_cred) {
        open("Cred");
        meta_element(h.cred.meta);
        element("Data", h.cred.data);
        close("Cred");
    }
    meta_element(h.meta);
    close("SyncHdr");
}

void writer::command_element(const command &c)
{
    const std::string &n = c.name;
    bool status = n == "Status", results = n == "Results";
    bool alert = n == "Alert", exec = n == "Exec";
    bool container = n == "Atomic" || n == "Sequence";

    open(n.c_str());
    element("CmdID", c.cmd_id);
    if (c.no_resp && !status && !results) out += "<NoResp/>";
    if (status || results) {
        if (status || !c.msg_ref.empty()) element("MsgRef", c.msg_ref);
        element("CmdRef", c.cmd_ref);
    }
    if (status) element("Cmd", c.cmd);
    if (!status && !alert) meta_element(c.meta);
    if (status || results) {
        for (const auto &r : c.target_refs) element("TargetRef", r);
        for (const auto &r : c.source_refs) element("SourceRef", r);
    }
    if (status && c.has_chal) {
        open("Chal");
        open("Meta");
        meta_fields(c.chal);
        close("Meta");
        close("Chal");
    }
    if (status) element("Data", c.data);
    if (alert) optional("Data", c.data);
    // Correlator is new in DM 1.2: a 1.1 DTD has no place for it.
    if ((alert || exec) && !v11) optional("Correlator", c.correlator);
    if (container) {
        for (const auto &child : c.commands) command_element(child);
    } else {
        for (const auto &it : c.items) item_element(it);
    }
    close(n.c_str());
}

}  // namespace

std::string encode_syncml(const message &m)
{
    writer w;
    w.v11 = m.version == syncml_version::v1_1;
    w.out.reserve(1024);
    w.out += w.v11 ? "<SyncML xmlns=\"SYNCML:SYNCML1.1\">"
                   : "<SyncML xmlns=\"SYNCML:SYNCML1.2\">";
    w.header_element(m);
    w.open("SyncBody");
    for (const auto &c : m.body) w.command_element(c);
    if (m.final) w.out += "<Final/>";
    w.close("SyncBody");
    w.close("SyncML");
    return std::move(w.out);
}

}  // namespace omadm
