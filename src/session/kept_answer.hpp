// The answer a session keeps for a resend, deflated (zlib) against a
// preset dictionary of the server's own SyncML: our answers are mostly
// the same tags, so a 1 KiB answer keeps in a few hundred bytes of the
// shared-memory zone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omadm {

// Throws only std::bad_alloc (a deflate that fails keeps the bytes as
// they are, which unpack_answer() tells apart).
std::string pack_answer(std::string_view answer);

// The answer pack_answer() was given; nothing when packed is not one it
// made (damaged, or larger than max_size once inflated).
std::optional<std::string> unpack_answer(std::string_view packed,
                                         size_t max_size);

}  // namespace omadm
