// Enrollment users (OnPremise authentication, MS-MDE2): the people who may
// enroll a Windows PC, each with a password typed on the PC.  The operator
// manages them under /api/v1/enrollment-users; the Policy and Enrollment
// services check the wsse:UsernameToken against them.
#pragma once

#include "login_throttle.hpp"
#include "path_router.hpp"
#include "store.hpp"

#include <string>

namespace omadm_backend {

// User names are e-mail addresses or domain\user, typed by people: compared
// without regard to ASCII case.
std::string fold_user_name(const std::string &name);

struct SignIn {
    bool ok = false;
    long wait_seconds = 0;  // > 0: throttled, nothing was checked
};

class EnrollmentUsers {
public:
    explicit EnrollmentUsers(Store &store);

    // `address` is the client's, for the failure counts.
    SignIn sign_in(const std::string &username, const std::string &password,
                   const std::string &address);

private:
    Store &store_;
    LoginThrottle throttle_;
};

// POST/GET /api/v1/enrollment-users, DELETE /api/v1/enrollment-users/{name}.
void add_enrollment_user_routes(PathRouter &router, Store &store);

}  // namespace omadm_backend
