// The HTTP server: limits, error shapes, logging and both APIs.
#pragma once

#include "options.hpp"
#include "store.hpp"

#include <httplib.h>

namespace omadm_backend {

// Largest request body accepted, for both APIs: far above what one device
// message can produce (the module's omadm_max_message_size defaults to 1m),
// small enough that a runaway client cannot exhaust memory. 413 past it.
constexpr size_t max_body_bytes = 64 * 1024 * 1024;

void configure_server(httplib::Server &server, Store &store,
                      const Options &opt);

}  // namespace omadm_backend
