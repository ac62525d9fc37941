// SyncML DM XML encoder: DTD element order, escaped text, metinf elements
// unprefixed with xmlns="syncml:metinf".
#pragma once

#include <string>

#include "syncml_message.hpp"

namespace omadm {

// Writes <SyncML xmlns="SYNCML:SYNCML1.x"> for m.version (unsupported is
// written as 1.2).  VerDTD/VerProto come from the version, not from
// m.hdr.ver_dtd/ver_proto.  Empty optional elements are omitted; an item
// with every field empty is written as <Item/>.  No XML declaration.
// Throws only std::bad_alloc.
std::string encode_syncml(const message &m);

}  // namespace omadm
