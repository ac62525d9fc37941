#include "enrollment_options.hpp"

namespace omadm_backend {

namespace {

bool https_url(const std::string &s)
{
    const std::string scheme = "https://";
    return s.size() > scheme.size() && s.compare(0, scheme.size(), scheme) == 0
           && s.find_first_of(" \t\r\n\"<>") == std::string::npos;
}

}  // namespace

const char *const enrollment_usage =
    "  [--public-url https://HOST[:PORT] --device-ca-cert FILE"
    " --device-ca-key FILE\n"
    "   --root-ca-cert FILE [--dm-url URL]]   Windows enrollment (MS-MDE2)\n";

bool is_enrollment_option(const std::string &arg)
{
    return arg == "--public-url" || arg == "--dm-url"
           || arg == "--device-ca-cert" || arg == "--device-ca-key"
           || arg == "--root-ca-cert";
}

bool set_enrollment_option(const std::string &arg, const std::string &value,
                           EnrollmentOptions &opt, std::string &error)
{
    if (arg == "--public-url" || arg == "--dm-url") {
        std::string url = value;
        while (arg == "--public-url" && !url.empty() && url.back() == '/') {
            url.pop_back();
        }
        if (!https_url(url)) {
            error = arg + " wants an https:// URL, got \"" + value + "\"";
            return false;
        }
        (arg == "--public-url" ? opt.public_url : opt.dm_url) = url;
    } else if (arg == "--device-ca-cert") {
        opt.device_ca_cert = value;
    } else if (arg == "--device-ca-key") {
        opt.device_ca_key = value;
    } else {
        opt.root_ca_cert = value;
    }
    return true;
}

bool finish_enrollment_options(EnrollmentOptions &opt, std::string &error)
{
    bool files = !opt.device_ca_cert.empty() || !opt.device_ca_key.empty()
                 || !opt.root_ca_cert.empty() || !opt.dm_url.empty();
    if (!opt.enabled()) {
        if (files) {
            error = "the enrollment options need --public-url";
            return false;
        }
        return true;
    }
    if (opt.device_ca_cert.empty() || opt.device_ca_key.empty()
        || opt.root_ca_cert.empty()) {
        error = "--public-url needs --device-ca-cert, --device-ca-key and"
                " --root-ca-cert";
        return false;
    }
    if (opt.dm_url.empty()) {
        opt.dm_url = opt.public_url + "/omadm";
    }
    return true;
}

}  // namespace omadm_backend
