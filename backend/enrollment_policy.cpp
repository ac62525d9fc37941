// Policy (MS-XCEP GetPolicies, MS-MDE2 3.3): the certificate the device is
// to request: an RSA key of at least 2048 bits, signed with SHA-256.
#include "enrollment_service.hpp"

#include "provisioning_doc.hpp"

namespace omadm_backend {

namespace {

constexpr long validity_seconds = 365L * 86400;

}  // namespace

SoapAnswer get_policies(EnrollmentContext &ctx, const SoapCall &call)
{
    const XmlElement *op = call.request.operation();
    if (op->ns != mde::policy_ns || op->name != "GetPolicies") {
        return fault_answer(true, fault::message_format,
                            "the Body holds no GetPolicies element");
    }
    // A renewing device asks over TLS with its certificate; an enrolling
    // one signs in.
    EnrolledDevice device;
    std::string user;
    const XmlElement *h = call.request.header();
    bool signs_in = h && h->child(mde::wsse_ns, "Security");
    if (call.client_certificate && !signs_in) {
        if (auto f = device_by_certificate(ctx, call, device)) {
            return {"", "", f};
        }
    } else if (auto f = sign_in(ctx, call, user)) {
        return {"", "", f};
    }
    const char *nil = " xsi:nil=\"true\"/>";
    SoapAnswer a;
    a.body =
        std::string("<GetPoliciesResponse xmlns=\"")
        + std::string(mde::policy_ns)
        + "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
          "<response><policyID/><policyFriendlyName" + nil
        + "<nextUpdateHours" + nil + "<policiesNotChanged" + nil
        + "<policies><policy><policyOIDReference>0</policyOIDReference><cAs"
        + nil
        + "<attributes><commonName>ngx_omadm</commonName>"
          "<policySchema>3</policySchema><certificateValidity>"
          "<validityPeriodSeconds>"
        + std::to_string(validity_seconds)
        + "</validityPeriodSeconds><renewalPeriodSeconds>"
        + std::to_string(long(renew_period_days) * 86400)
        + "</renewalPeriodSeconds></certificateValidity>"
          "<permission><enroll>true</enroll><autoEnroll>false</autoEnroll>"
          "</permission><privateKeyAttributes><minimalKeyLength>"
        + std::to_string(min_rsa_bits) + "</minimalKeyLength><keySpec" + nil
        + "<keyUsageProperty" + nil + "<permissions" + nil
        + "<algorithmOIDReference" + nil + "<cryptoProviders" + nil
        + "</privateKeyAttributes><revision><majorRevision>101</majorRevision>"
          "<minorRevision>0</minorRevision></revision><supersededPolicies"
        + nil + "<privateKeyFlags" + nil + "<subjectNameFlags" + nil
        + "<enrollmentFlags" + nil + "<generalFlags" + nil
        // oIDReferenceID 0 below: SHA-256
        + "<hashAlgorithmOIDReference>0</hashAlgorithmOIDReference>"
          "<rARequirements" + nil + "<keyArchivalAttributes" + nil
        + "<extensions" + nil
        + "</attributes></policy></policies></response><cAs" + nil
        + "<oIDs><oID><value>2.16.840.1.101.3.4.2.1</value><group>1</group>"
          "<oIDReferenceID>0</oIDReferenceID>"
          "<defaultName>szOID_NIST_sha256</defaultName></oID></oIDs>"
          "</GetPoliciesResponse>";
    return a;
}

}  // namespace omadm_backend
