// The HTTP side of the enrollment services: one handler per service that
// reads the SOAP request, checks its Action and MessageID, runs the
// operation and writes the answer or a fault, with Content-Length (httplib
// never chunks a body it was given whole).
#include "enrollment_service.hpp"

#include "crypto.hpp"
#include "path_router.hpp"
#include "request_auth.hpp"
#include "request_log.hpp"
#include "request_metrics.hpp"

#include <memory>

namespace omadm_backend {

namespace {

// A Windows request is a few KiB (the largest, an RST, holds a 2048-bit
// CSR); nginx's client_max_body_size refuses more before we see it.
constexpr size_t max_soap_bytes = 64 * 1024;

using Operation = SoapAnswer (*)(EnrollmentContext &, const SoapCall &);

struct Service {
    const char *path;
    const char *action;           // the request's a:Action
    const char *answer_action;    // the response's
    Operation run;
};

const Service services[] = {
    {"/EnrollmentServer/Discovery.svc",
     "http://schemas.microsoft.com/windows/management/2012/01/enrollment/"
     "IDiscoveryService/Discover",
     "http://schemas.microsoft.com/windows/management/2012/01/enrollment/"
     "IDiscoveryService/DiscoverResponse",
     discover},
    {"/EnrollmentServer/Policy.svc",
     "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/"
     "IPolicy/GetPolicies",
     "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/"
     "IPolicy/GetPoliciesResponse",
     get_policies},
    {"/EnrollmentServer/Enrollment.svc",
     "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep",
     "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep",
     request_security_token},
};

void reply_soap(httplib::Response &res, int status, const std::string &xml)
{
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(xml, "application/soap+xml; charset=utf-8");
}

// Only nginx knows the client's address and its TLS certificate; what it
// passes on is believed only from a request that carries the contract key,
// which nginx adds and a client never sees.
void identify_client(const httplib::Request &req, const std::string &key,
                     SoapCall &call)
{
    call.client_address = req.remote_addr;
    if (!has_contract_key(req, key)) return;
    if (req.has_header("X-Forwarded-For")) {
        call.client_address = req.get_header_value("X-Forwarded-For");
    }
    if (req.get_header_value("X-Client-Verify") == "SUCCESS"
        && req.has_header("X-Client-Cert")) {
        // $ssl_client_escaped_cert: the PEM, URL-encoded
        if (std::optional<std::string> pem =
                percent_decode(req.get_header_value("X-Client-Cert"))) {
            call.client_certificate = read_pem_certificate(*pem);
        }
    }
}

void answer(EnrollmentContext &ctx, const Service &svc,
            const std::string &contract_key, const httplib::Request &req,
            httplib::Response &res)
{
    SoapCall call;
    identify_client(req, contract_key, call);
    auto refuse = [&](int status, const SoapFault &f) {
        log_line(std::string("enrollment: ") + svc.path + " refused ("
                 + f.subcode + ") for " + call.client_address + ": "
                 + f.reason);
        reply_soap(res, status,
                   soap_fault(svc.answer_action, call.request.message_id, f));
    };
    if (req.body.size() > max_soap_bytes) {
        refuse(413, {true, fault::message_format,
                     "the request is larger than "
                         + std::to_string(max_soap_bytes / 1024) + " KiB"});
        return;
    }
    XmlFailure failure;
    std::string reason;
    if (!read_soap_request(req.body, XmlLimits{}, call.request, failure,
                           reason)) {
        refuse(failure == XmlFailure::too_large ? 413 : 400,
               {true, fault::message_format,
                "the request is not a SOAP 1.2 message: " + reason});
        return;
    }
    if (call.request.action != svc.action) {
        refuse(400, {true, "a:ActionNotSupported",
                     "this service answers the action "
                         + std::string(svc.action)
                         + ", not \"" + call.request.action + "\""});
        return;
    }
    if (call.request.message_id.empty()) {
        refuse(400, {true, fault::message_format,
                     "the request has no a:MessageID in its header"});
        return;
    }
    SoapAnswer a;
    try {
        a = svc.run(ctx, call);
    } catch (const std::exception &e) {
        log_line(std::string("error: enrollment: ") + svc.path + ": "
                 + e.what());
        a = fault_answer(false, fault::internal,
                         "the enrollment server failed; try again later");
    }
    if (a.fault) {
        refuse(a.fault->http_status(), *a.fault);
        return;
    }
    reply_soap(res, 200,
               soap_response(svc.answer_action, call.request.message_id,
                             a.body, a.header_extra));
}

}  // namespace

std::optional<SoapFault> sign_in(EnrollmentContext &ctx, const SoapCall &call,
                                 std::string &user)
{
    const XmlElement *h = call.request.header();
    const XmlElement *sec = h ? h->child(mde::wsse_ns, "Security") : nullptr;
    const XmlElement *token =
        sec ? sec->child(mde::wsse_ns, "UsernameToken") : nullptr;
    const XmlElement *name =
        token ? token->child(mde::wsse_ns, "Username") : nullptr;
    const XmlElement *password =
        token ? token->child(mde::wsse_ns, "Password") : nullptr;
    if (!name || !password || name->value().empty()) {
        return SoapFault{true, fault::invalid_security,
                         "sign in with an enrollment user: the request"
                         " carries no wsse:UsernameToken with a user name"
                         " and a password"};
    }
    // WS-Security's Type is unqualified; Microsoft's samples qualify it
    const std::string *type = password->attribute("", "Type");
    if (!type) type = password->attribute(mde::wsse_ns, "Type");
    if (type && type->find("#PasswordText") == std::string::npos
        && *type != "PasswordText") {
        return SoapFault{true, fault::invalid_security,
                         "only PasswordText passwords are supported"};
    }
    SignIn s = ctx.users.sign_in(name->value(), password->value(),
                                 call.client_address);
    if (s.wait_seconds > 0) {
        return SoapFault{true, fault::authentication,
                         "too many failed sign-ins for this user; try again in "
                             + std::to_string(s.wait_seconds) + " seconds"};
    }
    if (!s.ok) {
        return SoapFault{true, fault::authentication,
                         "wrong user name or password"};
    }
    user = fold_user_name(name->value());
    return std::nullopt;
}

std::optional<SoapFault> device_by_certificate(EnrollmentContext &ctx,
                                               const SoapCall &call,
                                               EnrolledDevice &device)
{
    X509 *cert = call.client_certificate.get();
    if (!cert || !ctx.ca.issued(cert)) {
        return SoapFault{true, fault::authentication,
                         "renewal needs the device's current enrollment"
                         " certificate as its TLS client certificate"};
    }
    std::optional<EnrolledDevice> d = ctx.store.enrolled_by_certificate(
        certificate_thumbprint(certificate_der(cert)));
    if (!d) {
        return SoapFault{true, fault::authorization,
                         "this certificate is not the current one of an"
                         " enrolled device; enroll the device again"};
    }
    device = *d;
    return std::nullopt;
}

void mount_enrollment_services(httplib::Server &server, Store &store,
                               const Options &opt)
{
    if (!opt.enrollment.enabled()) return;
    // Alive as long as the server: its handlers hold it.
    auto ctx = std::make_shared<EnrollmentContext>(store, opt.enrollment);
    const std::string &key = opt.contract_key;
    for (const Service &svc : services) {
        add_counted_route(server, "POST", svc.path,
                          [ctx, &svc, &key](const httplib::Request &req,
                                            httplib::Response &res) {
                              answer(*ctx, svc, key, req, res);
                          });
    }
    // Windows first probes discovery with a GET: 200 and an empty body.
    add_counted_route(server, "GET", services[0].path,
                      [](const httplib::Request &, httplib::Response &res) {
                          res.status = 200;
                          res.set_content("", "text/html");
                      });
    log_line("enrollment services at " + opt.enrollment.public_url
             + "/EnrollmentServer/, devices managed at "
             + opt.enrollment.dm_url);
}

}  // namespace omadm_backend
