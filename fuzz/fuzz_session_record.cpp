// libFuzzer: the session record the exchange keeps in the store
// (session/session_state.cpp: compact binary, the kept answer deflated).
//
// Input: the first byte picks what the rest is.
//   'R' + bytes     a record as the store might hold it: anything, a JSON
//                   blob of the module before this one included.  What
//                   reads must write back to a record that reads the same.
//   otherwise       fields, separated by NUL bytes, of a session the
//                   record must keep exactly: token, device MsgID, print,
//                   username, response HMAC, kept answer, then pairs of
//                   outstanding keys and command ids; the first byte's
//                   bits are the flags.  The record is then damaged as the
//                   last two bytes say (a cut, a flipped byte): a cut
//                   record never reads, a flipped one reads or not but
//                   never crashes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "session/session_state.hpp"

namespace {

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "fuzz_session_record: %s\n", what);
    std::abort();
}

std::vector<std::string_view> fields(std::string_view in)
{
    std::vector<std::string_view> out;
    size_t start = 0;
    for (size_t i = 0; i <= in.size(); i++) {
        if (i == in.size() || in[i] == '\0') {
            out.push_back(in.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

// what reads must write back the same
void check_round_trip(const omadm::session_state &st)
{
    std::string again = omadm::serialize(st);
    omadm::session_state st2;
    if (!omadm::deserialize(again, st2)) die("a written record does not read");
    if (omadm::describe(st2) != omadm::describe(st))
        die("a record does not read back as written");
}

void raw_record(std::string_view rec)
{
    omadm::session_state st;
    if (omadm::deserialize(rec, st)) check_round_trip(st);
}

void built_record(unsigned char flags, std::string_view in)
{
    auto f = fields(in);
    auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string_view(); };
    omadm::session_state st;
    st.authenticated = flags & 1;
    st.ended = flags & 2;
    st.package_open = flags & 4;
    st.server_authenticated = flags & 8;
    st.server_cred_sent = flags & 16;
    st.scheme = (flags & 32) ? omadm::auth_scheme::md5
                             : omadm::auth_scheme::basic;
    st.server_msg_id = in.size();
    st.token = at(0);
    st.last_device_msg_id = at(1);
    st.last_request_print = at(2);
    st.username = at(3);
    st.last_response_hmac = at(4);
    st.last_response = at(5);
    st.mac_nonce = omadm::nonce::from_b64(at(6));
    for (size_t i = 7; i + 1 < f.size(); i += 2)
        st.outstanding[std::string(f[i])] = std::string(f[i + 1]);
    if (flags & 64) st.held["1:2"] = 200;

    std::string rec = omadm::serialize(st);
    omadm::session_state back;
    if (!omadm::deserialize(rec, back)) die("a written record does not read");
    if (omadm::describe(back) != omadm::describe(st))
        die("a record does not read back as written");

    // damage: the last two input bytes (a cut, or a byte flipped)
    if (in.size() < 2) return;
    size_t pos = ((unsigned char) in[in.size() - 2] << 8
                  | (unsigned char) in[in.size() - 1])
                 % rec.size();
    omadm::session_state damaged;
    if (omadm::deserialize(std::string_view(rec).substr(0, pos), damaged))
        die("a cut record reads");
    rec[pos] = char(rec[pos] ^ (flags | 1));
    if (omadm::deserialize(rec, damaged)) check_round_trip(damaged);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);
    if (data[0] == 'R')
        raw_record(in);
    else
        built_record(data[0], in);
    return 0;
}
