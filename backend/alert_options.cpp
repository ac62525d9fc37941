#include "alert_options.hpp"

#include <cstdint>

namespace omadm_backend {

namespace {

using nlohmann::json;

// RFC 3986 unreserved characters stay, everything else is %XX.
std::string percent_encode(const std::string &s)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~';
        if (keep) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

bool digits(const std::string &s)
{
    if (s.empty() || s.size() > 9) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

// A seconds or length value: a non-negative integer, as a number or digits.
bool count_value(const json &v, std::string &out)
{
    if (v.is_number_unsigned()
        || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
        out = std::to_string(v.get<int64_t>());
        return out.size() <= 9;
    }
    if (v.is_string() && digits(v.get<std::string>())) {
        out = v.get<std::string>();
        return true;
    }
    return false;
}

}  // namespace

bool encode_alert_options(const json &options, const std::string &code,
                          std::string &out, std::string &error)
{
    static const char *order[] = {"MINDT", "MAXDT", "DR", "MAXLEN", "IT",
                                  "ET"};
    for (const auto &[name, value] : options.items()) {
        bool known = false;
        for (const char *o : order) {
            known = known || name == o;
        }
        if (!known) {
            error = "unknown alert option \"" + name
                    + "\" (MINDT, MAXDT, DR, MAXLEN, IT, ET)";
            return false;
        }
        (void) value;
    }
    out.clear();
    for (const char *name : order) {
        auto it = options.find(name);
        if (it == options.end() || it->is_null()) {
            continue;
        }
        std::string n(name), v;
        bool input_only = n == "MAXLEN" || n == "IT" || n == "ET";
        if (input_only && code != "1102") {
            error = "alert option \"" + n + "\" is only for text input (1102)";
            return false;
        }
        if (n == "MINDT" || n == "MAXDT" || n == "MAXLEN") {
            if (!count_value(*it, v)) {
                error = "alert option \"" + n
                        + "\" must be a non-negative integer";
                return false;
            }
        } else if (n == "DR") {
            if (it->is_number_integer()) {
                v = std::to_string(it->get<int64_t>());
            } else if (it->is_string()) {
                v = it->get<std::string>();
            } else {
                error = "alert option \"DR\" must be a string or an integer";
                return false;
            }
        } else {
            const char *allowed = n == "IT" ? "ANDTPI" : "TP";
            if (!it->is_string() || it->get<std::string>().size() != 1
                || std::string(allowed).find(it->get<std::string>()[0])
                       == std::string::npos) {
                error = n == "IT" ? "alert option \"IT\" must be one of A, N,"
                                    " D, T, P, I"
                                  : "alert option \"ET\" must be T or P";
                return false;
            }
            v = it->get<std::string>();
        }
        out += (out.empty() ? "" : "&") + n + "=" + percent_encode(v);
    }
    return true;
}

}  // namespace omadm_backend
