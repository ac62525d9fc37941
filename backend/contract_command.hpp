// A command in the contract's `exchange` shape, and the size limits that
// keep every `exchange` and `object` answer inside the module's buffer.
#pragma once

#include "store.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace omadm_backend {

// The module reads a contract answer as an nginx subrequest held in memory,
// bounded by the internal location's subrequest_output_buffer_size (1m in
// our configs). An answer past it fails the device's request, and a command
// that did not fit would stay first in the queue forever. Answers stay under
// half of that buffer, and a single command must always fit in one answer.
constexpr size_t max_answer_bytes = 512 * 1024;

// A top-level Add or Replace (the one kind of command the module can send
// as a large object) with data longer than this is not handed out inline:
// it carries only "data_size", and the module fetches the value piece by
// piece with the contract's `object` call. Even escaped at 6 bytes a byte,
// inline data of that size leaves room in an answer for the rest.
constexpr size_t inline_data_max = 64 * 1024;

// Operator input limits (decoded UTF-8 bytes). Only a top-level Add or
// Replace may be a large object (the module chunks it over several
// messages); data anywhere else must fit in one device message.
constexpr size_t max_object_bytes = 16 * 1024 * 1024;
constexpr size_t max_data_bytes = 256 * 1024;
constexpr size_t max_target_bytes = 4 * 1024;
constexpr size_t max_meta_bytes = 256;  // format, type, correlator

// Container limits (docs/backend-api.md; the module refuses more): levels
// of Atomic/Sequence, commands nested under one top-level command.
constexpr size_t max_container_depth = 4;
constexpr size_t max_nested_commands = 100;

// The one kind of command the module can send as a large object, in chunks
// over several messages: a top-level Add or Replace. It refuses "data_size"
// on any other.
bool may_be_large_object(const std::string &verb, bool top_level);

// A large object whose data is handed out by size (over inline_data_max).
bool goes_by_size(const std::string &verb, bool top_level, size_t data_bytes);

// {"id","verb"} plus target, data, format, type, correlator, source,
// options, text when non-empty, choices when any, and the nested commands
// of a container (each given `id` too: for measuring the longest form).
// A large object's data becomes "data_size"; `stored_data_size`, when
// given, is a large object's size left in the store (c.data is not read).
json contract_command(const std::string &id, const NewCommand &c,
                      bool top_level = true,
                      std::optional<size_t> stored_data_size = std::nullopt);

// Bytes of {"commands": []}, the answer with no command in it.
size_t empty_answer_bytes();

}  // namespace omadm_backend
