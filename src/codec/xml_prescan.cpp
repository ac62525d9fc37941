#include "codec/xml_prescan.hpp"

namespace omadm {

namespace {

// The text of the first <tag>...</tag> in area from `from`, or nothing
// when it holds markup or a reference.
std::optional<std::string_view> element_text(std::string_view area,
                                             std::string_view open,
                                             std::string_view close,
                                             size_t from = 0)
{
    size_t start = area.find(open, from);
    if (start == std::string_view::npos) return {};
    start += open.size();
    size_t end = area.find('<', start);
    if (end == std::string_view::npos || area.substr(end, close.size()) != close)
        return {};
    std::string_view text = area.substr(start, end - start);
    if (text.empty() || text.find('&') != std::string_view::npos) return {};
    return text;
}

}  // namespace

std::optional<header_ids> prescan_xml_header(std::string_view body)
{
    size_t start = body.find("<SyncHdr>");
    if (start == std::string_view::npos) return {};
    size_t end = body.find("</SyncHdr>", start);
    if (end == std::string_view::npos) return {};
    std::string_view hdr = body.substr(start, end - start);

    auto session = element_text(hdr, "<SessionID>", "</SessionID>");
    auto msg = element_text(hdr, "<MsgID>", "</MsgID>");
    size_t source = hdr.find("<Source>");
    if (!session || !msg || source == std::string_view::npos) return {};
    auto device = element_text(hdr, "<LocURI>", "</LocURI>", source);
    if (!device) return {};
    return header_ids{*session, *msg, *device};
}

}  // namespace omadm
