#include "device_messages.hpp"

#include "codec/syncml_encoder.hpp"

namespace sim {

namespace {

omadm::message skeleton(const device_header &h)
{
    omadm::message m;
    m.version = omadm::syncml_version::v1_2;
    m.hdr.session_id = h.session_id;
    m.hdr.msg_id = std::to_string(h.msg_id);
    m.hdr.target = h.target_uri;
    m.hdr.source = h.device_id;
    m.hdr.source_name = h.username;
    if (!h.cred_type.empty()) {
        m.hdr.has_cred = true;
        m.hdr.cred.meta.type = h.cred_type;
        m.hdr.cred.meta.format = "b64";
        m.hdr.cred.data = h.cred_data;
    }
    m.hdr.meta.max_msg_size = "524288";
    m.final = true;
    return m;
}

omadm::command header_status_for(const omadm::message &server, unsigned id)
{
    omadm::command s;
    s.name = "Status";
    s.cmd_id = std::to_string(id);
    s.msg_ref = server.hdr.msg_id;
    s.cmd_ref = "0";
    s.cmd = "SyncHdr";
    s.target_refs.push_back(server.hdr.target);
    s.source_refs.push_back(server.hdr.source);
    s.data = "200";
    return s;
}

void flatten(const std::vector<omadm::command> &cmds,
             std::vector<const omadm::command *> &out)
{
    for (const auto &c : cmds) {
        if (c.name == "Status" || c.name == "Results") {
            continue;
        }
        out.push_back(&c);
        if (c.name == "Atomic" || c.name == "Sequence") {
            flatten(c.commands, out);
        }
    }
}

}  // namespace

const omadm::command *header_status(const omadm::message &m)
{
    for (const auto &c : m.body) {
        if (c.name == "Status" && c.cmd == "SyncHdr") {
            return &c;
        }
    }
    return nullptr;
}

std::vector<const omadm::command *> commands_to_answer(const omadm::message &m)
{
    std::vector<const omadm::command *> out;
    flatten(m.body, out);
    return out;
}

std::string package1(const device_header &h, const devinfo &info,
                     const omadm::message *previous,
                     const std::string &login_status)
{
    omadm::message m = skeleton(h);
    unsigned id = 1;
    if (previous != nullptr) {
        m.body.push_back(header_status_for(*previous, id++));
    }
    omadm::command alert;
    alert.name = "Alert";
    alert.cmd_id = std::to_string(id++);
    alert.data = "1201";
    m.body.push_back(alert);
    if (!login_status.empty()) {
        omadm::command login;
        login.name = "Alert";
        login.cmd_id = std::to_string(id++);
        login.data = "1224";
        omadm::item it;
        it.meta.type = "com.microsoft/MDM/LoginStatus";
        it.meta.format = "chr";
        it.data = login_status;
        login.items.push_back(it);
        m.body.push_back(login);
    }

    omadm::command replace;
    replace.name = "Replace";
    replace.cmd_id = std::to_string(id++);
    const std::pair<const char *, std::string> nodes[] = {
        {"./DevInfo/DevId", h.device_id}, {"./DevInfo/Man", info.man},
        {"./DevInfo/Mod", info.mod}, {"./DevInfo/DmV", info.dmv},
        {"./DevInfo/Lang", info.lang}};
    for (const auto &n : nodes) {
        omadm::item it;
        it.source = n.first;
        it.data = n.second;
        replace.items.push_back(it);
    }
    m.body.push_back(replace);
    return encode_syncml(m);
}

std::string answer_message(const device_header &h,
                           const omadm::message &server,
                           const std::vector<command_answer> &answers,
                           bool next_message)
{
    omadm::message m = skeleton(h);
    unsigned id = 1;
    m.body.push_back(header_status_for(server, id++));
    std::vector<omadm::command> results;
    for (const auto &a : answers) {
        omadm::command s;
        s.name = "Status";
        s.cmd_id = std::to_string(id++);
        s.msg_ref = server.hdr.msg_id;
        s.cmd_ref = a.cmd->cmd_id;
        s.cmd = a.cmd->name;
        if (!a.target.empty()) {
            s.target_refs.push_back(a.target);
        }
        s.data = std::to_string(a.result.status);
        m.body.push_back(s);
        if (a.cmd->name == "Get" && a.result.status == 200) {
            omadm::command r;
            r.name = "Results";
            r.msg_ref = server.hdr.msg_id;
            r.cmd_ref = a.cmd->cmd_id;
            omadm::item it;
            it.source = a.target;
            it.meta.format = "chr";
            it.meta.type = "text/plain";
            it.data = a.result.data;
            r.items.push_back(it);
            results.push_back(r);
        }
    }
    for (auto &r : results) {    // Results after every Status
        r.cmd_id = std::to_string(id++);
        m.body.push_back(std::move(r));
    }
    if (answers.empty() && next_message) {
        omadm::command alert;
        alert.name = "Alert";
        alert.cmd_id = std::to_string(id++);
        alert.data = "1222";
        m.body.push_back(alert);
        m.final = false;    // the server's package is still open
    }
    return encode_syncml(m);
}

}  // namespace sim
