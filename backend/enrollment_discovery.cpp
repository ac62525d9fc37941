// Discovery (MS-MDE2 3.1): where the policy and enrollment services are,
// and how to sign in to them (OnPremise: an enrollment user's password).
#include "enrollment_service.hpp"

#include "xml_escape.hpp"

#include <algorithm>
#include <cstdio>

namespace omadm_backend {

namespace {

// The protocol versions this server speaks: what it answers is the
// device's RequestVersion within these (a device that names none gets the
// lowest).
constexpr int lowest_version = 40, highest_version = 50;  // tenths

// "5.0" -> 50; -1 for anything else.
int version_tenths(const std::string &s)
{
    unsigned major = 0, minor = 0;
    char tail = 0;
    if (s.size() > 8
        || std::sscanf(s.c_str(), "%u.%u%c", &major, &minor, &tail) != 2
        || minor > 9 || major > 99) {
        return -1;
    }
    return int(major * 10 + minor);
}

const XmlElement *discover_request(const SoapRequest &r)
{
    const XmlElement *op = r.operation();
    // Microsoft's own sample writes the namespace with a trailing '/'.
    for (std::string ns : {std::string(mde::discovery_ns),
                           std::string(mde::discovery_ns) + "/"}) {
        if (op->ns == ns && op->name == "Discover") {
            return op->child(ns, "request");
        }
    }
    return nullptr;
}

}  // namespace

SoapAnswer discover(EnrollmentContext &ctx, const SoapCall &call)
{
    const XmlElement *req = discover_request(call.request);
    if (!req) {
        return fault_answer(true, fault::message_format,
                            "the Body holds no Discover/request element");
    }
    const std::string &ns = req->ns;
    if (const XmlElement *policies = req->child(ns, "AuthPolicies")) {
        bool on_premise = std::any_of(
            policies->children.begin(), policies->children.end(),
            [](const XmlElement &p) { return p.value() == "OnPremise"; });
        if (!on_premise) {
            return fault_answer(true, fault::authentication,
                                "this server signs users in with OnPremise"
                                " authentication only (an enrollment user"
                                " and password)");
        }
    }
    int version = lowest_version;
    if (const XmlElement *v = req->child(ns, "RequestVersion")) {
        version = std::clamp(version_tenths(v->value()), lowest_version,
                             highest_version);
    }
    std::string base = ctx.opt.public_url + "/EnrollmentServer/";
    SoapAnswer a;
    a.body = "<DiscoverResponse xmlns=\"" + std::string(mde::discovery_ns)
             + "\"><DiscoverResult><AuthPolicy>OnPremise</AuthPolicy>"
               "<EnrollmentVersion>"
             + std::to_string(version / 10) + "." + std::to_string(version % 10)
             + "</EnrollmentVersion><EnrollmentPolicyServiceUrl>"
             + xml_escape(base + "Policy.svc")
             + "</EnrollmentPolicyServiceUrl><EnrollmentServiceUrl>"
             + xml_escape(base + "Enrollment.svc")
             + "</EnrollmentServiceUrl></DiscoverResult></DiscoverResponse>";
    return a;
}

}  // namespace omadm_backend
