#include "contract_command.hpp"

#include "json_text.hpp"

#include <utility>

namespace omadm_backend {

bool may_be_large_object(const std::string &verb, bool top_level)
{
    return top_level && (verb == "Add" || verb == "Replace");
}

bool goes_by_size(const std::string &verb, bool top_level, size_t data_bytes)
{
    return may_be_large_object(verb, top_level) && data_bytes > inline_data_max;
}

json contract_command(const std::string &id, const NewCommand &c,
                      bool top_level, std::optional<size_t> stored_data_size)
{
    json j = {{"id", id}, {"verb", c.verb}};
    if (!c.target.empty()) {
        j["target"] = c.target;
    }
    if (!stored_data_size && c.data
        && goes_by_size(c.verb, top_level, c.data->size())) {
        stored_data_size = c.data->size();
    }
    if (stored_data_size) {
        j["data_size"] = *stored_data_size;
    }
    const std::pair<const char *, const std::optional<std::string> &>
        optional[] = {{"format", c.format},         {"type", c.type},
                      {"correlator", c.correlator}, {"source", c.source},
                      {"options", c.options},       {"text", c.text}};
    for (const auto &[name, value] : optional) {
        if (value && !value->empty()) {
            j[name] = *value;
        }
    }
    if (!stored_data_size && c.data && !c.data->empty()) {
        j["data"] = *c.data;
    }
    if (!c.choices.empty()) {
        j["choices"] = c.choices;
    }
    if (!c.commands.empty()) {
        // Only for measuring (operator validation): every child gets `id`.
        json children = json::array();
        for (const NewCommand &child : c.commands) {
            children.push_back(contract_command(id, child, false));
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
