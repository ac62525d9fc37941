// Enrollment (MS-WSTEP RequestSecurityToken, MS-MDE2 3.4 and 3.5): a
// certificate for the device's CSR, its OMA DM account, and the
// provisioning document that hands both to the device; or, for a renewal,
// a new certificate for a device that presents its current one.
#include "enrollment_service.hpp"

#include "crypto.hpp"
#include "provisioning_doc.hpp"
#include "request_log.hpp"
#include "clock.hpp"
#include "xml_escape.hpp"

#include <algorithm>
#include <ctime>
#include <map>

namespace omadm_backend {

namespace {

constexpr const char *token_type =
    "http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/"
    "DeviceEnrollmentToken";
constexpr const char *issue_type =
    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue";
constexpr const char *renew_type =
    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew";
constexpr const char *pkcs10_type =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10";
constexpr const char *pkcs7_type =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7";
constexpr const char *base64_encoding =
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary";
constexpr const char *provision_doc_type =
    "http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/"
    "DeviceEnrollmentProvisionDoc";

constexpr int certificate_days = 365;
constexpr size_t max_context_bytes = 256;
// A certificate's CN holds at most 64 characters (RFC 5280 ub-common-name).
constexpr size_t max_device_id_bytes = 64;

// The w7 APPLICATION's PROVIDER-ID and NAME, and the server's name in its
// own OMA DM credentials.
constexpr const char *provider_id = "ngx_omadm";

struct TokenRequest {
    bool renew = false;
    std::string token_value_type;
    std::string token;  // decoded DER
    std::map<std::string, std::string> context;  // first Value of each Name
};

std::optional<SoapFault> bad(std::string reason)
{
    return SoapFault{true, fault::message_format, std::move(reason)};
}

std::optional<SoapFault> read_token_request(const SoapRequest &r,
                                            TokenRequest &out)
{
    const XmlElement *op = r.operation();
    if (op->ns != mde::trust_ns || op->name != "RequestSecurityToken") {
        return bad("the Body holds no wst:RequestSecurityToken");
    }
    const XmlElement *type = op->child(mde::trust_ns, "TokenType");
    // Microsoft's sample quotes the URI: tolerate the quotes
    std::string tt = type ? type->value() : "";
    tt.erase(std::remove(tt.begin(), tt.end(), '"'), tt.end());
    if (tt != token_type) {
        return bad(std::string("wst:TokenType must be ") + token_type);
    }
    const XmlElement *req_type = op->child(mde::trust_ns, "RequestType");
    std::string rt = req_type ? req_type->value() : "";
    if (rt != issue_type && rt != renew_type) {
        return bad(std::string("wst:RequestType must be ") + issue_type
                   + " or " + renew_type);
    }
    out.renew = rt == renew_type;
    const XmlElement *bst = op->child(mde::wsse_ns, "BinarySecurityToken");
    if (!bst) return bad("the request holds no wsse:BinarySecurityToken");
    const std::string *vt = bst->attribute("", "ValueType");
    const std::string *enc = bst->attribute("", "EncodingType");
    out.token_value_type = vt ? *vt : "";
    if (out.token_value_type != pkcs10_type
        && !(out.renew && out.token_value_type == pkcs7_type)) {
        return bad(std::string("the BinarySecurityToken's ValueType must be ")
                   + pkcs10_type + (out.renew ? std::string(" or ") + pkcs7_type
                                              : std::string()));
    }
    if (enc && *enc != base64_encoding) {
        return bad(std::string("the BinarySecurityToken's EncodingType must"
                               " be ")
                   + base64_encoding);
    }
    std::optional<std::string> der = base64_decode(bst->text);
    if (!der || der->empty()) {
        return bad("the BinarySecurityToken is not base64");
    }
    out.token = std::move(*der);
    if (const XmlElement *ac =
            op->child(mde::authorization_ns, "AdditionalContext")) {
        for (const XmlElement &item : ac->children) {
            const std::string *name = item.attribute("", "Name");
            const XmlElement *value =
                item.child(mde::authorization_ns, "Value");
            if (item.ns != mde::authorization_ns || item.name != "ContextItem"
                || !name || !value) {
                continue;
            }
            std::string v = value->value();
            if (v.size() > max_context_bytes) {
                return bad("ContextItem \"" + *name + "\" is longer than "
                           + std::to_string(max_context_bytes) + " bytes");
            }
            out.context.emplace(*name, v);  // MAC repeats: the first stays
        }
    }
    return std::nullopt;
}

std::string context(const TokenRequest &t, const std::string &name)
{
    auto it = t.context.find(name);
    return it == t.context.end() ? "" : it->second;
}

// The DeviceID becomes the certificate's CN and the device's LocURI.
bool usable_device_id(const std::string &id)
{
    return !id.empty() && id.size() <= max_device_id_bytes
           && std::all_of(id.begin(), id.end(), [](char c) {
                  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                         || (c >= '0' && c <= '9') || c == '-' || c == '_'
                         || c == '.' || c == ':' || c == '{' || c == '}';
              });
}

SoapAnswer token_response(const std::string &doc)
{
    SoapAnswer a;
    a.header_extra = security_timestamp();
    a.body = "<RequestSecurityTokenResponseCollection xmlns=\""
             + std::string(mde::trust_ns)
             + "\"><RequestSecurityTokenResponse><TokenType>" + token_type
             + "</TokenType><DispositionMessage xmlns=\""
             + std::string(mde::enrollment_ns)
             + "\"/><RequestedSecurityToken><BinarySecurityToken xmlns=\""
             + std::string(mde::wsse_ns) + "\" ValueType=\""
             + provision_doc_type + "\" EncodingType=\"" + base64_encoding
             + "\">" + base64_encode(doc)
             + "</BinarySecurityToken></RequestedSecurityToken>"
               "<RequestID xmlns=\""
             + std::string(mde::enrollment_ns)
             + "\">0</RequestID></RequestSecurityTokenResponse>"
               "</RequestSecurityTokenResponseCollection>";
    return a;
}

std::optional<CertificateRequest> verified_csr(const std::string &der,
                                               std::optional<SoapFault> &f)
{
    std::string reason;
    std::optional<CertificateRequest> csr =
        read_certificate_request(der, reason);
    if (!csr) f = SoapFault{true, fault::certificate_request, reason};
    return csr;
}

SoapAnswer issue(EnrollmentContext &ctx, const SoapCall &call,
                 const TokenRequest &t)
{
    std::string user;
    if (auto f = sign_in(ctx, call, user)) return {"", "", f};

    std::string device_id = context(t, "DeviceID");
    if (!usable_device_id(device_id)) {
        return fault_answer(true, fault::message_format,
                            "the DeviceID context item must be 1 to 64 letters,"
                            " digits or - _ . : { }");
    }
    std::string type = context(t, "EnrollmentType");
    if (type.empty()) type = "Full";
    if (type != "Full" && type != "Device") {
        return fault_answer(true, fault::message_format,
                            "EnrollmentType must be Full or Device");
    }
    std::optional<SoapFault> f;
    std::optional<CertificateRequest> csr = verified_csr(t.token, f);
    if (!csr) return {"", "", f};

    IssuedCertificate cert = ctx.ca.issue(*csr, device_id, certificate_days);
    NewEnrollment e;
    e.device_id = device_id;
    e.user = user;
    e.device_name = context(t, "DeviceName");
    e.os_version = context(t, "OSVersion");
    e.hw_dev_id = context(t, "HWDevID");
    e.enrollment_type = type;
    // The OMA DM account: long random secrets (MD5 digest), a first nonce
    // the device's first login uses, and the server's own toward it.
    e.username = "dm-" + hex_encode(random_bytes(8));
    e.password = hex_encode(random_bytes(16));
    e.nonce = base64_encode(random_bytes(16));
    e.server_username = provider_id;
    e.server_password = hex_encode(random_bytes(16));
    e.server_nonce = base64_encode(random_bytes(16));
    e.cert_serial = cert.serial;
    e.cert_thumbprint = cert.thumbprint;
    e.cert_not_after = iso8601(cert.not_after);
    EnrollOutcome outcome = ctx.store.enroll(e);
    if (outcome == EnrollOutcome::registered_by_operator) {
        return fault_answer(true, fault::authorization,
                            "the device id " + device_id
                                + " is registered through the operator API;"
                                  " delete it there to enroll this device");
    }
    log_line("enrollment: device " + device_id + " enrolled by " + user
             + (outcome == EnrollOutcome::replaced ? " (again)" : "")
             + ", certificate " + cert.serial);

    ProvisionedCertificates certs{ctx.ca.root_der(), ctx.ca.ca_der(), cert.der,
                                  type == "Device", device_id};
    OmaDmAccount account{provider_id,       provider_id,      ctx.opt.dm_url,
                         e.username,        e.password,       e.nonce,
                         e.server_username, e.server_password, e.server_nonce};
    return token_response(provisioning_doc(certs, account, e.device_name));
}

SoapAnswer renew(EnrollmentContext &ctx, const SoapCall &call,
                 const TokenRequest &t)
{
    EnrolledDevice device;
    if (auto f = device_by_certificate(ctx, call, device)) return {"", "", f};
    std::string der = t.token;
    if (t.token_value_type == pkcs7_type) {
        std::string reason;
        std::optional<std::string> inner = renewal_request(
            t.token, call.client_certificate.get(), reason);
        if (!inner) {
            return fault_answer(true, fault::certificate_request, reason);
        }
        der = std::move(*inner);
    }
    std::optional<SoapFault> f;
    std::optional<CertificateRequest> csr = verified_csr(der, f);
    if (!csr) return {"", "", f};
    IssuedCertificate cert =
        ctx.ca.issue(*csr, device.device_id, certificate_days);
    std::string old = certificate_thumbprint(
        certificate_der(call.client_certificate.get()));
    if (!ctx.store.renew_certificate(device.device_id, old, cert.serial,
                                     cert.thumbprint,
                                     iso8601(cert.not_after))) {
        return fault_answer(true, fault::authorization,
                            "this certificate was renewed or the device"
                            " unenrolled meanwhile");
    }
    log_line("enrollment: device " + device.device_id
             + " renewed its certificate, now " + cert.serial);
    ProvisionedCertificates certs{ctx.ca.root_der(), ctx.ca.ca_der(), cert.der,
                                  device.enrollment_type == "Device",
                                  device.device_id};
    return token_response(renewal_doc(certs));
}

}  // namespace

SoapAnswer request_security_token(EnrollmentContext &ctx,
                                  const SoapCall &call)
{
    TokenRequest t;
    if (auto f = read_token_request(call.request, t)) return {"", "", f};
    return t.renew ? renew(ctx, call, t) : issue(ctx, call, t);
}

}  // namespace omadm_backend
