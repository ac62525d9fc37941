#include "provisioning_doc.hpp"

#include "crypto.hpp"
#include "device_ca.hpp"
#include "xml_escape.hpp"

namespace omadm_backend {

namespace {

std::string parm(const std::string &name, const std::string &value,
                 const char *datatype = nullptr)
{
    std::string out = "<parm name=\"" + xml_escape(name) + "\" value=\""
                      + xml_escape(value) + "\"";
    if (datatype) out += std::string(" datatype=\"") + datatype + "\"";
    return out + "/>";
}

std::string characteristic(const std::string &type, const std::string &inner)
{
    return "<characteristic type=\"" + xml_escape(type) + "\">" + inner
           + "</characteristic>";
}

// CertificateStore/<store>/<location>/<thumbprint>/EncodedCertificate
std::string store_certificate(const std::string &der, const std::string &extra)
{
    return characteristic(certificate_thumbprint(der),
                          parm("EncodedCertificate", base64_encode(der)))
           + extra;
}

std::string client_store(const ProvisionedCertificates &c)
{
    // PrivateKeyContainer stays empty: the key never left the device.
    return characteristic(
        "My", characteristic(c.device_store ? "System" : "User",
                             store_certificate(c.client_der,
                                               characteristic(
                                                   "PrivateKeyContainer", "")))
                  + characteristic(
                      "WSTEP",
                      characteristic(
                          "Renew",
                          parm("ROBOSupport", "true", "boolean")
                              + parm("RenewPeriod",
                                     std::to_string(renew_period_days),
                                     "integer")
                              + parm("RetryInterval", "4", "integer"))));
}

// URL-encoded as Microsoft's samples write it ("CN%3d...&Stores=My%5CUser").
std::string cert_search_criteria(const ProvisionedCertificates &c)
{
    std::string cn;
    for (char ch : c.device_id) {
        bool plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                     || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'
                     || ch == '_';
        if (plain) {
            cn.push_back(ch);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            cn += '%';
            cn += hex[static_cast<unsigned char>(ch) >> 4];
            cn += hex[static_cast<unsigned char>(ch) & 0x0f];
        }
    }
    return "Subject=CN%3d" + cn + "&Stores=My%5C"
           + (c.device_store ? "System" : "User");
}

std::string appauth(const char *level, const std::string &name,
                    const std::string &secret, const std::string &nonce)
{
    return characteristic(
        "APPAUTH", parm("AAUTHLEVEL", level) + parm("AAUTHTYPE", "DIGEST")
                       + parm("AAUTHNAME", name) + parm("AAUTHSECRET", secret)
                       + parm("AAUTHDATA", nonce));
}

}  // namespace

std::string provisioning_doc(const ProvisionedCertificates &certs,
                             const OmaDmAccount &a,
                             const std::string &device_name)
{
    std::string doc = "<wap-provisioningdoc version=\"1.1\">";
    doc += characteristic(
        "CertificateStore",
        characteristic("Root", characteristic("System",
                                              store_certificate(certs.root_der,
                                                                "")))
            + characteristic("CA", characteristic("System",
                                                  store_certificate(
                                                      certs.ca_der, "")))
            + client_store(certs));
    doc += characteristic(
        "APPLICATION",
        parm("APPID", "w7") + parm("PROVIDER-ID", a.provider_id)
            + parm("NAME", a.name) + parm("ADDR", a.addr)
            + parm("CONNRETRYFREQ", "6") + parm("INITIALBACKOFFTIME", "30000")
            + parm("MAXBACKOFFTIME", "120000")
            + "<parm name=\"BACKCOMPATRETRYDISABLED\"/>"
            + parm("DEFAULTENCODING", "application/vnd.syncml.dm+xml")
            + parm("SSLCLIENTCERTSEARCHCRITERIA", cert_search_criteria(certs))
            + appauth("CLIENT", a.server_username, a.server_secret,
                      a.server_nonce_b64)
            + appauth("APPSRV", a.device_username, a.device_secret,
                      a.device_nonce_b64));
    // The device comes back on its own: every 15 minutes for two hours,
    // then daily (Microsoft's sample schedule), and at each login.
    doc += characteristic(
        "DMClient",
        characteristic(
            "Provider",
            characteristic(
                a.provider_id,
                parm("EntDeviceName", device_name, "string")
                    + characteristic(
                        "Poll",
                        parm("NumberOfFirstRetries", "8", "integer")
                            + parm("IntervalForFirstSetOfRetries", "15",
                                   "integer")
                            + parm("NumberOfSecondRetries", "5", "integer")
                            + parm("IntervalForSecondSetOfRetries", "3",
                                   "integer")
                            + parm("NumberOfRemainingScheduledRetries", "0",
                                   "integer")
                            + parm("IntervalForRemainingScheduledRetries",
                                   "1560", "integer")
                            + parm("PollOnLogin", "true", "boolean")))));
    return doc + "</wap-provisioningdoc>";
}

std::string renewal_doc(const ProvisionedCertificates &certs)
{
    return "<wap-provisioningdoc version=\"1.1\">"
           + characteristic(
               "CertificateStore",
               characteristic(
                   "My", characteristic(certs.device_store ? "System" : "User",
                                        store_certificate(certs.client_der,
                                                          ""))))
           + "</wap-provisioningdoc>";
}

}  // namespace omadm_backend
