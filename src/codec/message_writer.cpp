#include "codec/message_writer.hpp"

#include "codec/wbxml_encoder.hpp"

namespace omadm {

message_writer::message_writer(const message &m, encoding enc, size_t limit)
    : w_(enc == encoding::wbxml ? wbxml_piece_writer(m) : xml_piece_writer(m)),
      limit_(limit)
{
}

}  // namespace omadm
