// JSON text written straight into one string, the way nlohmann::json's
// dump(-1, ' ', false, replace) writes it (the contract's bodies were made
// that way): no spaces, UTF-8 left as it is, bytes that are not UTF-8
// replaced.  Members must be written in nlohmann's order, sorted by name,
// so that the bytes stay the same.
#pragma once

#include <string>
#include <string_view>

namespace omadm {

class json_writer {
public:
    explicit json_writer(size_t reserve = 256) { out_.reserve(reserve); }

    json_writer &begin_object();
    json_writer &end_object();
    json_writer &begin_array();
    json_writer &end_array();
    // A member's name; its value comes next.
    json_writer &key(std::string_view name);
    json_writer &value(std::string_view s);
    json_writer &value(const char *s) { return value(std::string_view(s)); }
    json_writer &value(bool b);
    json_writer &value(unsigned long long n);
    json_writer &value(long long n);
    json_writer &value(unsigned n) { return value((unsigned long long) n); }
    json_writer &value(int n) { return value((long long) n); }
    template <class T> json_writer &member(std::string_view name, const T &v)
    {
        return key(name).value(v);
    }

    std::string take() { return std::move(out_); }

private:
    void separate();
    void string_body(std::string_view s);

    std::string out_;
    bool first_ = true;  // nothing written yet in the open object/array
};

}  // namespace omadm
