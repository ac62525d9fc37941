// SyncML DM 1.1/1.2 XML decoder (expat, namespace-aware, no DOCTYPE, with
// limits).  Produces the value model of syncml_message.hpp.
#pragma once

#include <string>
#include <string_view>

#include "codec/parse_error.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"

namespace omadm {

// Decodes one message.  Returns false with err filled when the body is not
// well-formed XML, has a DOCTYPE, exceeds a limit, or lacks the minimum
// (SyncML root, SyncHdr with SessionID, MsgID and Source/LocURI, SyncBody).
//
// Version: set from the root namespace (SYNCML:SYNCML1.1 / 1.2).  A SyncML
// root in another SYNCML:SYNCMLx.y namespace, or VerDTD/VerProto that
// disagree with the namespace, still parses (true) with
// out.version == syncml_version::unsupported so the caller can answer
// 505/513; out.hdr.ver_dtd / ver_proto hold what was sent.  A root
// without any namespace takes its version from VerDTD/VerProto.
//
// Limits: a zero field means the default (depth 32, 20000 elements, 1 MiB
// of text per element or attribute).  Input is read as UTF-8 whatever the
// XML declaration says.  Elements of unknown namespaces are skipped with
// their content; metinf elements are accepted in syncml:metinf or, inside a
// Meta, in the SyncML namespace.  Unknown elements directly under SyncBody,
// Atomic or Sequence become commands (name = element name) so they can be
// answered.  Leaf values are trimmed of XML whitespace except Item/Data; a
// Data holding child elements keeps its inner XML exactly as sent.
// Never throws except std::bad_alloc.
bool parse_syncml(std::string_view body, const omadm_limits_t &limits,
                  message &out, parse_error &err);

}  // namespace omadm
