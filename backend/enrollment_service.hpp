// The Windows enrollment web services (MS-MDE2): Discovery, Policy
// (MS-XCEP) and Enrollment (MS-WSTEP), SOAP 1.2 over HTTPS with nginx in
// front.  This header is what the three services share: their context, one
// SOAP call as they see it, and their answer.
#pragma once

#include "device_ca.hpp"
#include "enrollment_options.hpp"
#include "enrollment_users.hpp"
#include "options.hpp"
#include "soap_envelope.hpp"
#include "soap_reader.hpp"
#include "store.hpp"

#include <httplib.h>

#include <optional>
#include <string>

namespace omadm_backend {

// Namespaces and URIs of the requests and answers (MS-MDE2, MS-XCEP,
// MS-WSTEP, WS-Security, WS-Trust).
namespace mde {
constexpr std::string_view discovery_ns =
    "http://schemas.microsoft.com/windows/management/2012/01/enrollment";
constexpr std::string_view policy_ns =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy";
constexpr std::string_view enrollment_ns =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment";
constexpr std::string_view wsse_ns =
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-wssecurity-secext-1.0.xsd";
constexpr std::string_view trust_ns =
    "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
constexpr std::string_view authorization_ns =
    "http://schemas.xmlsoap.org/ws/2006/12/authorization";
}  // namespace mde

// What the three services share, for the life of the server.
struct EnrollmentContext {
    EnrollmentContext(Store &s, const EnrollmentOptions &o)
        : store(s), opt(o),
          ca(o.device_ca_cert, o.device_ca_key, o.root_ca_cert), users(s)
    {}

    Store &store;
    const EnrollmentOptions &opt;
    DeviceCa ca;
    EnrollmentUsers users;
};

// One SOAP request and who sent it.
struct SoapCall {
    SoapRequest request;
    std::string client_address;
    // The TLS client certificate nginx verified (ssl_verify_client
    // optional), only when the request came through nginx (it carries the
    // contract key); nullptr otherwise.
    X509Ptr client_certificate;
};

// An operation's response element, or the fault that replaces it.
struct SoapAnswer {
    std::string body;
    std::string header_extra;  // after a:Action and a:RelatesTo
    std::optional<SoapFault> fault;
};

inline SoapAnswer fault_answer(bool sender, const char *subcode,
                               std::string reason)
{
    SoapAnswer a;
    a.fault = SoapFault{sender, subcode, std::move(reason)};
    return a;
}

SoapAnswer discover(EnrollmentContext &ctx, const SoapCall &call);
SoapAnswer get_policies(EnrollmentContext &ctx, const SoapCall &call);
SoapAnswer request_security_token(EnrollmentContext &ctx,
                                  const SoapCall &call);

// The enrollment user of an OnPremise request (wsse:UsernameToken in the
// header), or the fault that refuses it.
std::optional<SoapFault> sign_in(EnrollmentContext &ctx, const SoapCall &call,
                                 std::string &user);

// The enrolled device whose current certificate the TLS connection
// presented, or the fault that refuses it.
std::optional<SoapFault> device_by_certificate(EnrollmentContext &ctx,
                                               const SoapCall &call,
                                               EnrolledDevice &device);

// Mounts /EnrollmentServer/{Discovery,Policy,Enrollment}.svc when
// --public-url is set.  Throws when the device CA cannot be loaded.
void mount_enrollment_services(httplib::Server &server, Store &store,
                               const Options &opt);

}  // namespace omadm_backend
