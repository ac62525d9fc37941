// The SyncHdr identifiers of an XML message found by a text scan, without
// a parse: enough to look a session up before decoding the message (a
// repeat is recognised by its bytes, session/repeat.hpp).  The scan may
// be wrong about a message an XML parser reads otherwise (comments,
// CDATA, prefixes, entities); what it finds is only a key to look up, so
// that costs a miss, never a wrong answer.
#pragma once

#include <optional>
#include <string_view>

namespace omadm {

struct header_ids {
    std::string_view session_id;
    std::string_view msg_id;
    std::string_view source;  // Source/LocURI: the device
};

// Nothing when a field is missing, empty, or not plain text.
std::optional<header_ids> prescan_xml_header(std::string_view body);

}  // namespace omadm
