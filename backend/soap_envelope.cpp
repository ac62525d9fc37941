#include "soap_envelope.hpp"

#include "clock.hpp"
#include "xml_escape.hpp"

#include <ctime>

namespace omadm_backend {

std::string soap_response(const std::string &action,
                          const std::string &relates_to,
                          const std::string &body,
                          const std::string &header_extra)
{
    std::string out =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\""
        " xmlns:a=\"http://www.w3.org/2005/08/addressing\""
        " xmlns:u=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-utility-1.0.xsd\"><s:Header>"
        "<a:Action s:mustUnderstand=\"1\">"
        + xml_escape(action) + "</a:Action>";
    if (!relates_to.empty()) {
        out += "<a:RelatesTo>" + xml_escape(relates_to) + "</a:RelatesTo>";
    }
    return out + header_extra + "</s:Header><s:Body>" + body
           + "</s:Body></s:Envelope>";
}

std::string soap_fault(const std::string &action,
                       const std::string &relates_to, const SoapFault &f)
{
    return soap_response(
        action, relates_to,
        std::string("<s:Fault><s:Code><s:Value>")
            + (f.sender ? "s:Sender" : "s:Receiver")
            + "</s:Value><s:Subcode><s:Value>" + xml_escape(f.subcode)
            + "</s:Value></s:Subcode></s:Code><s:Reason>"
              "<s:Text xml:lang=\"en-US\">"
            + xml_escape(f.reason) + "</s:Text></s:Reason></s:Fault>");
}

std::string security_timestamp()
{
    std::time_t now = std::time(nullptr);
    return "<o:Security s:mustUnderstand=\"1\" xmlns:o=\"http://docs.oasis-"
           "open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">"
           "<u:Timestamp u:Id=\"_0\"><u:Created>"
           + iso8601(now) + "</u:Created><u:Expires>" + iso8601(now + 300)
           + "</u:Expires></u:Timestamp></o:Security>";
}

}  // namespace omadm_backend
