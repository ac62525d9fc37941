#include "codec/wbxml_tokens.hpp"

namespace omadm::wbxml {

namespace {

// tokens 0x05.. in order; "" = reserved
// clang-format off: tables are laid out by hand
constexpr std::string_view syncml_tags[] = {
    "Add",
    "Alert",
    "Archive",
    "Atomic",
    "Chal",
    "Cmd",
    "CmdID",
    "CmdRef",
    "Copy",
    "Cred",
    "Data",
    "Delete",
    "Exec",
    "Final",
    "Get",
    "Item",
    "Lang",
    "LocName",
    "LocURI",
    "Map",
    "MapItem",
    "Meta",
    "MsgID",
    "MsgRef",
    "NoResp",
    "NoResults",
    "Put",
    "Replace",
    "RespURI",
    "Results",
    "Search",
    "Sequence",
    "SessionID",
    "SftDel",
    "Source",
    "SourceRef",
    "Status",
    "Sync",
    "SyncBody",
    "SyncHdr",
    "SyncML",
    "Target",
    "TargetRef",
    "",
    "VerDTD",
    "VerProto",
    "NumberOfChanges",
    "MoreData",
    "Field",
    "Filter",
    "Record",
    "FilterType",
    "SourceParent",
    "TargetParent",
    "Move",
    "Correlator",
};

constexpr std::string_view metinf_tags[] = {
    "Anchor",    "EMI",        "Format", "FreeID",  "FreeMem",    "Last",
    "Mark",      "MaxMsgSize", "Mem",    "MetInf",  "Next",       "NextNonce",
    "SharedMem", "Size",       "Type",   "Version", "MaxObjSize", "FieldLevel",
};
// clang-format on

constexpr uint8_t first_tag = 0x05;

template <size_t N>
std::string_view lookup(const std::string_view (&t)[N], uint8_t tag)
{
    if (tag < first_tag || size_t(tag - first_tag) >= N) return {};
    return t[tag - first_tag];
}

template <size_t N>
uint8_t find(const std::string_view (&t)[N], std::string_view name)
{
    for (size_t i = 0; i < N; i++) {
        if (!t[i].empty() && t[i] == name) return uint8_t(first_tag + i);
    }
    return 0;
}

}  // namespace

bool valid_utf8(std::string_view s)
{
    size_t i = 0, n = s.size();
    while (i < n) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else
            return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

std::string_view tag_name(uint8_t page, uint8_t tag)
{
    if (page == PAGE_SYNCML) return lookup(syncml_tags, tag);
    if (page == PAGE_METINF) return lookup(metinf_tags, tag);
    return {};
}

uint8_t tag_of(uint8_t page, std::string_view name)
{
    if (page == PAGE_SYNCML) return find(syncml_tags, name);
    if (page == PAGE_METINF) return find(metinf_tags, name);
    return 0;
}

}  // namespace omadm::wbxml
