#include "backend_json.hpp"

#include <nlohmann/json.hpp>

namespace omadm {

using json = nlohmann::json;

namespace {

std::string dump(const json &j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A member that must be a string when present; absent/null gives "".
bool optional_string(const json &obj, const char *name, std::string &out)
{
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
        out.clear();
        return true;
    }
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
}

bool required_string(const json &obj, const char *name, std::string &out)
{
    auto it = obj.find(name);
    if (it == obj.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
}

bool known_verb(const std::string &v)
{
    return v == "Get" || v == "Replace" || v == "Add" || v == "Delete"
           || v == "Exec";
}

}  // namespace

std::string auth_request(std::string_view device_id,
                         std::string_view username)
{
    return dump({{"device_id", device_id}, {"username", username}});
}

std::string nonce_request(std::string_view device_id,
                          std::string_view nonce_b64)
{
    return dump({{"device_id", device_id}, {"nonce", nonce_b64}});
}

std::string to_json(const exchange_request &r)
{
    json j = {
        {"device_id", r.device_id},
        {"session_id", r.session_id},
        {"msg_id", r.msg_id},
        {"session_start", r.session_start},
    };
    if (!r.used_nonce.empty()) j["used_nonce"] = r.used_nonce;
    if (!r.next_nonce.empty()) j["next_nonce"] = r.next_nonce;
    if (!r.devinfo.empty()) j["devinfo"] = r.devinfo;

    json alerts = json::array();
    for (const auto &a : r.alerts) {
        json items = json::array();
        for (const auto &i : a.items) {
            items.push_back({{"source", i.source}, {"target", i.target},
                             {"type", i.type}, {"format", i.format},
                             {"mark", i.mark}, {"data", i.data}});
        }
        alerts.push_back({{"code", a.code}, {"correlator", a.correlator},
                          {"items", std::move(items)}});
    }
    j["alerts"] = std::move(alerts);

    json statuses = json::array();
    for (const auto &s : r.statuses) {
        statuses.push_back({{"command_id", s.command_id},
                            {"status", s.status}});
    }
    j["statuses"] = std::move(statuses);

    json results = json::array();
    for (const auto &x : r.results) {
        results.push_back({{"command_id", x.command_id},
                           {"source", x.source}, {"format", x.format},
                           {"type", x.type}, {"data", x.data}});
    }
    j["results"] = std::move(results);
    j["max_commands"] = r.max_commands;
    return dump(j);
}

bool parse_auth_reply(std::string_view body, auth_reply &out,
                      std::string &why)
{
    json j = json::parse(body, nullptr, false);
    if (!j.is_object()) {
        why = "backend auth answer is not a JSON object";
        return false;
    }
    if (!required_string(j, "username", out.username)
        || !required_string(j, "inner", out.inner)
        || !optional_string(j, "nonce", out.nonce)) {
        why = "backend auth answer lacks username/inner or has a bad nonce";
        return false;
    }
    out.previous_nonces.clear();
    auto prev = j.find("previous_nonces");
    if (prev == j.end() || prev->is_null()) return true;
    if (!prev->is_array() || prev->size() > max_previous_nonces) {
        why = "backend auth answer has a bad previous_nonces";
        return false;
    }
    for (const auto &n : *prev) {
        if (!n.is_string()) {
            why = "backend auth answer has a bad previous_nonces";
            return false;
        }
        out.previous_nonces.push_back(n.get<std::string>());
    }
    return true;
}

bool parse_exchange_reply(std::string_view body,
                          std::vector<backend_command> &out,
                          std::string &why)
{
    json j = json::parse(body, nullptr, false);
    auto it = j.is_object() ? j.find("commands") : j.end();
    if (!j.is_object() || it == j.end() || !it->is_array()) {
        why = "backend exchange answer has no \"commands\" array";
        return false;
    }
    out.clear();
    for (const auto &c : *it) {
        backend_command cmd;
        if (!c.is_object() || !required_string(c, "id", cmd.id)
            || cmd.id.empty() || !required_string(c, "verb", cmd.verb)
            || !required_string(c, "target", cmd.target)
            || cmd.target.empty()
            || !optional_string(c, "data", cmd.data)
            || !optional_string(c, "format", cmd.format)
            || !optional_string(c, "type", cmd.type)
            || !optional_string(c, "correlator", cmd.correlator)) {
            why = "backend exchange answer has a malformed command";
            return false;
        }
        if (!known_verb(cmd.verb)) {
            // Never acknowledge what we cannot deliver: the backend would
            // mark it sent and wait for a Status that cannot come.
            why = "backend sent unknown verb";
            return false;
        }
        out.push_back(std::move(cmd));
    }
    return true;
}

}  // namespace omadm
