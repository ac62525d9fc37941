// Reading the SOAP 1.2 requests of the Windows enrollment services
// (MS-MDE2): a namespace-aware expat parse into a small element tree, then
// the envelope's WS-Addressing header.  Self-contained (expat and the
// standard library only), so the fuzzer compiles it in.
//
// No DTD is ever read: any DOCTYPE is refused before its subset, so no
// entity is declared or expanded.  The limits are those of the SyncML
// decoder (omadm_xml_limits' defaults).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace omadm_backend {

struct XmlLimits {
    size_t depth = 32;           // element nesting
    size_t elements = 20000;     // elements in the document
    size_t text = 1024 * 1024;   // bytes of text in one element or attribute
};

struct XmlAttribute {
    std::string ns;  // namespace URI, "" for an unprefixed attribute
    std::string name;
    std::string value;
};

struct XmlElement {
    std::string ns;  // namespace URI, "" for none
    std::string name;
    std::vector<XmlAttribute> attributes;
    std::string text;  // character data directly inside, concatenated
    std::vector<XmlElement> children;

    // The first child with this namespace and local name, or nullptr.
    const XmlElement *child(std::string_view ns, std::string_view name) const;
    // An attribute's value, or nullptr.
    const std::string *attribute(std::string_view ns,
                                 std::string_view name) const;
    // text without the white space around it (values in Microsoft's own
    // samples are indented onto lines of their own).
    std::string value() const;
};

enum class XmlFailure { none, malformed, too_large };

// false with `failure` and a reason a person can act on.
bool read_xml(std::string_view body, const XmlLimits &limits, XmlElement &root,
              XmlFailure &failure, std::string &reason);

namespace ns {
constexpr std::string_view soap = "http://www.w3.org/2003/05/soap-envelope";
constexpr std::string_view addressing = "http://www.w3.org/2005/08/addressing";
}  // namespace ns

// A SOAP 1.2 request: its Envelope, the Header's a:Action and a:MessageID
// (trimmed, "" when absent), and the Body's one operation element.
struct SoapRequest {
    XmlElement envelope;
    std::string action;
    std::string message_id;

    const XmlElement *header() const;     // nullptr when absent
    const XmlElement *operation() const;  // the Body's first element
};

// false with `failure` and `reason` when the body is not XML, exceeds the
// limits, or is not a SOAP 1.2 envelope with a Body holding an element.
bool read_soap_request(std::string_view body, const XmlLimits &limits,
                       SoapRequest &out, XmlFailure &failure,
                       std::string &reason);

}  // namespace omadm_backend
