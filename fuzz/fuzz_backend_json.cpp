// libFuzzer: the backend-contract JSON reader (answers of "auth" and
// "exchange") and the request writers fed arbitrary strings, whose output
// must always be JSON that reads back to the same text when it was UTF-8.
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

// The writers: split the input in two strings at the first NUL.
void check_writers(std::string_view in)
{
    size_t           nul = in.find('\0');
    std::string_view a = in.substr(0, nul);
    std::string_view b = nul == std::string_view::npos ? std::string_view()
                                                        : in.substr(nul + 1);

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
