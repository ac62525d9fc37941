// A command in the contract's `exchange` shape, and the size limits that
// keep every `exchange` answer inside the module's buffer.
#pragma once

#include "store.hpp"

#include <cstddef>
#include <string>

namespace omadm_backend {

// The module reads an `exchange` answer as an nginx subrequest held in
// memory, bounded by the internal location's subrequest_output_buffer_size
// (1m in our configs). An answer past it fails the device's request, and the
// command that did not fit would stay first in the queue forever. Until
// large objects exist, answers stay under half of that buffer, and a single
// command must always fit in one answer.
constexpr size_t max_answer_bytes = 512 * 1024;

// Operator input limits (decoded UTF-8 bytes).
constexpr size_t max_data_bytes = 256 * 1024;
constexpr size_t max_target_bytes = 4 * 1024;
constexpr size_t max_meta_bytes = 256;  // format, type, correlator

// Container limits (docs/backend-api.md; the module refuses more): levels
// of Atomic/Sequence, commands nested under one top-level command.
constexpr size_t max_container_depth = 4;
constexpr size_t max_nested_commands = 100;

// {"id","verb"} plus target, data, format, type, correlator, source,
// options, text when non-empty, choices when any, and the nested commands
// of a container (each given `id` too: for measuring the longest form).
json contract_command(const std::string &id, const NewCommand &c);

// Bytes of {"commands": []}, the answer with no command in it.
size_t empty_answer_bytes();

}  // namespace omadm_backend
