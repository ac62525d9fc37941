// The SOAP 1.2 answers of the enrollment services: an envelope around an
// operation's response, or a fault (MS-MDE2: s:Fault with a code, a
// subcode a Windows client maps to an error, and a reason).
#pragma once

#include <string>

namespace omadm_backend {

// Subcodes a Windows enrollment client knows (MS-MDE2 3.1.4.1.3.2 ff).
namespace fault {
constexpr const char *message_format = "s:MessageFormat";
constexpr const char *authentication = "s:Authentication";
constexpr const char *authorization = "s:Authorization";
constexpr const char *certificate_request = "s:CertificateRequest";
constexpr const char *enrollment_server = "s:EnrollmentServer";
constexpr const char *internal = "s:InternalServiceFault";
constexpr const char *invalid_security = "a:InvalidSecurity";
}  // namespace fault

struct SoapFault {
    // s:Sender: the request is at fault (HTTP 400); s:Receiver: we are
    // (HTTP 500).  A Windows client reads the subcode either way.
    bool sender = true;
    std::string subcode;
    std::string reason;  // shown to the user: what to do about it
    int http_status() const { return sender ? 400 : 500; }
};

// `header_extra` is XML put in the s:Header after a:Action and a:RelatesTo.
std::string soap_response(const std::string &action,
                          const std::string &relates_to,
                          const std::string &body,
                          const std::string &header_extra = "");

std::string soap_fault(const std::string &action,
                       const std::string &relates_to, const SoapFault &f);

// A wsse:Security header with a u:Timestamp from now for five minutes, as
// Microsoft's RequestSecurityTokenResponseCollection carries.
std::string security_timestamp();

}  // namespace omadm_backend
