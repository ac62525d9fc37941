// libFuzzer: the backend-contract JSON reader (answers of "auth" and
// "exchange") and the request writers fed arbitrary strings, whose output
// must always be JSON that reads back to the same text when it was UTF-8,
// and the very bytes nlohmann::json's dump of the same object gives.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/command_json.hpp"
#include "backend/contract.hpp"

namespace {

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "fuzz_backend_json: %s\n", what);
    std::abort();
}

bool valid_utf8(std::string_view s)
{
    nlohmann::json j = std::string(s);
    try {
        (void) j.dump();
        return true;
    } catch (const nlohmann::json::type_error &) {
        return false;
    }
}

void check_readers(std::string_view body)
{
    std::string        why;
    omadm::auth_reply  a;
    if (!omadm::parse_auth_reply(body, a, why)) {
        if (why.empty()) die("auth answer refused without a reason");
    } else {
        // what the credential cache keeps reads back as it was
        omadm::auth_reply back;
        if (!omadm::parse_auth_reply(omadm::to_json(a), back, why)
            || back.inner != a.inner || back.nonce != a.nonce
            || back.previous_nonces != a.previous_nonces
            || back.credential_version != a.credential_version)
            die("a kept credential record does not read back");
    }
    std::string held;
    omadm::auth_reply record;
    bool has_record = false;
    why.clear();
    if (!omadm::parse_nonce_reply(body, held, record, has_record, why)
        && why.empty())
        die("nonce answer refused without a reason");

    std::vector<omadm::backend_command> cmds;
    why.clear();
    if (!omadm::parse_exchange_reply(body, cmds, why)) {
        if (why.empty()) die("exchange answer refused without a reason");
        return;
    }
    for (const auto &c : cmds) {
        std::string verb = omadm::verb_name(c.verb);
        bool targeted = verb == "Get" || verb == "Replace" || verb == "Add"
                        || verb == "Delete" || verb == "Exec"
                        || verb == "Copy";
        if (c.id.empty() || (targeted && c.target.empty()))
            die("empty id or target");
        if (!targeted && verb != "Alert" && verb != "Atomic"
            && verb != "Sequence")
            die("unknown verb accepted");
        // a command kept in the session state reads back as it was
        omadm::backend_command back;
        if (!omadm::read_command(omadm::to_json_value(c), back, why)
            || omadm::to_json_value(back) != omadm::to_json_value(c))
            die("a command does not read back as it was kept");
    }
}

// The request writers as they were, through nlohmann::json: the bytes they
// make now must be these.
using json = nlohmann::json;

std::string ref_dump(const json &j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ref_exchange(const omadm::exchange_request &r)
{
    json j = {
        {"device_id", r.device_id},
        {"session_id", r.session_id},
        {"msg_id", r.msg_id},
        {"session_start", r.session_start},
    };
    if (!r.used_nonce.empty()) j["used_nonce"] = r.used_nonce;
    if (!r.next_nonce.empty()) j["next_nonce"] = r.next_nonce;
    if (!r.credential_version.empty())
        j["credential_version"] = r.credential_version;
    if (!r.devinfo.empty()) j["devinfo"] = r.devinfo;
    j["alerts"] = json::array();
    for (const auto &a : r.alerts) {
        json items = json::array();
        for (const auto &i : a.items) {
            items.push_back({{"source", i.source}, {"target", i.target},
                             {"type", i.type},     {"format", i.format},
                             {"mark", i.mark},     {"data", i.data}});
        }
        j["alerts"].push_back({{"code", a.code},
                               {"correlator", a.correlator},
                               {"items", std::move(items)}});
    }
    j["statuses"] = json::array();
    for (const auto &s : r.statuses) {
        json st = {{"command_id", s.command_id}, {"status", s.status}};
        if (!s.items.empty()) {
            st["items"] = json::array();
            for (const auto &i : s.items) {
                st["items"].push_back({{"source", i.source},
                                       {"target", i.target},
                                       {"data", i.data}});
            }
        }
        j["statuses"].push_back(st);
    }
    j["results"] = json::array();
    for (const auto &x : r.results) {
        j["results"].push_back({{"command_id", x.command_id},
                                {"source", x.source},
                                {"format", x.format},
                                {"type", x.type},
                                {"data", x.data}});
    }
    j["max_commands"] = r.max_commands;
    if (!r.server_next_nonce.empty())
        j["server_next_nonce"] = r.server_next_nonce;
    if (!r.requeue.empty()) j["requeue"] = r.requeue;
    if (!r.failed.empty()) {
        j["failed"] = json::array();
        for (const auto &f : r.failed) {
            j["failed"].push_back(
                {{"command_id", f.command_id}, {"reason", f.reason}});
        }
    }
    return ref_dump(j);
}

std::string ref_auth_reply(const omadm::auth_reply &r)
{
    json j = {{"username", r.username},
              {"inner", r.inner},
              {"nonce", r.nonce},
              {"previous_nonces", r.previous_nonces}};
    auto add = [&j](const char *name, const std::string &v) {
        if (!v.empty()) j[name] = v;
    };
    add("server_username", r.server_username);
    add("server_inner", r.server_inner);
    add("server_basic", r.server_basic);
    add("server_nonce", r.server_nonce);
    add("credential_version", r.credential_version);
    return ref_dump(j);
}

// Every field of every request from the two strings, in turns.
void check_same_bytes(std::string_view a, std::string_view b)
{
    std::string sa(a), sb(b);
    if (omadm::auth_request(a, b)
        != ref_dump({{"device_id", sa}, {"username", sb}}))
        die("auth request bytes changed");
    if (omadm::nonce_request(b, a)
        != ref_dump({{"device_id", sb}, {"nonce", sa}}))
        die("nonce request bytes changed");
    unsigned long long off = sa.size() * 977ULL, len = ~0ULL - sb.size();
    if (omadm::object_request(a, b, off, len)
        != ref_dump({{"device_id", sa},
                     {"command_id", sb},
                     {"offset", off},
                     {"length", len}}))
        die("object request bytes changed");

    omadm::exchange_request r;
    r.device_id = sa;
    r.session_id = sb;
    r.msg_id = sb + sa;
    r.session_start = sa.size() % 2;
    r.used_nonce = sb;
    r.next_nonce = sa;
    r.credential_version = sb;
    r.devinfo[sa] = sb;
    r.devinfo[sb] = sa;
    omadm::alert_item item{sa, sb, sa, sb, sa, sb};
    r.alerts.push_back({sa, sb, {item, item}});
    r.alerts.push_back({sb, sa, {}});
    r.statuses.push_back({sa, -int(sb.size()), {{sa, sb, sa}}});
    r.statuses.push_back({sb, 200, {}});
    r.results.push_back({sb, sa, sb, sa, sb});
    r.max_commands = unsigned(sa.size() * 31);
    r.server_next_nonce = sa;
    r.requeue = {sa, sb};
    r.failed.push_back({sb, sa});
    if (omadm::to_json(r) != ref_exchange(r))
        die("exchange request bytes changed");
    omadm::exchange_request bare;  // the optional members left out
    bare.device_id = sb;
    bare.alerts.push_back({sa, sb, {}});
    if (omadm::to_json(bare) != ref_exchange(bare))
        die("exchange request (bare) bytes changed");

    omadm::auth_reply ar;
    ar.username = sa;
    ar.inner = sb;
    ar.previous_nonces = {sb, sa};
    if (omadm::to_json(ar) != ref_auth_reply(ar))
        die("credential record bytes changed");
    ar.nonce = sa;
    ar.server_username = sb;
    ar.server_inner = sa;
    ar.server_basic = sb;
    ar.server_nonce = sa;
    ar.credential_version = sb;
    if (omadm::to_json(ar) != ref_auth_reply(ar))
        die("credential record (full) bytes changed");
}

// The writers: split the input in two strings at the first NUL.
void check_writers(std::string_view in)
{
    size_t           nul = in.find('\0');
    std::string_view a = in.substr(0, nul);
    std::string_view b = nul == std::string_view::npos ? std::string_view()
                                                        : in.substr(nul + 1);
    check_same_bytes(a, b);

    auto j = nlohmann::json::parse(omadm::auth_request(a, b), nullptr, false);
    if (!j.is_object() || !j["device_id"].is_string()
        || !j["username"].is_string())
        die("auth request is not the JSON object of the contract");
    if (valid_utf8(a) && j["device_id"] != std::string(a))
        die("device_id changed on the way");
    if (valid_utf8(b) && j["username"] != std::string(b))
        die("username changed on the way");

    omadm::exchange_request r;
    r.device_id.assign(a);
    r.session_id.assign(b);
    r.msg_id = "1";
    r.devinfo[std::string(b)] = std::string(a);
    // fields by name: these structs grow as the contract does
    omadm::alert_item item;
    item.source.assign(b);
    item.data.assign(a);
    omadm::device_alert alert;
    alert.code.assign(a);
    alert.correlator.assign(b);
    alert.items.push_back(item);
    r.alerts.push_back(alert);
    omadm::status_report status;
    status.command_id.assign(a);
    status.status = 200;
    r.statuses.push_back(status);
    omadm::result_report result;
    result.command_id.assign(b);
    result.source.assign(a);
    r.results.push_back(result);
    auto e = nlohmann::json::parse(omadm::to_json(r), nullptr, false);
    if (!e.is_object() || !e["alerts"].is_array()
        || !e["statuses"].is_array() || !e["results"].is_array())
        die("exchange request is not the JSON object of the contract");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    check_readers(in);
    check_writers(in);
    return 0;
}
