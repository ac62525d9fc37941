#include "outcome.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sim {

bool parse_mix(const std::string &text, outcome_mix &out, std::string &err)
{
    outcome_mix m{0, 0, 0, 0};
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        auto eq = part.find('=');
        if (eq == std::string::npos) {
            err = "--mix: expected name=weight, got \"" + part + "\"";
            return false;
        }
        std::string name = part.substr(0, eq), num = part.substr(eq + 1);
        char *end = nullptr;
        unsigned long w = std::strtoul(num.c_str(), &end, 10);
        if (num.empty() || *end != '\0' || w > 1000000) {
            err = "--mix: bad weight \"" + num + "\"";
            return false;
        }
        if (name == "ok") {
            m.ok = w;
        } else if (name == "notfound") {
            m.notfound = w;
        } else if (name == "fail") {
            m.fail = w;
        } else if (name == "slow") {
            m.slow = w;
        } else {
            err = "--mix: unknown outcome \"" + name
                  + "\" (ok, notfound, fail, slow)";
            return false;
        }
    }
    if (m.ok + m.notfound + m.fail + m.slow == 0) {
        err = "--mix: all weights are zero";
        return false;
    }
    out = m;
    return true;
}

namespace {

uint64_t fnv1a(uint64_t h, const std::string &s)
{
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// splitmix64's finalizer: spreads FNV's weak low bits over the word
uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

uint64_t stable_hash(uint64_t seed, const std::string &a, const std::string &b)
{
    const std::string sep(1, '\0');
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, std::to_string(seed));
    h = fnv1a(h, sep);
    h = fnv1a(h, a);
    h = fnv1a(h, sep);
    h = fnv1a(h, b);
    return mix64(h);
}

outcome decide_outcome(const outcome_mix &mix, uint64_t seed,
                       const std::string &device_id, const std::string &target)
{
    uint64_t h = stable_hash(seed, device_id, target);
    uint64_t total = uint64_t(mix.ok) + mix.notfound + mix.fail + mix.slow;
    uint64_t bucket = (h >> 11) % total;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long) h);

    if (bucket < mix.ok) {
        return {outcome_kind::ok, 200, std::string("v-") + hex};
    }
    bucket -= mix.ok;
    if (bucket < mix.notfound) {
        return {outcome_kind::notfound, 404, ""};
    }
    bucket -= mix.notfound;
    if (bucket < mix.fail) {
        return {outcome_kind::fail, 500, ""};
    }
    return {outcome_kind::slow, 200, std::string("v-") + hex};
}

}  // namespace sim
