#include "session/command_tree.hpp"

#include "common/text.hpp"

namespace omadm {

namespace {

item data_item(const std::string &data)
{
    item it;
    it.data = data;
    return it;
}

}  // namespace

command to_syncml(const backend_command &bc, const std::string &msg_id,
                  unsigned &next_cmd_id,
                  std::map<std::string, std::string> &outstanding)
{
    command c;
    c.name = verb_name(bc.verb);
    c.cmd_id = std::to_string(next_cmd_id++);
    if (!is_session_abort(bc)) outstanding[msg_id + ":" + c.cmd_id] = bc.id;

    if (is_container(bc.verb)) {
        for (const auto &child : bc.commands)
            c.commands.push_back(
                to_syncml(child, msg_id, next_cmd_id, outstanding));
        return c;
    }
    if (bc.verb == verb::alert) {
        c.data = bc.data;
        if (is_session_abort(bc)) return c;
        // Item 1: the options (an empty <Item/> when none, as the alert's
        // item positions are fixed), Item 2: the text, Items 3+: choices.
        c.items.push_back(data_item(bc.options));
        c.items.push_back(data_item(bc.text));
        for (const auto &choice : bc.choices)
            c.items.push_back(data_item(choice));
        return c;
    }
    if (bc.verb == verb::exec) c.correlator = bc.correlator;
    item it;
    it.target = bc.target;
    it.source = bc.source;  // Copy: the node copied
    it.meta.format = bc.format;
    it.meta.type = bc.type;
    it.data = bc.data;
    c.items.push_back(std::move(it));
    return c;
}

bool device_aborted(const message &m)
{
    for (const auto &c : m.body) {
        if (c.name == "Alert" && trim(c.data) == "1223") return true;
    }
    return false;
}

}  // namespace omadm
