// Cutting a piece of a large object for the contract's `object` answer: a
// JSON string holds whole characters, so a piece ends on a UTF-8 character
// boundary, and the answer must stay within max_answer_bytes once
// JSON-escaped the way json_text escapes.
#pragma once

#include <cstddef>
#include <string>

namespace omadm_backend {

// How many leading bytes of `bytes` (read from a character boundary) make
// the piece: whole characters only, whose escaped size is within `budget`.
// `at_end`: `bytes` runs to the end of the value, so a character cut off
// there is malformed rather than continued past it. 0 when not even the
// first character fits.
size_t piece_bytes(const std::string &bytes, bool at_end, size_t budget);

// A UTF-8 continuation byte: no character starts there.
inline bool is_continuation_byte(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

}  // namespace omadm_backend
