// libFuzzer: the backend's parser of raw SyncML profiles
// (backend/profile_syncml.cpp, built into this target from source: it needs
// expat and headers only, not the backend).  A refusal names the problem
// with a line inside the text; what it accepts is a non-empty list of
// settings, each a known verb with a target, lines inside the text and
// ascending, Atomic numbers from 1 without gaps; and parsing is a function
// of the text (the same input gives the same answer).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "profile_syncml.hpp"

namespace {

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "fuzz_profile_syncml: %s\n", what);
    std::abort();
}

// Lines as XML counts them: LF, CR LF and a lone CR each end one.
int64_t lines_of(const std::string &s)
{
    int64_t n = 1;
    for (size_t i = 0; i < s.size(); i++) {
        n += s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'));
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace omadm_backend;
    std::string text(reinterpret_cast<const char *>(data), size);
    std::vector<ProfileSetting> out;
    ProfileError err;
    bool ok = parse_profile_syncml(text, out, err);

    std::vector<ProfileSetting> again;
    ProfileError err2;
    if (parse_profile_syncml(text, again, err2) != ok
        || again.size() != out.size() || err2.error != err.error
        || err2.line != err.line) {
        die("two parses of one text differ");
    }
    int64_t last_line = lines_of(text);
    if (!ok) {
        if (err.error.empty()) die("refused without a reason");
        if (err.line < 0 || err.line > last_line) die("error line outside the text");
        return 0;
    }
    if (out.empty()) die("accepted without a setting");
    static const std::set<std::string> verbs = {"Replace", "Add", "Exec", "Delete"};
    int64_t prev_line = 0, max_atomic = 0;
    for (const ProfileSetting &s : out) {
        if (!verbs.count(s.verb)) die("a setting with an unknown verb");
        if (s.target.empty()) die("a setting without target");
        if (s.line < 1 || s.line > last_line) die("a setting's line outside the text");
        if (s.line < prev_line) die("settings out of document order");
        prev_line = s.line;
        if (s.atomic < 0 || s.atomic > max_atomic + 1) die("Atomic numbers with a gap");
        if (s.atomic > max_atomic) max_atomic = s.atomic;
    }
    return 0;
}
