#include "profile_validation.hpp"

#include "operator_validation.hpp"
#include "profile_syncml.hpp"
#include "setting_values.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace omadm_backend {

using nlohmann::json;

namespace {

// The formats of the custom-setting shape (Intune's OMA-URI data types);
// raw SyncML may also Add an interior node or send no value.
const std::set<std::string> setting_formats = {"int", "chr", "bool", "b64",
                                               "xml"};
const std::set<std::string> syncml_formats = {"int", "chr",  "bool", "b64",
                                              "xml", "node", "null"};

// Where a problem is: a line of the uploaded SyncML, or settings[i].
ProfileError problem(const ProfileSetting &s, size_t index,
                     const std::string &what)
{
    if (s.line > 0) {
        return {what, s.line};
    }
    return {"settings[" + std::to_string(index) + "]: " + what, 0};
}

json command_body(const ProfileSetting &s)
{
    json j = {{"verb", s.verb}, {"target", s.target}};
    if (s.data) {
        j["data"] = *s.data;
    }
    if (s.format) {
        j["format"] = *s.format;
    }
    if (s.type) {
        j["type"] = *s.type;
    }
    return j;
}

// A setting's "remove": {"verb": "Delete"} or {"verb": "Replace", "data",
// "format"? (the setting's), "type"?}.
template <class Fail>
bool read_remove(const json &r, ProfileSetting &s, Fail &fail)
{
    if (!r.is_object() || !r.contains("verb") || !r["verb"].is_string()
        || (r["verb"] != "Delete" && r["verb"] != "Replace")) {
        return fail("\"remove\" must be {\"verb\": \"Delete\"} or"
                    " {\"verb\": \"Replace\", \"data\": …}");
    }
    for (const auto &field : r.items()) {
        if (field.key() != "verb" && field.key() != "format"
            && field.key() != "type" && field.key() != "data") {
            return fail("unknown field \"" + field.key()
                        + "\" in \"remove\" (verb, format, type, data)");
        }
    }
    s.remove_verb = r["verb"].get<std::string>();
    if (*s.remove_verb == "Delete") {
        if (r.size() > 1) {
            return fail("a \"remove\" Delete takes no format, type or data");
        }
        return true;
    }
    s.remove_format = s.format;
    if (r.contains("format")) {
        if (!r["format"].is_string()
            || !setting_formats.count(r["format"].get<std::string>())) {
            return fail("\"remove\": \"format\" must be one of int, chr, bool,"
                        " b64, xml");
        }
        s.remove_format = r["format"].get<std::string>();
    }
    if (r.contains("type")) {
        if (!r["type"].is_string()) {
            return fail("\"remove\": \"type\" must be a string");
        }
        s.remove_type = r["type"].get<std::string>();
    }
    const json *data = r.contains("data") ? &r["data"] : nullptr;
    if (data && data->is_string()) {
        s.remove_data = data->get<std::string>();
    } else if (data && data->is_number_integer()) {
        s.remove_data = std::to_string(data->get<int64_t>());
    } else if (data && data->is_boolean()) {
        s.remove_data = data->get<bool>() ? "true" : "false";
    } else {
        return fail("\"remove\": a Replace needs \"data\" (the default value)");
    }
    std::string why;
    if (!valid_value(s.remove_format.value_or("chr"), *s.remove_data, why)) {
        return fail("\"remove\": the value " + why);
    }
    return true;
}

// One element of "settings": {"target", "format", "type"?, "data"}; an int
// or bool value may be given as a JSON number or boolean.
bool read_setting(const json &j, size_t index, ProfileSetting &s,
                  ProfileError &err)
{
    s.verb = "Replace";
    auto fail = [&](const std::string &what) {
        err = problem(s, index, what);
        return false;
    };
    if (!j.is_object()) {
        return fail("a setting must be a JSON object");
    }
    for (const auto &field : j.items()) {
        if (field.key() != "target" && field.key() != "format"
            && field.key() != "type" && field.key() != "data"
            && field.key() != "verify" && field.key() != "secret"
            && field.key() != "remove") {
            return fail("unknown field \"" + field.key()
                        + "\" (a setting has target, format, type, data,"
                          " verify, secret, remove)");
        }
    }
    auto target = j.find("target");
    if (target == j.end() || !target->is_string()) {
        return fail("\"target\" must be a node URI such as"
                    " \"./Device/Vendor/MSFT/Policy/Config/…\"");
    }
    s.target = target->get<std::string>();
    auto format = j.find("format");
    if (format == j.end() || !format->is_string()
        || !setting_formats.count(format->get<std::string>())) {
        return fail("\"format\" must be one of int, chr, bool, b64, xml");
    }
    s.format = format->get<std::string>();
    auto type = j.find("type");
    if (type != j.end() && !type->is_null()) {
        if (!type->is_string()) {
            return fail("\"type\" must be a string");
        }
        s.type = type->get<std::string>();
    }
    auto verify = j.find("verify");
    if (verify != j.end()) {
        if (!verify->is_boolean()) {
            return fail("\"verify\" must be true or false");
        }
        s.verify = verify->get<bool>();
    }
    auto secret = j.find("secret");
    if (secret != j.end()) {
        if (!secret->is_boolean()) {
            return fail("\"secret\" must be true or false");
        }
        s.secret = secret->get<bool>();
    }
    auto remove = j.find("remove");
    if (remove != j.end() && !read_remove(*remove, s, fail)) {
        return false;
    }
    auto data = j.find("data");
    if (data != j.end() && data->is_string()) {
        s.data = data->get<std::string>();
    } else if (data != j.end() && data->is_number_integer()
               && s.format == "int") {
        s.data = std::to_string(data->get<int64_t>());
    } else if (data != j.end() && data->is_boolean() && s.format == "bool") {
        s.data = data->get<bool>() ? "true" : "false";
    } else {
        return fail("\"data\" must be a string (the value to set)");
    }
    return true;
}

// The limits of an operator command (operator_validation.cpp), for each
// setting and for each Atomic as a whole.
bool within_command_limits(const std::vector<ProfileSetting> &settings,
                           ProfileError &err)
{
    std::map<int64_t, std::vector<size_t>> atomics;
    for (size_t i = 0; i < settings.size(); i++) {
        std::string error;
        if (!parse_new_command(command_body(settings[i]), error)) {
            err = problem(settings[i], i, error);
            return false;
        }
        if (settings[i].atomic) {
            atomics[settings[i].atomic].push_back(i);
        }
    }
    for (const auto &[number, members] : atomics) {
        json atomic = {{"verb", "Atomic"}, {"commands", json::array()}};
        for (size_t i : members) {
            atomic["commands"].push_back(command_body(settings[i]));
        }
        std::string error;
        if (parse_new_command(atomic, error)) {
            continue;
        }
        // "commands[2]: ..." names the member at fault
        size_t member = 0;
        if (error.rfind("commands[", 0) == 0) {
            member = std::stoul(error.substr(9));
            error = error.substr(error.find("]: ") + 3);
        }
        err = problem(settings[members[std::min(member, members.size() - 1)]],
                      members[0], "in its Atomic: " + error);
        return false;
    }
    return true;
}

bool check_settings(const std::vector<ProfileSetting> &settings, bool raw,
                    ProfileError &err)
{
    if (settings.empty()) {
        err = {"a profile needs at least one setting", 0};
        return false;
    }
    if (settings.size() > max_profile_settings) {
        err = problem(settings[max_profile_settings], max_profile_settings,
                      "at most " + std::to_string(max_profile_settings)
                          + " settings per profile");
        return false;
    }
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < settings.size(); i++) {
        const ProfileSetting &s = settings[i];
        if (raw && s.format && !syncml_formats.count(*s.format)) {
            err = problem(s, i, "Format \"" + *s.format
                                    + "\" is not one of int, chr, bool,"
                                      " b64, xml, node, null");
            return false;
        }
        std::string why;
        if ((s.verb == "Replace" || s.verb == "Add") && s.data
            && !valid_value(s.format.value_or("chr"), *s.data, why)) {
            err = problem(s, i, "the value of " + s.target + " " + why);
            return false;
        }
        auto [earlier, fresh] = seen.emplace(s.target, i);
        if (!fresh) {
            const ProfileSetting &first = settings[earlier->second];
            err = problem(s, i, s.target + " is set twice ("
                                    + (raw ? "lines "
                                                 + std::to_string(first.line)
                                                 + " and "
                                                 + std::to_string(s.line)
                                           : "settings["
                                                 + std::to_string(
                                                     earlier->second)
                                                 + "] and settings["
                                                 + std::to_string(i) + "]")
                                    + ")");
            return false;
        }
    }
    return within_command_limits(settings, err);
}

}  // namespace

bool valid_name(const std::string &name, std::string &error)
{
    size_t chars = 0;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            error = "\"name\" must not hold control characters";
            return false;
        }
        if ((u & 0xc0) != 0x80) {  // not a UTF-8 continuation byte
            chars++;
        }
    }
    if (chars < 1 || chars > max_name_chars) {
        error = "\"name\" must be 1 to " + std::to_string(max_name_chars)
                + " characters";
        return false;
    }
    return true;
}

std::optional<std::string> parse_group_name(const json &body,
                                            std::string &error)
{
    auto name = body.find("name");
    if (name == body.end() || !name->is_string()) {
        error = "\"name\" must be a string";
        return std::nullopt;
    }
    for (const auto &field : body.items()) {
        if (field.key() != "name") {
            error = "unknown field \"" + field.key() + "\"";
            return std::nullopt;
        }
    }
    if (!valid_name(name->get<std::string>(), error)) {
        return std::nullopt;
    }
    return name->get<std::string>();
}

std::optional<NewProfile>
parse_new_profile(const json &body, const std::optional<std::string> &path_name,
                  ProfileError &err)
{
    NewProfile p;
    for (const auto &field : body.items()) {
        if (field.key() != "name" && field.key() != "settings"
            && field.key() != "syncml") {
            err = {"unknown field \"" + field.key()
                       + "\" (a profile has name and settings or syncml)",
                   0};
            return std::nullopt;
        }
    }
    auto name = body.find("name");
    if (name != body.end() && !name->is_string()) {
        err = {"\"name\" must be a string", 0};
        return std::nullopt;
    }
    if (path_name) {
        if (name != body.end() && name->get<std::string>() != *path_name) {
            err = {"\"name\" differs from the profile's name in the path", 0};
            return std::nullopt;
        }
        p.name = *path_name;
    } else if (name == body.end()) {
        err = {"\"name\" must be a string", 0};
        return std::nullopt;
    } else {
        p.name = name->get<std::string>();
    }
    if (!valid_name(p.name, err.error)) {
        return std::nullopt;
    }
    auto settings = body.find("settings");
    auto syncml = body.find("syncml");
    if ((settings == body.end()) == (syncml == body.end())) {
        err = {"give either \"settings\" (a list) or \"syncml\" (raw SyncML"
               " commands), not both",
               0};
        return std::nullopt;
    }
    if (syncml != body.end()) {
        if (!syncml->is_string()) {
            err = {"\"syncml\" must be a string of SyncML commands", 0};
            return std::nullopt;
        }
        p.syncml = syncml->get<std::string>();
        if (!parse_profile_syncml(*p.syncml, p.settings, err)) {
            return std::nullopt;
        }
    } else {
        if (!settings->is_array()) {
            err = {"\"settings\" must be a list of settings", 0};
            return std::nullopt;
        }
        for (size_t i = 0; i < settings->size(); i++) {
            ProfileSetting s;
            if (i >= max_profile_settings) {
                break;  // check_settings says so
            }
            if (!read_setting((*settings)[i], i, s, err)) {
                return std::nullopt;
            }
            p.settings.push_back(std::move(s));
        }
        if (settings->size() > max_profile_settings) {
            err = {"at most " + std::to_string(max_profile_settings)
                       + " settings per profile",
                   0};
            return std::nullopt;
        }
    }
    if (!check_settings(p.settings, p.syncml.has_value(), err)) {
        return std::nullopt;
    }
    return p;
}

}  // namespace omadm_backend
