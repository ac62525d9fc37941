// The wap-provisioningdoc an enrollment answers with (MS-MDE2 3.6): the
// enterprise root for the device's root store, the device CA and the
// client certificate, the w7 APPLICATION with the OMA DM account, and the
// DMClient poll schedule.
#pragma once

#include <string>

namespace omadm_backend {

struct OmaDmAccount {
    std::string provider_id;  // w7 PROVIDER-ID, the DMClient/Provider node
    std::string name;         // w7 NAME, shown to the user
    std::string addr;         // the OMA DM URL (w7 ADDR)
    // APPSRV: how the device logs in (MD5 digest, the first nonce).
    std::string device_username, device_secret, device_nonce_b64;
    // CLIENT: how the server proves itself to the device.
    std::string server_username, server_secret, server_nonce_b64;
};

struct ProvisionedCertificates {
    std::string root_der, ca_der, client_der;
    // EnrollmentType Device: the client certificate goes to My/System
    // (the machine's store), otherwise to My/User.
    bool device_store = false;
    // the client certificate's CN, for SSLCLIENTCERTSEARCHCRITERIA
    std::string device_id;
};

// How long before expiry the device renews its certificate itself (ROBO),
// days; also the policy's renewalPeriodSeconds.
constexpr int renew_period_days = 42;

std::string provisioning_doc(const ProvisionedCertificates &certs,
                             const OmaDmAccount &account,
                             const std::string &device_name);

// A renewal's answer holds only the new client certificate (MS-MDE2
// 3.5.4.1.1.2).
std::string renewal_doc(const ProvisionedCertificates &certs);

}  // namespace omadm_backend
