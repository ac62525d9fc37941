// libFuzzer: the SyncML XML decoder.  Whatever parses must re-encode to XML
// that parses again, and that second encoding must equal the first: the
// encoder writes nothing the decoder reads differently.  (The first decode
// and the first encoding may differ by design: the decoder keeps fields
// wherever a device put them, the encoder writes only what the DTD allows
// where it allows it, e.g. a Chal only in a Status.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "omadm.h"
#include "codec/syncml_encoder.hpp"
#include "codec/xml_decoder.hpp"

namespace {

// Small enough that the fuzzer hits every limit, as an operator would set.
const omadm_limits_t fuzz_limits = {16, 2000, 4096};
// For the re-parse: only a real decode failure counts, not a limit the
// re-encoding happens to cross.
const omadm_limits_t loose_limits = {1000, 1000000, 64 * 1024 * 1024};

[[noreturn]] void die(const char *what, const std::string &a,
                      const std::string &b)
{
    std::fprintf(stderr, "fuzz_xml: %s\n--- first\n%s\n--- second\n%s\n",
                 what, a.c_str(), b.c_str());
    std::abort();
}

std::string transcode(int from, int to, const std::string &body)
{
    char  *out = nullptr, *why = nullptr;
    size_t len = 0;
    if (omadm_syncml_transcode(from, to, body.data(), body.size(),
                               &loose_limits, &out, &len, &why)
        != OMADM_OK) {
        std::string reason = why ? why : "";
        omadm_free(why);
        die(("transcoding failed: " + reason).c_str(), body, "");
    }
    std::string s(out, len);
    omadm_free(out);
    omadm_free(why);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);

    omadm::message     m;
    omadm::parse_error err;
    if (!omadm::parse_syncml(in, fuzz_limits, m, err)) {
        if (err.reason.empty()) die("refused without a reason", "", "");
        return 0;
    }

    std::string first = omadm::encode_syncml(m);
    omadm::message m2;
    if (!omadm::parse_syncml(first, loose_limits, m2, err)) {
        die(("own encoding does not parse: " + err.reason).c_str(), first,
            "");
    }
    std::string second = omadm::encode_syncml(m2);
    if (second != first) die("encoding is not a fixed point", first, second);

    // The describe() path of the C ABI walks every field of the model.
    char  *out = nullptr, *why = nullptr;
    size_t out_len = 0;
    if (omadm_syncml_describe(first.data(), first.size(), &loose_limits,
                              &out, &out_len, &why) != OMADM_OK) {
        std::string reason = why ? why : "";
        omadm_free(why);
        die("describe refused what parsed", first, reason);
    }
    omadm_free(out);
    omadm_free(why);

    // The same model through WBXML and back must give the same XML: what
    // the server says in WBXML means what it says in XML.
    std::string wbxml = transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, first);
    std::string back = transcode(OMADM_ENC_WBXML, OMADM_ENC_XML, wbxml);
    if (back != first) die("WBXML changed the message", first, back);
    return 0;
}
