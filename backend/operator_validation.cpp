#include "operator_validation.hpp"

#include "contract_command.hpp"
#include "json_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

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

bool within(const std::optional<std::string> &value, const char *name,
            size_t max_bytes, std::string &error)
{
    if (value && value->size() > max_bytes) {
        error = std::string("\"") + name + "\" is longer than "
                + std::to_string(max_bytes) + " bytes";
        return false;
    }
    return true;
}

// The command's size limits (contract_command.hpp says why). Data past
// max_data_bytes is refused outright; data that is within it but full of
// characters JSON must escape (up to 6 bytes each) could still make the
// command alone overflow an answer, so its contract form is measured too,
// with the longest id it could get.
bool within_limits(const NewCommand &c, std::string &error)
{
    if (!within(c.target, "target", max_target_bytes, error)
        || !within(c.format, "format", max_meta_bytes, error)
        || !within(c.type, "type", max_meta_bytes, error)
        || !within(c.correlator, "correlator", max_meta_bytes, error)) {
        return false;
    }
    if (c.data && c.data->size() > max_data_bytes) {
        error = "\"data\" is " + std::to_string(c.data->size())
                + " bytes, more than " + std::to_string(max_data_bytes)
                + " (256 KiB): large objects are not supported yet";
        return false;
    }
    std::string longest_id =
        std::to_string(std::numeric_limits<int64_t>::max());
    size_t bytes = json_text(contract_command(longest_id, c)).size();
    if (empty_answer_bytes() + bytes > max_answer_bytes) {
        error = "the command is " + std::to_string(bytes)
                + " bytes once JSON-escaped, more than one exchange answer"
                  " holds ("
                + std::to_string(max_answer_bytes)
                + "): large objects are not supported yet";
        return false;
    }
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
    if (!within_limits(c, error)) {
        return std::nullopt;
    }
    return c;
}

}  // namespace omadm_backend
