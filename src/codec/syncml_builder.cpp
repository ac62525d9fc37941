// Every element opens a frame whose kind says what the element means where
// it stands; text goes to the string the frame points at.  Pointers into
// the message stay valid because elements are only ever appended to the
// innermost open container, never to one an open frame points into.
#include "codec/syncml_builder.hpp"

#include "common/text.hpp"

namespace omadm {

syncml_builder::syncml_builder(const omadm_limits_t &limits, message &out)
    : out_(out),
      max_depth_(limits.max_depth ? limits.max_depth : OMADM_DEFAULT_MAX_DEPTH),
      max_elements_(limits.max_elements ? limits.max_elements
                                        : OMADM_DEFAULT_MAX_ELEMENTS),
      max_text_(limits.max_text ? limits.max_text : OMADM_DEFAULT_MAX_TEXT)
{
    // a message nests a few levels (SyncML, SyncBody, Atomic, a command,
    // Item, Meta, Format): one allocation instead of four as it grows
    stack_.reserve(k_usual_depth);
}

bool syncml_builder::fail(std::string reason, bool too_big)
{
    if (!failed_) {
        failed_ = true;
        err_ = {std::move(reason), too_big};
    }
    return false;
}

bool syncml_builder::opened_data() const
{
    return !stack_.empty() && stack_.back().k == kind::data;
}

bool syncml_builder::closing_data_with_children() const
{
    return !stack_.empty() && stack_.back().k == kind::data
           && stack_.back().has_children;
}

bool syncml_builder::start(std::string_view uri, std::string_view local)
{
    if (failed_) return false;
    if (++elements_ > max_elements_) {
        return fail("more than " + std::to_string(max_elements_)
                        + " XML elements",
                    true);
    }
    if (stack_.size() + 1 > max_depth_) {
        return fail("XML nesting deeper than " + std::to_string(max_depth_),
                    true);
    }
    if (local.size() > max_element_name) {
        return fail("element name longer than "
                    + std::to_string(max_element_name) + " bytes");
    }

    if (stack_.empty()) {
        if (local != "SyncML") return fail("root element is not SyncML");
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
            return fail("root element is not in a SyncML namespace");
        }
        doc_ns_ = std::string(uri);
        stack_.push_back(frame{kind::root});
        return true;
    }

    frame f = child_of(stack_.back(), uri, local);
    stack_.push_back(std::move(f));
    return true;
}

// Decides what an element means from its parent frame.
syncml_builder::frame syncml_builder::child_of(const frame &p,
                                               std::string_view uri,
                                               std::string_view local)
{
    if (p.k == kind::data) {
        // Embedded markup inside Data: kept as raw text at the end of Data.
        stack_.back().has_children = true;
        return frame{kind::skip};
    }
    bool syncml = uri == doc_ns_;
    bool metinf = iequals(uri, "syncml:metinf");

    if (p.k == kind::meta && (syncml || metinf)) {
        // Some clients leave metinf elements in the default namespace.
        meta *m = p.m;
        // the MetInf leaves a meta keeps, by element name
        static const std::pair<std::string_view, std::string meta::*> leaves[]
            = {
                {"Type", &meta::type},
                {"Format", &meta::format},
                {"Mark", &meta::mark},
                {"Size", &meta::size},
                {"NextNonce", &meta::next_nonce},
                {"MaxMsgSize", &meta::max_msg_size},
                {"MaxObjSize", &meta::max_obj_size},
            };
        std::string *d = nullptr;
        for (const auto &[name, field] : leaves)
            if (local == name) d = &(m->*field);
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
        if ((c->name == "Atomic" || c->name == "Sequence") && local != "Cred") {
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
    default: break;
    }
    return frame{kind::skip};
}

bool syncml_builder::text(std::string_view s)
{
    if (failed_) return false;
    if (stack_.empty()) return true;
    frame &f = stack_.back();
    f.text_len += s.size();
    if (f.text_len > max_text_) {
        return fail("element text longer than " + std::to_string(max_text_)
                        + " bytes",
                    true);
    }
    if (f.k == kind::leaf || f.k == kind::data) f.text.append(s);
    return true;
}

bool syncml_builder::end(std::string_view raw_inner)
{
    if (failed_) return false;
    if (stack_.empty()) return fail("end of an element that was not open");
    frame &f = stack_.back();
    if (f.k == kind::leaf) {
        *f.dest = f.trim ? std::string(trim(f.text)) : std::move(f.text);
    } else if (f.k == kind::data) {
        if (f.has_children) {
            // The element had markup inside: keep its inner markup as sent
            // (trimmed like text where text is, or a re-encoded message
            // would decode differently: the fuzzer found it).
            if (raw_inner.size() > max_text_) {
                return fail("element text longer than "
                                + std::to_string(max_text_) + " bytes",
                            true);
            }
            *f.dest = std::string(f.trim ? trim(raw_inner) : raw_inner);
        } else {
            *f.dest = f.trim ? std::string(trim(f.text)) : std::move(f.text);
        }
    }
    stack_.pop_back();
    return true;
}

// Values the server keeps in its session store or echoes back (SessionID,
// MsgID, the device id, CmdIDs in CmdRef) are identifiers, not payload:
// bounding them keeps what one message can make the server store small.
bool syncml_builder::identifiers_fit(parse_error &err) const
{
    struct field {
        const char *name;
        const std::string &value;
        size_t max;
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
            err = {std::string(f.name) + " longer than " + std::to_string(f.max)
                       + " bytes",
                   false};
            return false;
        }
    }
    return cmd_ids_fit(out_.body, err);
}

bool syncml_builder::cmd_ids_fit(const std::vector<command> &cmds,
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
bool syncml_builder::finish(parse_error &err)
{
    if (failed_) {
        err = err_;
        return false;
    }
    const header &h = out_.hdr;
    const char *missing = nullptr;
    if (!seen_hdr_)
        missing = "missing SyncHdr";
    else if (h.session_id.empty())
        missing = "missing SyncHdr/SessionID";
    else if (h.msg_id.empty())
        missing = "missing SyncHdr/MsgID";
    else if (h.source.empty())
        missing = "missing SyncHdr/Source/LocURI";
    else if (!seen_body_)
        missing = "missing SyncBody";
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

}  // namespace omadm
