// Text and attribute values into XML, for everything the enrollment
// services write (SOAP answers, the provisioning document).
#pragma once

#include <string>
#include <string_view>

namespace omadm_backend {

// Escapes & < > " ' and the white space a parser would otherwise normalize
// (CR anywhere, TAB and LF in attribute values), so that what is read back
// is exactly `s`.  Valid for element text and for attribute values in
// either quote.  Other control characters, which XML 1.0 cannot carry at
// all, become '?'.
std::string xml_escape(std::string_view s);

}  // namespace omadm_backend
