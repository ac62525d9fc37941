// Streaming decode with expat.  Every element opens a frame whose kind says
// what the element means where it stands; text goes to the string the frame
// points at.  Pointers into the message stay valid because elements are
// only ever appended to the innermost open container, never to one an open
// frame points into.
#include "syncml_parser.hpp"

#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <expat.h>

#include "text.hpp"

namespace omadm {

namespace {

// Separates namespace URI and local name in expat's element names.  XML 1.0
// cannot contain U+0001, so no URI collides with it.
constexpr char ns_sep = '\x01';

// identifiers the server stores or echoes (see identifiers_fit)
constexpr size_t k_max_id = 64;      // SessionID, MsgID, CmdID, refs
constexpr size_t k_max_name = 256;   // device id, user name
constexpr size_t k_max_uri = 2048;   // the URL the device posted to

enum class kind {
    skip,        // ignored with all its content (unknown / foreign)
    root,
    hdr,
    body,
    target,      // SyncHdr or Item Target/Source: LocURI, LocName
    cred,
    meta,
    command,
    chal,
    item,
    leaf,        // text into *dest
    data,        // Data: text, or raw inner XML when it has child elements
};

struct frame {
    explicit frame(kind kd) : k(kd) {}

    kind         k;
    std::string *dest = nullptr;      // leaf, data; target: LocURI
    std::string *dest_name = nullptr; // target: LocName (may be null)
    meta        *m = nullptr;
    command     *cmd = nullptr;
    item        *it = nullptr;
    bool         trim = true;         // leaf, data
    bool         has_children = false;  // data
    XML_Index    raw_start = 0;       // data: first byte after the start tag
    size_t       text_len = 0;        // direct text, for the text limit
    std::string  text;
};

class decoder {
public:
    decoder(std::string_view body, const omadm_limits_t &limits,
            message &out)
        : body_(body), out_(out),
          max_depth_(limits.max_depth ? limits.max_depth
                                      : OMADM_DEFAULT_MAX_DEPTH),
          max_elements_(limits.max_elements ? limits.max_elements
                                            : OMADM_DEFAULT_MAX_ELEMENTS),
          max_text_(limits.max_text ? limits.max_text
                                    : OMADM_DEFAULT_MAX_TEXT)
    {}

    bool run(parse_error &err);

private:
    static void XMLCALL on_start(void *ud, const XML_Char *name,
                                 const XML_Char **attrs);
    static void XMLCALL on_end(void *ud, const XML_Char *name);
    static void XMLCALL on_text(void *ud, const XML_Char *s, int len);
    static void XMLCALL on_doctype(void *ud, const XML_Char *, const XML_Char *,
                                   const XML_Char *, int);
    static void XMLCALL on_entity(void *ud, const XML_Char *, int,
                                  const XML_Char *, int, const XML_Char *,
                                  const XML_Char *, const XML_Char *,
                                  const XML_Char *);

    void start(std::string_view uri, std::string_view local,
               const XML_Char **attrs);
    void end();
    void text(std::string_view s);
    frame child_of(const frame &parent, std::string_view uri,
                   std::string_view local);
    bool finish(parse_error &err);
    bool identifiers_fit(parse_error &err) const;
    bool cmd_ids_fit(const std::vector<command> &cmds,
                     parse_error &err) const;

    void fail(std::string reason, bool too_big = false);
    template <class F> void guarded(F &&f);

    std::string_view      body_;
    message              &out_;
    size_t                max_depth_, max_elements_, max_text_;
    XML_Parser            parser_ = nullptr;
    std::vector<frame>    stack_;
    size_t                elements_ = 0;
    std::string           doc_ns_;     // namespace of the SyncML root
    bool                  no_ns_ = false;
    bool                  seen_hdr_ = false, seen_body_ = false;
    bool                  failed_ = false, too_big_ = false, oom_ = false;
    std::string           reason_;
};

void decoder::fail(std::string reason, bool too_big)
{
    if (failed_) return;
    failed_ = true;
    too_big_ = too_big;
    reason_ = std::move(reason);
    XML_StopParser(parser_, XML_FALSE);
}

// expat callbacks must not throw: record the failure and stop the parser.
template <class F> void decoder::guarded(F &&f)
{
    if (failed_) return;  // expat may deliver a few events after a stop
    try {
        f();
    } catch (const std::bad_alloc &) {
        oom_ = true;
        fail("out of memory");
    } catch (...) {
        fail("internal error while decoding");
    }
}

void XMLCALL decoder::on_start(void *ud, const XML_Char *name,
                               const XML_Char **attrs)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] {
        std::string_view n(name);
        size_t sep = n.find(ns_sep);
        if (sep == std::string_view::npos) {
            d->start({}, n, attrs);
        } else {
            d->start(n.substr(0, sep), n.substr(sep + 1), attrs);
        }
    });
}

void XMLCALL decoder::on_end(void *ud, const XML_Char *)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] { d->end(); });
}

void XMLCALL decoder::on_text(void *ud, const XML_Char *s, int len)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] { d->text(std::string_view(s, size_t(len))); });
}

void XMLCALL decoder::on_doctype(void *ud, const XML_Char *, const XML_Char *,
                                 const XML_Char *, int)
{
    // A DTD is how entity bombs and external entities get in; SyncML DM
    // needs none, so any DOCTYPE ends the parse before its subset is read.
    static_cast<decoder *>(ud)->fail("DOCTYPE not allowed");
}

void XMLCALL decoder::on_entity(void *ud, const XML_Char *, int,
                                const XML_Char *, int, const XML_Char *,
                                const XML_Char *, const XML_Char *,
                                const XML_Char *)
{
    static_cast<decoder *>(ud)->fail("entity declarations not allowed");
}

void decoder::start(std::string_view uri, std::string_view local,
                    const XML_Char **attrs)
{
    if (++elements_ > max_elements_) {
        fail("more than " + std::to_string(max_elements_) + " XML elements",
             true);
        return;
    }
    if (stack_.size() + 1 > max_depth_) {
        fail("XML nesting deeper than " + std::to_string(max_depth_), true);
        return;
    }
    for (size_t i = 0; attrs[i]; i += 2) {
        if (std::strlen(attrs[i + 1]) > max_text_) {
            fail("attribute longer than " + std::to_string(max_text_)
                     + " bytes", true);
            return;
        }
    }

    if (stack_.empty()) {
        if (local != "SyncML") {
            fail("root element is not SyncML");
            return;
        }
        if (iequals(uri, "SYNCML:SYNCML1.1")) {
            out_.version = syncml_version::v1_1;
        } else if (iequals(uri, "SYNCML:SYNCML1.2")) {
            out_.version = syncml_version::v1_2;
        } else if (uri.empty()) {
            no_ns_ = true;  // version decided by VerDTD/VerProto
        } else if (uri.size() >= 13
                   && iequals(uri.substr(0, 13), "SYNCML:SYNCML")) {
            out_.version = syncml_version::unsupported;
        } else {
            fail("root element is not in a SyncML namespace");
            return;
        }
        doc_ns_ = std::string(uri);
        stack_.push_back(frame{kind::root});
        return;
    }

    frame f = child_of(stack_.back(), uri, local);
    if (f.k == kind::data) {
        f.raw_start = XML_GetCurrentByteIndex(parser_)
                      + XML_GetCurrentByteCount(parser_);
    }
    stack_.push_back(std::move(f));
}

// Decides what an element means from its parent frame.
frame decoder::child_of(const frame &p, std::string_view uri,
                        std::string_view local)
{
    if (p.k == kind::data) {
        // Embedded XML inside Data: kept as raw text at the end of Data.
        stack_.back().has_children = true;
        return frame{kind::skip};
    }
    bool syncml = uri == doc_ns_;
    bool metinf = iequals(uri, "syncml:metinf");

    if (p.k == kind::meta && (syncml || metinf)) {
        // Some clients leave metinf elements in the default namespace.
        meta *m = p.m;
        std::string *d = nullptr;
        if (local == "Type") d = &m->type;
        else if (local == "Format") d = &m->format;
        else if (local == "Mark") d = &m->mark;
        else if (local == "Size") d = &m->size;
        else if (local == "NextNonce") d = &m->next_nonce;
        else if (local == "MaxMsgSize") d = &m->max_msg_size;
        else if (local == "MaxObjSize") d = &m->max_obj_size;
        if (d) {
            frame f{kind::leaf};
            f.dest = d;
            return f;
        }
        return frame{kind::skip};
    }
    if (!syncml) return frame{kind::skip};

    auto leaf = [](std::string *d, bool trim = true) {
        frame f{kind::leaf};
        f.dest = d;
        f.trim = trim;
        return f;
    };
    auto meta_of = [](meta *m) {
        frame f{kind::meta};
        f.m = m;
        return f;
    };
    auto data_of = [](std::string *d, bool trim) {
        frame f{kind::data};
        f.dest = d;
        f.trim = trim;
        return f;
    };
    auto new_command = [&](std::vector<command> &v) {
        v.emplace_back();
        v.back().name = std::string(local);
        frame f{kind::command};
        f.cmd = &v.back();
        return f;
    };

    header &h = out_.hdr;
    switch (p.k) {
    case kind::root:
        if (local == "SyncHdr") {
            seen_hdr_ = true;
            return frame{kind::hdr};
        }
        if (local == "SyncBody") {
            seen_body_ = true;
            return frame{kind::body};
        }
        break;
    case kind::hdr:
        if (local == "VerDTD") return leaf(&h.ver_dtd);
        if (local == "VerProto") return leaf(&h.ver_proto);
        if (local == "SessionID") return leaf(&h.session_id);
        if (local == "MsgID") return leaf(&h.msg_id);
        if (local == "RespURI") return leaf(&h.resp_uri);
        if (local == "Meta") return meta_of(&h.meta);
        if (local == "Target" || local == "Source") {
            bool t = local == "Target";
            frame f{kind::target};
            f.dest = t ? &h.target : &h.source;
            f.dest_name = t ? &h.target_name : &h.source_name;
            return f;
        }
        if (local == "Cred") {
            h.has_cred = true;
            return frame{kind::cred};
        }
        break;
    case kind::target:
        if (local == "LocURI") return leaf(p.dest);
        if (local == "LocName" && p.dest_name) return leaf(p.dest_name);
        break;
    case kind::cred:
        if (local == "Meta") return meta_of(&h.cred.meta);
        if (local == "Data") return data_of(&h.cred.data, true);
        break;
    case kind::body:
        if (local == "Final") {
            out_.final = true;
            break;
        }
        return new_command(out_.body);  // unknown ones too: they get a Status
    case kind::command: {
        command *c = p.cmd;
        if (local == "CmdID") return leaf(&c->cmd_id);
        if (local == "MsgRef") return leaf(&c->msg_ref);
        if (local == "CmdRef") return leaf(&c->cmd_ref);
        if (local == "Cmd") return leaf(&c->cmd);
        if (local == "Correlator") return leaf(&c->correlator);
        if (local == "Meta") return meta_of(&c->meta);
        if (local == "Data") return data_of(&c->data, true);
        if (local == "NoResp") {
            c->no_resp = true;
            break;
        }
        if (local == "TargetRef" || local == "SourceRef") {
            auto &v = local == "TargetRef" ? c->target_refs : c->source_refs;
            v.emplace_back();
            return leaf(&v.back());
        }
        if (local == "Chal") {
            c->has_chal = true;
            frame f{kind::chal};
            f.cmd = c;
            return f;
        }
        if (local == "Item") {
            c->items.emplace_back();
            frame f{kind::item};
            f.it = &c->items.back();
            return f;
        }
        if ((c->name == "Atomic" || c->name == "Sequence")
            && local != "Cred") {
            return new_command(c->commands);  // unknown ones get a Status
        }
        break;
    }
    case kind::chal:
        if (local == "Meta") return meta_of(&p.cmd->chal);
        break;
    case kind::item: {
        item *it = p.it;
        if (local == "Target" || local == "Source") {
            frame f{kind::target};
            f.dest = local == "Target" ? &it->target : &it->source;
            return f;
        }
        if (local == "Meta") return meta_of(&it->meta);
        if (local == "Data") return data_of(&it->data, false);
        if (local == "MoreData") it->more_data = true;
        break;
    }
    default:
        break;
    }
    return frame{kind::skip};
}

void decoder::text(std::string_view s)
{
    if (stack_.empty()) return;
    frame &f = stack_.back();
    f.text_len += s.size();
    if (f.text_len > max_text_) {
        fail("element text longer than " + std::to_string(max_text_)
                 + " bytes", true);
        return;
    }
    if (f.k == kind::leaf || f.k == kind::data) f.text.append(s);
}

void decoder::end()
{
    frame &f = stack_.back();
    if (f.k == kind::leaf) {
        *f.dest = f.trim ? std::string(trim(f.text)) : std::move(f.text);
    } else if (f.k == kind::data) {
        if (f.has_children) {
            // The element had markup inside: keep its inner XML as written.
            XML_Index end = XML_GetCurrentByteIndex(parser_);
            size_t len = size_t(end - f.raw_start);
            if (len > max_text_) {
                fail("element text longer than " + std::to_string(max_text_)
                         + " bytes", true);
                return;
            }
            *f.dest = std::string(body_.substr(size_t(f.raw_start), len));
        } else {
            *f.dest = f.trim ? std::string(trim(f.text)) : std::move(f.text);
        }
    }
    stack_.pop_back();
}

bool decoder::run(parse_error &err)
{
    if (trim(body_).empty()) {
        err = {"empty body", false};
        return false;
    }
    if (body_.size() > size_t(INT_MAX)) {
        err = {"message too large", true};
        return false;
    }
    // UTF-8 is forced: DM uses nothing else, and raw Data slices are bytes
    // of the input.
    std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> p(
        XML_ParserCreateNS("UTF-8", ns_sep), XML_ParserFree);
    if (!p) throw std::bad_alloc();
    parser_ = p.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, on_start, on_end);
    XML_SetCharacterDataHandler(parser_, on_text);
    XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
    XML_SetEntityDeclHandler(parser_, on_entity);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);

    XML_Status st = XML_Parse(parser_, body_.data(), int(body_.size()), 1);
    if (oom_) throw std::bad_alloc();
    if (failed_) {
        err = {reason_, too_big_};
        return false;
    }
    if (st != XML_STATUS_OK) {
        err = {std::string("malformed XML at line ")
                   + std::to_string(XML_GetCurrentLineNumber(parser_))
                   + ", column "
                   + std::to_string(XML_GetCurrentColumnNumber(parser_))
                   + ": " + XML_ErrorString(XML_GetErrorCode(parser_)),
               false};
        return false;
    }
    return finish(err);
}

// Values the server keeps in its session store or echoes back (SessionID,
// MsgID, the device id, CmdIDs in CmdRef) are identifiers, not payload:
// bounding them keeps what one message can make the server store small.
bool decoder::identifiers_fit(parse_error &err) const
{
    struct field {
        const char        *name;
        const std::string &value;
        size_t             max;
    };
    const header &h = out_.hdr;
    const field fields[] = {
        {"SyncHdr/SessionID", h.session_id, k_max_id},
        {"SyncHdr/MsgID", h.msg_id, k_max_id},
        {"SyncHdr/Source/LocURI", h.source, k_max_name},
        {"SyncHdr/Source/LocName", h.source_name, k_max_name},
        {"SyncHdr/Target/LocURI", h.target, k_max_uri},
    };
    for (const auto &f : fields) {
        if (f.value.size() > f.max) {
            err = {std::string(f.name) + " longer than "
                       + std::to_string(f.max) + " bytes",
                   false};
            return false;
        }
    }
    return cmd_ids_fit(out_.body, err);
}

bool decoder::cmd_ids_fit(const std::vector<command> &cmds,
                          parse_error &err) const
{
    for (const auto &c : cmds) {
        if (c.cmd_id.size() > k_max_id || c.msg_ref.size() > k_max_id
            || c.cmd_ref.size() > k_max_id) {
            err = {c.name + " CmdID, MsgRef or CmdRef longer than "
                       + std::to_string(k_max_id) + " bytes",
                   false};
            return false;
        }
        if (!cmd_ids_fit(c.commands, err)) return false;
    }
    return true;
}

// The minimum the engine needs to answer at all, then the version verdict.
bool decoder::finish(parse_error &err)
{
    const header &h = out_.hdr;
    const char *missing = nullptr;
    if (!seen_hdr_) missing = "missing SyncHdr";
    else if (h.session_id.empty()) missing = "missing SyncHdr/SessionID";
    else if (h.msg_id.empty()) missing = "missing SyncHdr/MsgID";
    else if (h.source.empty()) missing = "missing SyncHdr/Source/LocURI";
    else if (!seen_body_) missing = "missing SyncBody";
    if (missing) {
        err = {missing, false};
        return false;
    }
    if (!identifiers_fit(err)) return false;

    bool is11 = h.ver_dtd == "1.1" && h.ver_proto == "DM/1.1";
    bool is12 = h.ver_dtd == "1.2" && h.ver_proto == "DM/1.2";
    if (no_ns_) {
        out_.version = is12   ? syncml_version::v1_2
                       : is11 ? syncml_version::v1_1
                              : syncml_version::unsupported;
    } else if ((out_.version == syncml_version::v1_1 && !is11)
               || (out_.version == syncml_version::v1_2 && !is12)) {
        out_.version = syncml_version::unsupported;
    }
    return true;
}

}  // namespace

bool parse_syncml(std::string_view body, const omadm_limits_t &limits,
                  message &out, parse_error &err)
{
    out = message{};
    err = parse_error{};
    decoder d(body, limits, out);
    return d.run(err);
}

}  // namespace omadm
