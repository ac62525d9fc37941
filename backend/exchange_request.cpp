// Validation of the `exchange` body. Strict on types, so a module bug shows
// up as a 400 with the field named, not as silently dropped data.
#include "exchange_request.hpp"

namespace omadm_backend {

using nlohmann::json;

namespace {

struct Invalid {
    std::string what;
};

std::string required_string(const json &o, const char *key)
{
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) {
        throw Invalid{std::string("\"") + key + "\" must be a string"};
    }
    return it->get<std::string>();
}

// Absent or null gives `fallback`.
std::string optional_string(const json &o, const char *key,
                            const std::string &fallback = "")
{
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_string()) {
        throw Invalid{std::string("\"") + key + "\" must be a string"};
    }
    return it->get<std::string>();
}

std::optional<std::string> maybe_string(const json &o, const char *key)
{
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        return std::nullopt;
    }
    return optional_string(o, key);
}

const json &array_of_objects(const json &o, const char *key)
{
    static const json empty = json::array();
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        return empty;
    }
    if (!it->is_array()) {
        throw Invalid{std::string("\"") + key + "\" must be an array"};
    }
    for (const json &e : *it) {
        if (!e.is_object()) {
            throw Invalid{std::string("\"") + key
                          + "\" must hold only objects"};
        }
    }
    return *it;
}

// An alert code is a string in the contract; a number is accepted too.
std::string alert_code(const json &a)
{
    auto it = a.find("code");
    if (it != a.end() && it->is_number_integer()) {
        return std::to_string(it->get<int64_t>());
    }
    return required_string(a, "code");
}

void parse(const json &b, ExchangeRequest &r)
{
    r.device_id = required_string(b, "device_id");
    r.session_id = required_string(b, "session_id");
    r.msg_id = required_string(b, "msg_id");

    auto ss = b.find("session_start");
    if (ss != b.end() && !ss->is_null()) {
        if (!ss->is_boolean()) {
            throw Invalid{"\"session_start\" must be a boolean"};
        }
        r.session_start = ss->get<bool>();
    }

    r.used_nonce = maybe_string(b, "used_nonce");
    r.next_nonce = maybe_string(b, "next_nonce");
    r.credential_version = maybe_string(b, "credential_version");
    r.server_next_nonce = maybe_string(b, "server_next_nonce");
    auto rq = b.find("requeue");
    if (rq != b.end() && !rq->is_null()) {
        if (!rq->is_array()) {
            throw Invalid{"\"requeue\" must be an array of strings"};
        }
        for (const json &id : *rq) {
            if (!id.is_string()) {
                throw Invalid{"\"requeue\" must be an array of strings"};
            }
            r.requeue.push_back(id.get<std::string>());
        }
    }

    for (const json &f : array_of_objects(b, "failed")) {
        r.failed.push_back({required_string(f, "command_id"),
                            optional_string(f, "reason")});
    }

    auto di = b.find("devinfo");
    if (di != b.end() && !di->is_null()) {
        if (!di->is_object()) {
            throw Invalid{"\"devinfo\" must be an object"};
        }
        r.devinfo = *di;
    }

    for (const json &a : array_of_objects(b, "alerts")) {
        const json &items = array_of_objects(a, "items");
        r.alerts.push_back(
            {alert_code(a), optional_string(a, "correlator"), items});
    }

    for (const json &s : array_of_objects(b, "statuses")) {
        auto st = s.find("status");
        if (st == s.end() || !st->is_number_integer()) {
            throw Invalid{"a status's \"status\" must be an integer"};
        }
        nlohmann::json items = nlohmann::json::array();
        for (const json &i : array_of_objects(s, "items")) {
            items.push_back({{"source", optional_string(i, "source")},
                             {"target", optional_string(i, "target")},
                             {"data", optional_string(i, "data")}});
        }
        r.statuses.push_back({required_string(s, "command_id"),
                              st->get<int64_t>(), std::move(items)});
    }

    for (const json &x : array_of_objects(b, "results")) {
        r.results.push_back(
            {required_string(x, "command_id"), optional_string(x, "source"),
             optional_string(x, "format"), optional_string(x, "type"),
             optional_string(x, "data")});
    }

    auto mc = b.find("max_commands");
    if (mc != b.end() && !mc->is_null()) {
        if (!mc->is_number_integer()) {
            throw Invalid{"\"max_commands\" must be an integer"};
        }
        r.max_commands = mc->get<int64_t>();
    }
}

}  // namespace

bool parse_exchange_request(const json &body, ExchangeRequest &out,
                            std::string &error)
{
    if (!body.is_object()) {
        error = "body must be a JSON object";
        return false;
    }
    try {
        parse(body, out);
    } catch (const Invalid &e) {
        error = e.what;
        return false;
    }
    return true;
}

}  // namespace omadm_backend
