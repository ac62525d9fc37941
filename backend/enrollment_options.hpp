// The command line of the Windows enrollment services (MS-MDE2).  They are
// served only when --public-url is given, and then the device CA's three
// files are required.
#pragma once

#include <string>

namespace omadm_backend {

struct EnrollmentOptions {
    // https://enterpriseenrollment.example.com: where devices reach the
    // services through nginx (the policy and enrollment URLs of discovery)
    std::string public_url;
    // the OMA DM URL provisioned on devices (w7 ADDR); default
    // <public-url>/omadm
    std::string dm_url;
    std::string device_ca_cert, device_ca_key, root_ca_cert;

    bool enabled() const { return !public_url.empty(); }
};

// Whether `arg` is one of ours.
bool is_enrollment_option(const std::string &arg);

// Takes the value of one of ours; false with `error` for a bad one.
bool set_enrollment_option(const std::string &arg, const std::string &value,
                           EnrollmentOptions &opt, std::string &error);

// After all arguments: all or nothing, the default dm_url filled in.
bool finish_enrollment_options(EnrollmentOptions &opt, std::string &error);

extern const char *const enrollment_usage;

}  // namespace omadm_backend
