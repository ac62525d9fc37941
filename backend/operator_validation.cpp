#include "operator_validation.hpp"

#include <algorithm>
#include <array>

namespace omadm_backend {

namespace {

bool has_control_char(const std::string &s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

bool non_empty_string(const json &body, const char *name, std::string &out,
                      std::string &error)
{
    auto it = body.find(name);
    if (it == body.end() || !it->is_string()
        || it->get_ref<const std::string &>().empty()) {
        error = std::string("\"") + name + "\" must be a non-empty string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool optional_string(const json &body, const char *name,
                     std::optional<std::string> &out, std::string &error)
{
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        return true;
    }
    if (!it->is_string()) {
        error = std::string("\"") + name + "\" must be a string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

}  // namespace

std::optional<NewDevice> parse_new_device(const json &body, std::string &error)
{
    NewDevice d;
    if (!non_empty_string(body, "device_id", d.device_id, error)
        || !non_empty_string(body, "username", d.username, error)
        || !non_empty_string(body, "password", d.password, error)) {
        return std::nullopt;
    }
    if (has_control_char(d.device_id) || has_control_char(d.username)) {
        error = "\"device_id\" and \"username\" must not hold control"
                " characters";
        return std::nullopt;
    }
    return d;
}

std::optional<NewCommand> parse_new_command(const json &body,
                                            std::string &error)
{
    static const std::array<const char *, 5> verbs = {"Get", "Replace", "Add",
                                                      "Delete", "Exec"};
    NewCommand c;
    if (!non_empty_string(body, "verb", c.verb, error)) {
        return std::nullopt;
    }
    if (std::find(verbs.begin(), verbs.end(), c.verb) == verbs.end()) {
        error = "\"verb\" must be one of Get, Replace, Add, Delete, Exec";
        return std::nullopt;
    }
    if (!non_empty_string(body, "target", c.target, error)) {
        return std::nullopt;
    }
    // A node URI: relative ("./DevDetail/SwV") or any non-empty URI that
    // does not start with '/' (OMA DM URIs are never absolute paths).
    if (c.target[0] == '/' || c.target == "./" || has_control_char(c.target)) {
        error = "\"target\" must be a node URI such as \"./DevDetail/SwV\"";
        return std::nullopt;
    }
    if (!optional_string(body, "data", c.data, error)
        || !optional_string(body, "format", c.format, error)
        || !optional_string(body, "type", c.type, error)
        || !optional_string(body, "correlator", c.correlator, error)) {
        return std::nullopt;
    }
    if (c.correlator && c.verb != "Exec") {
        error = "\"correlator\" is only meaningful for Exec";
        return std::nullopt;
    }
    return c;
}

}  // namespace omadm_backend
