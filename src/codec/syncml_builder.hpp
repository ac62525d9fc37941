// The element-to-model mapping shared by the XML (xml_decoder) and WBXML
// (wbxml_decoder) decoders: both feed it the same element events, so a
// message means the same thing in either encoding, with the same limits,
// identifier bounds and error reasons.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "codec/parse_error.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"

namespace omadm {

// Longest element name accepted (SyncML's are a few bytes).  An unknown
// command keeps its name to be answered by it, and WBXML can repeat one
// name from its string table: the bound keeps both small.
constexpr size_t max_element_name = 64;

class syncml_builder {
public:
    // limits: a zero field means its default.  out is reset by the caller.
    syncml_builder(const omadm_limits_t &limits, message &out);

    // Element events.  uri is the element's namespace ("" for none); the
    // root's decides the version (SYNCML:SYNCML1.1 / 1.2, another
    // SYNCML:SYNCMLx.y = unsupported, none = VerDTD/VerProto decide).
    // Each returns false once the message has failed (see error()).
    bool start(std::string_view uri, std::string_view local);
    bool text(std::string_view s);
    // raw_inner: the content of a Data element that had child elements,
    // exactly as sent; only used when closing_data_with_children().
    bool end(std::string_view raw_inner = {});

    // After the root's end: the required fields, identifier bounds and the
    // version verdict.  False with err filled when the message is unusable.
    bool finish(parse_error &err);

    // The element start() just opened is a Data (XML notes where its
    // content begins).
    bool opened_data() const;
    // The element end() is about to close is a Data with child elements.
    bool closing_data_with_children() const;

    bool fail(std::string reason, bool too_big = false);
    bool failed() const { return failed_; }
    const parse_error &error() const { return err_; }
    size_t max_text() const { return max_text_; }
    size_t depth() const { return stack_.size(); }

    // identifiers the server stores or echoes
    static constexpr size_t k_max_id = 64;     // SessionID, MsgID, CmdID..
    static constexpr size_t k_max_name = 256;  // device id, user name
    static constexpr size_t k_max_uri = 2048;  // the URL the device used

private:
    enum class kind {
        skip,  // ignored with all its content (unknown / foreign)
        root,
        hdr,
        body,
        target,  // SyncHdr or Item Target/Source: LocURI, LocName
        cred,
        meta,
        command,
        chal,
        item,
        leaf,  // text into *dest
        data,  // Data: text, or raw inner markup with child elements
    };

    struct frame {
        explicit frame(kind kd) : k(kd) {}

        kind k;
        std::string *dest = nullptr;       // leaf, data; target: LocURI
        std::string *dest_name = nullptr;  // target: LocName (may be null)
        meta *m = nullptr;
        command *cmd = nullptr;
        item *it = nullptr;
        bool trim = true;           // leaf, data
        bool has_children = false;  // data
        size_t text_len = 0;        // direct text, for the text limit
        std::string text;
    };

    static constexpr size_t k_usual_depth = 10;

    frame child_of(const frame &parent, std::string_view uri,
                   std::string_view local);
    bool identifiers_fit(parse_error &err) const;
    bool cmd_ids_fit(const std::vector<command> &cmds, parse_error &err) const;

    message &out_;
    size_t max_depth_, max_elements_, max_text_;
    std::vector<frame> stack_;
    size_t elements_ = 0;
    std::string doc_ns_;  // namespace of the SyncML root
    bool no_ns_ = false;
    bool seen_hdr_ = false, seen_body_ = false;
    bool failed_ = false;
    parse_error err_;
};

// Runs a decoder (constructed over body, limits and out, with a
// run(parse_error &)) from a clean message and error: what parse_syncml and
// parse_wbxml share.
template <class Decoder>
bool run_decoder(std::string_view body, const omadm_limits_t &limits,
                 message &out, parse_error &err)
{
    out = message{};
    err = parse_error{};
    Decoder d(body, limits, out);
    return d.run(err);
}

}  // namespace omadm
