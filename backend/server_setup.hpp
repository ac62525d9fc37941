// The HTTP servers: limits, error shapes, logging and the APIs each one
// serves.
#pragma once

#include "contract_command.hpp"
#include "guarded_server.hpp"
#include "options.hpp"
#include "store.hpp"

#include <httplib.h>

namespace omadm_backend {

// Largest request body accepted, for both APIs, 413 past it: a 16 MiB
// object (a large Add or Replace, or a device's reassembled Results) even
// if every byte is JSON-escaped to 6 ("\u0001"), with room for the rest of
// its request; small enough that a runaway client cannot exhaust memory.
constexpr size_t max_body_bytes = 6 * max_object_bytes + 8 * 1024 * 1024;

// What one listener serves: both APIs, or one of them when the contract
// has a listener of its own (--contract-listen).
enum class Apis { both, operator_api, contract };

// The connection limits of the command line for a listener serving
// `apis`.  The contract's own listener is for nginx alone, which is one
// client address with as many connections as devices wait on the backend:
// it is not capped per address (where it listens decides who connects).
ConnectionLimits connection_limits(const Options &opt, Apis apis);

void configure_server(httplib::Server &server, Store &store,
                      const Options &opt, Apis apis);

}  // namespace omadm_backend
