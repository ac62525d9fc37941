// SyncML DM WBXML decoder (WBXML 1.x, code pages 0 SyncML and 1 MetInf):
// the same message model, semantics, limits and error style as the XML
// decoder (parse_syncml), through the shared syncml_builder.
#pragma once

#include <string_view>

#include "codec/parse_error.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"

namespace omadm {

// Decodes one message; false with err filled when it is not usable.
//
// Header: any WBXML 1.x version byte (1.0 has no charset field); the
// public id as a number (0x0FD3 = SyncML 1.1, 0x1201 = SyncML 1.2) or as a
// string-table reference to the FPI "-//SYNCML//DTD SyncML x.y//EN" decides
// the version like the XML namespace does (another SyncML x.y parses as
// unsupported; an unknown id leaves it to VerDTD/VerProto); the charset
// must be UTF-8 (106).
// Body: STR_I, STR_T and ENTITY are text (valid UTF-8 required), OPAQUE is
// kept as bytes (binary Data, an embedded document); LITERAL tags name the
// element through the string table.  Tags of code page 2 and above (DM
// DDF, DevInf) are skipped with their content, but a Data holding child
// elements is refused (send it as OPAQUE).  Attributes, PI and extension
// tokens are refused.  Truncation anywhere, mb_u_int32 overflow, string
// table references out of range, unbalanced END and data after the root
// are errors; decoded text is bounded by the input size (string-table
// references cannot amplify it) besides the omadm_limits_t limits.
// Never throws except std::bad_alloc.
bool parse_wbxml(std::string_view body, const omadm_limits_t &limits,
                 message &out, parse_error &err);

}  // namespace omadm
