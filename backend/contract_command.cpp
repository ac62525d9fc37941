#include "contract_command.hpp"

#include "json_text.hpp"

#include <utility>

namespace omadm_backend {

json contract_command(const std::string &id, const NewCommand &c)
{
    json j = {{"id", id}, {"verb", c.verb}, {"target", c.target}};
    const std::pair<const char *, const std::optional<std::string> &>
        optional[] = {{"data", c.data},
                      {"format", c.format},
                      {"type", c.type},
                      {"correlator", c.correlator}};
    for (const auto &[name, value] : optional) {
        if (value && !value->empty()) {
            j[name] = *value;
        }
    }
    return j;
}

size_t empty_answer_bytes()
{
    return json_text(json{{"commands", json::array()}}).size();
}

}  // namespace omadm_backend
