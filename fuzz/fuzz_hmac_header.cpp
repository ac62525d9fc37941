// libFuzzer: the x-syncml-hmac header parser.  What it accepts must obey
// its bounds and survive a canonical re-rendering unchanged; the MAC
// arithmetic runs on the same bytes as a body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/hmac_auth.hpp"

namespace {

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "fuzz_hmac_header: %s\n", what);
    std::abort();
}

std::string quoted(const std::string &s)
{
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + '"';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);

    omadm::hmac_header h;
    std::string        why;
    if (!omadm::parse_hmac_header(in, h, why)) {
        if (why.empty()) die("refused without a reason");
    } else {
        if (h.algorithm != "MD5") die("algorithm not canonical");
        if (h.username.empty() || h.username.size() > omadm::hmac_username_max)
            die("username out of bounds");
        if (h.mac.size() != 24) die("mac is not 24 chars");
        for (char c : h.username) {
            unsigned char u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) die("control in name");
        }

        // canonical form, parameters reversed: same fields back
        std::string again = "mac=" + h.mac + ", username="
                            + quoted(h.username) + ", algorithm=md5";
        omadm::hmac_header h2;
        if (again.size() <= omadm::hmac_header_max) {
            if (!omadm::parse_hmac_header(again, h2, why))
                die(("canonical form refused: " + why).c_str());
            if (h2.username != h.username || h2.mac != h.mac)
                die("canonical form parsed differently");
        }
        // what the server and omadm-sim send must read back the same
        std::string ours = omadm::hmac_header_value(h.username, h.mac);
        if (ours.size() <= omadm::hmac_header_max
            && (!omadm::parse_hmac_header(ours, h2, why)
                || h2.username != h.username || h2.mac != h.mac))
            die("hmac_header_value does not read back");
    }

    // the MAC over these bytes as a body; it must verify against itself
    static const std::string inner = "5JCaBwg5UOKeo+yimuXGew==";
    std::string nonce(in.substr(0, 16));
    std::string mac = omadm::hmac_mac(inner, nonce, in);
    if (mac.size() != 24 || !omadm::hmac_verify(inner, nonce, in, mac))
        die("mac does not verify");
    return 0;
}
