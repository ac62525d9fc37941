// SyncML DM WBXML encoder: WBXML 1.2, public id by number (SyncML 1.1
// 0x0FD3 / 1.2 0x1201), UTF-8, empty string table; the element order and
// fields of the XML encoder (emit_syncml).
#pragma once

#include <memory>
#include <string>

#include "codec/syncml_encoder.hpp"
#include "codec/syncml_message.hpp"

namespace omadm {

// Text is STR_I; a value that is not valid UTF-8 or holds a NUL (binary
// Data) is OPAQUE, kept byte for byte.  An empty value is an empty tag.
// Throws only std::bad_alloc.
std::string encode_wbxml(const message &m);

// encode_wbxml() a command at a time (codec/message_writer.hpp).
std::unique_ptr<piece_writer> wbxml_piece_writer(const message &m);

}  // namespace omadm
