// The operator console's static files (console/ in the repository) under
// /console/, with a strict Content-Security-Policy (docs/backend-api.md,
// "Console").
#pragma once

#include <httplib.h>

#include <string>

namespace omadm_backend {

// The Content-Security-Policy every console file is sent with: scripts,
// styles and API calls from this origin only, no inline script or style,
// no plugins, no frames, no form posts.
extern const char *const console_csp;

void mount_console(httplib::Server &server, const std::string &dir);

}  // namespace omadm_backend
