// A message's encoding (OMADM_ENC_*) chooses its decoder, encoder and
// Content-Type; the engine answers in the encoding of the request.
#pragma once

#include <string>
#include <string_view>

#include "codec/parse_error.hpp"
#include "codec/syncml_message.hpp"
#include "omadm.h"

namespace omadm {

enum class encoding { xml = OMADM_ENC_XML, wbxml = OMADM_ENC_WBXML };

// False for a value that is no OMADM_ENC_*.
bool to_encoding(int value, encoding &out);

bool decode_message(std::string_view body, encoding enc,
                    const omadm_limits_t &limits, message &out,
                    parse_error &err);

std::string encode_message(const message &m, encoding enc);

// The encoding a message this core wrote is in (XML starts with '<',
// WBXML with its version byte).
encoding encoding_of(std::string_view ours);

// static, NUL-terminated
const char *content_type(encoding enc);

}  // namespace omadm
