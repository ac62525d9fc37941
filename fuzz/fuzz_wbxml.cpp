// libFuzzer: the SyncML WBXML decoder.  Whatever decodes must re-encode to
// WBXML that decodes again, and that second encoding must be a fixed
// point; describe() must accept it.  Refusals need a reason; crashes,
// leaks, hangs and large allocations are what the sanitizers catch.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "omadm.h"
#include "codec/wbxml_decoder.hpp"
#include "codec/wbxml_encoder.hpp"

namespace {

// Small enough that the fuzzer hits every limit, as an operator would set.
const omadm_limits_t fuzz_limits = {16, 2000, 4096};
const omadm_limits_t loose_limits = {1000, 1000000, 64 * 1024 * 1024};

std::string hex(const std::string &s)
{
    static const char d[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

[[noreturn]] void die(const char *what, const std::string &a,
                      const std::string &b)
{
    std::fprintf(stderr, "fuzz_wbxml: %s\n--- first\n%s\n--- second\n%s\n",
                 what, hex(a).c_str(), hex(b).c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);

    omadm::message     m;
    omadm::parse_error err;
    if (!omadm::parse_wbxml(in, fuzz_limits, m, err)) {
        if (err.reason.empty()) die("refused without a reason", "", "");
        return 0;
    }

    std::string first = omadm::encode_wbxml(m);
    omadm::message m2;
    if (!omadm::parse_wbxml(first, loose_limits, m2, err)) {
        die(("own encoding does not decode: " + err.reason).c_str(), first,
            "");
    }
    std::string second = omadm::encode_wbxml(m2);
    if (second != first) die("encoding is not a fixed point", first, second);

    char  *out = nullptr, *why = nullptr;
    size_t out_len = 0;
    if (omadm_syncml_describe_as(OMADM_ENC_WBXML, first.data(), first.size(),
                                 &loose_limits, &out, &out_len, &why)
        != OMADM_OK) {
        die("describe refused what decoded", first, why ? why : "");
    }
    omadm_free(out);
    omadm_free(why);
    return 0;
}
