// WBXML constants and the SyncML DM tag tables (omadm-protocol.md §7):
// code page 0 = SyncML, 1 = MetInf.  Shared by wbxml_decoder and
// wbxml_encoder.
#pragma once

#include <cstdint>
#include <string_view>

namespace omadm::wbxml {

// global tokens (the same on every code page)
constexpr uint8_t SWITCH_PAGE = 0x00;
constexpr uint8_t END = 0x01;
constexpr uint8_t ENTITY = 0x02;
constexpr uint8_t STR_I = 0x03;
constexpr uint8_t LITERAL = 0x04;
constexpr uint8_t EXT_I_0 = 0x40;
constexpr uint8_t PI = 0x43;
constexpr uint8_t LITERAL_C = 0x44;
constexpr uint8_t EXT_T_0 = 0x80;
constexpr uint8_t STR_T = 0x83;
constexpr uint8_t LITERAL_A = 0x84;
constexpr uint8_t EXT_0 = 0xC0;
constexpr uint8_t OPAQUE = 0xC3;
constexpr uint8_t LITERAL_AC = 0xC4;

// tag token bits
constexpr uint8_t TAG_CONTENT = 0x40;
constexpr uint8_t TAG_ATTRS = 0x80;
constexpr uint8_t TAG_MASK = 0x3F;

constexpr uint8_t VERSION_1_2 = 0x02;
constexpr uint32_t CHARSET_UTF8 = 106;  // IANA MIBenum

// public identifiers
constexpr uint32_t PUBLIC_ID_UNKNOWN = 0x01;
constexpr uint32_t PUBLIC_ID_SYNCML_11 = 0x0FD3;
constexpr uint32_t PUBLIC_ID_SYNCML_12 = 0x1201;
constexpr uint32_t PUBLIC_ID_METINF_12 = 0x1202;

constexpr uint8_t PAGE_SYNCML = 0;
constexpr uint8_t PAGE_METINF = 1;
constexpr uint8_t PAGE_DMDDF = 2;

// Element name of a tag (token & TAG_MASK) on a page; empty when unknown.
std::string_view tag_name(uint8_t page, uint8_t tag);

// Tag of a SyncML (page 0) or MetInf (page 1) element name; 0 when the
// name has no token on that page.
uint8_t tag_of(uint8_t page, std::string_view name);

// True for well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF):
// what may travel as a WBXML string rather than OPAQUE.
bool valid_utf8(std::string_view s);

}  // namespace omadm::wbxml
