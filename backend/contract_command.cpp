#include "contract_command.hpp"

#include "json_text.hpp"

#include <utility>

namespace omadm_backend {

json contract_command(const std::string &id, const NewCommand &c)
{
    json j = {{"id", id}, {"verb", c.verb}};
    if (!c.target.empty()) {
        j["target"] = c.target;
    }
    const std::pair<const char *, const std::optional<std::string> &>
        optional[] = {{"data", c.data},         {"format", c.format},
                      {"type", c.type},         {"correlator", c.correlator},
                      {"source", c.source},     {"options", c.options},
                      {"text", c.text}};
    for (const auto &[name, value] : optional) {
        if (value && !value->empty()) {
            j[name] = *value;
        }
    }
    if (!c.choices.empty()) {
        j["choices"] = c.choices;
    }
    if (!c.commands.empty()) {
        // Only for measuring (operator validation): every child gets `id`.
        json children = json::array();
        for (const NewCommand &child : c.commands) {
            children.push_back(contract_command(id, child));
        }
        j["commands"] = std::move(children);
    }
    return j;
}

size_t empty_answer_bytes()
{
    return json_text(json{{"commands", json::array()}}).size();
}

}  // namespace omadm_backend
