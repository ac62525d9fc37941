#include "codec/syncml_codec.hpp"

#include "codec/syncml_encoder.hpp"
#include "codec/wbxml_decoder.hpp"
#include "codec/wbxml_encoder.hpp"
#include "codec/xml_decoder.hpp"

namespace omadm {

bool to_encoding(int value, encoding &out)
{
    if (value != OMADM_ENC_XML && value != OMADM_ENC_WBXML) return false;
    out = static_cast<encoding>(value);
    return true;
}

bool decode_message(std::string_view body, encoding enc,
                    const omadm_limits_t &limits, message &out,
                    parse_error &err)
{
    return enc == encoding::wbxml ? parse_wbxml(body, limits, out, err)
                                  : parse_syncml(body, limits, out, err);
}

std::string encode_message(const message &m, encoding enc)
{
    return enc == encoding::wbxml ? encode_wbxml(m) : encode_syncml(m);
}

encoding encoding_of(std::string_view ours)
{
    return !ours.empty() && ours[0] == '<' ? encoding::xml : encoding::wbxml;
}

const char *content_type(encoding enc)
{
    return enc == encoding::wbxml ? "application/vnd.syncml.dm+wbxml"
                                  : "application/vnd.syncml.dm+xml";
}

}  // namespace omadm
