// SyncML DM encoders' shared walk (DTD element order, which fields each
// command has) and the XML encoder: metinf elements unprefixed with
// xmlns="syncml:metinf".  The WBXML encoder (wbxml_encoder) walks the same
// way through its own emitter.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "codec/syncml_message.hpp"

namespace omadm {

// What an encoding does with the walk's events.  Names are SyncML element
// names; metinf() is a syncml:metinf leaf (Format, Type, ...).
class syncml_emitter {
public:
    virtual ~syncml_emitter() = default;
    virtual void root(bool v11) = 0;  // opens SyncML
    virtual void open(const char *name) = 0;
    virtual void close(const char *name) = 0;
    virtual void empty(const char *name) = 0;  // <Final/>, <Item/> ...
    virtual void element(const char *name, std::string_view value) = 0;
    virtual void metinf(const char *name, std::string_view value) = 0;
};

// Walks m in DTD order.  unsupported is written as 1.2.  VerDTD/VerProto
// come from the version, not from m.hdr.ver_dtd/ver_proto.  Empty optional
// elements are omitted; an item with every field empty is an empty Item.
void emit_syncml(const message &m, syncml_emitter &e);

// The walk in three parts, for writing a message a command at a time:
// SyncML, its SyncHdr and SyncBody opened; one body command; Final when
// final, SyncBody and SyncML closed.
void emit_head(const message &m, syncml_emitter &e);
void emit_command(const command &c, bool v11, syncml_emitter &e);
void emit_tail(bool final, syncml_emitter &e);

// A message written a command at a time, each command encoded once
// (codec/message_writer.hpp puts this to use).
class piece_writer {
public:
    virtual ~piece_writer() = default;
    // Bytes of the message with c added (nullptr: as it is), its tail
    // included, exactly as encode_message() would write it.
    virtual size_t size_with(const command *c) const = 0;
    virtual void add(const command &c) = 0;
};

// The XML writer of m's head and of the commands m.body holds already;
// the tail it counts has Final when m.final.
std::unique_ptr<piece_writer> xml_piece_writer(const message &m);

// Writes <SyncML xmlns="SYNCML:SYNCML1.x"> ... for m.version.  No XML
// declaration.  Throws only std::bad_alloc.
std::string encode_syncml(const message &m);

}  // namespace omadm
