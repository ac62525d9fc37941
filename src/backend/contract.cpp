#include "backend/contract.hpp"

#include <stdexcept>

#include "auth/base64.hpp"
#include "backend/command_json.hpp"
#include "backend/json_writer.hpp"

namespace omadm {

using json = nlohmann::json;

namespace {

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

// The verbs and their SyncML names, in enum order.
constexpr const char *k_verbs[] = {
    "Get",  "Replace", "Add",    "Delete",   "Exec",
    "Copy", "Alert",   "Atomic", "Sequence",
};

// A verb that needs a Target and nothing else.
bool plain_verb(verb v)
{
    return v == verb::get || v == verb::replace || v == verb::add
           || v == verb::delete_ || v == verb::exec;
}

bool alert_code(const std::string &v)
{
    return v == "1100" || v == "1101" || v == "1102" || v == "1103"
           || v == "1104" || v == "1223";
}

// Walks one command of an exchange answer and, for a container, its tree.
// depth: containers above this command; nested: commands seen so far under
// the top-level one.  Never acknowledge what we cannot deliver: a command
// refused here fails the whole answer, so the backend never marks sent a
// command whose Status cannot come.
class command_reader {
public:
    explicit command_reader(std::string &why) : why_(why) {}

    bool read(const json &c, unsigned depth, backend_command &cmd)
    {
        std::string name;
        if (!c.is_object() || !required_string(c, "id", cmd.id)
            || cmd.id.empty() || !required_string(c, "verb", name)
            || !optional_string(c, "target", cmd.target)
            || !optional_string(c, "data", cmd.data)
            || !optional_string(c, "format", cmd.format)
            || !optional_string(c, "type", cmd.type)
            || !optional_string(c, "correlator", cmd.correlator)
            || !optional_string(c, "source", cmd.source)
            || !optional_string(c, "options", cmd.options)
            || !optional_string(c, "text", cmd.text)) {
            return fail("backend exchange answer has a malformed command");
        }
        bool known = verb_of(name, cmd.verb);
        if (!read_data_size(c, depth, known, cmd)) return false;
        if (!known) return fail("backend sent unknown verb");
        if (plain_verb(cmd.verb)) {
            if (cmd.target.empty())
                return fail("backend exchange answer has a malformed command");
            return true;
        }
        if (cmd.verb == verb::copy) {
            if (cmd.target.empty() || cmd.source.empty())
                return fail("backend sent a Copy without target and source");
            return true;
        }
        if (cmd.verb == verb::alert) return read_alert(c, depth, cmd);
        return read_container(c, depth, cmd);  // Atomic, Sequence
    }

private:
    // A large object travels alone: never inside a container.
    bool read_data_size(const json &c, unsigned depth, bool known,
                        backend_command &cmd)
    {
        auto it = c.find("data_size");
        if (it == c.end() || it->is_null()) return true;
        if (!it->is_number_unsigned())
            return fail("backend sent a bad data_size");
        if (!known || !carries_value(cmd.verb) || depth > 0)
            return fail("backend sent data_size on a command other than "
                        "a top-level Add or Replace");
        if (!cmd.data.empty())
            return fail("backend sent both data and data_size");
        cmd.data_size = it->get<unsigned long long>();
        cmd.has_data_size = cmd.data_size > 0;  // 0: empty, inline
        return true;
    }

    bool read_alert(const json &c, unsigned depth, backend_command &cmd)
    {
        if (!alert_code(cmd.data))
            return fail("backend sent an Alert with an unknown code");
        if (cmd.data == "1223" && depth > 0)
            return fail("backend nested a session abort (Alert 1223)");
        auto ch = c.find("choices");
        if (ch == c.end() || ch->is_null()) return true;
        if (!ch->is_array() || ch->size() > max_nested_commands)
            return fail("backend sent an Alert with bad choices");
        for (const auto &x : *ch) {
            if (!x.is_string())
                return fail("backend sent an Alert with bad choices");
            cmd.choices.push_back(x.get<std::string>());
        }
        return true;
    }

    bool read_container(const json &c, unsigned depth, backend_command &cmd)
    {
        if (depth + 1 > max_container_depth)
            return fail("backend nested Atomic/Sequence too deep");
        auto it = c.find("commands");
        if (it == c.end() || !it->is_array() || it->empty())
            return fail("backend sent a container without commands");
        for (const auto &child : *it) {
            if (++nested > max_nested_commands)
                return fail("backend sent a container with too many "
                            "commands");
            cmd.commands.emplace_back();
            if (!read(child, depth + 1, cmd.commands.back())) return false;
        }
        return true;
    }

    bool fail(const char *reason)
    {
        why_ = reason;
        return false;
    }

    std::string &why_;
    unsigned nested = 0;
};

}  // namespace

std::string backend_reason(const char *op, int status)
{
    if (status == 0) return std::string("backend ") + op + " unreachable";
    return std::string("backend ") + op + " answered " + std::to_string(status);
}

const char *verb_name(verb v)
{
    return k_verbs[size_t(v)];
}

bool verb_of(std::string_view name, verb &out)
{
    for (size_t i = 0; i < sizeof(k_verbs) / sizeof(k_verbs[0]); i++) {
        if (name == k_verbs[i]) {
            out = verb(i);
            return true;
        }
    }
    return false;
}

bool is_session_abort(const backend_command &c)
{
    return c.verb == verb::alert && c.data == "1223";
}

json to_json_value(const backend_command &c)
{
    json j = {{"id", c.id}, {"verb", verb_name(c.verb)}};
    auto opt = [&](const char *name, const std::string &v) {
        if (!v.empty()) j[name] = v;
    };
    opt("target", c.target);
    opt("data", c.data);
    opt("format", c.format);
    opt("type", c.type);
    opt("correlator", c.correlator);
    opt("source", c.source);
    opt("options", c.options);
    opt("text", c.text);
    if (!c.choices.empty()) j["choices"] = c.choices;
    if (c.has_data_size) j["data_size"] = c.data_size;
    if (!c.commands.empty()) {
        json kids = json::array();
        for (const auto &k : c.commands) kids.push_back(to_json_value(k));
        j["commands"] = std::move(kids);
    }
    return j;
}

void to_json(json &j, const backend_command &c)
{
    j = to_json_value(c);
}

void from_json(const json &j, backend_command &c)
{
    std::string why;
    if (!read_command(j, c, why)) throw std::invalid_argument(why);
}

bool read_command(const json &j, backend_command &out, std::string &why)
{
    command_reader reader(why);
    out = backend_command{};
    return reader.read(j, 0, out);
}

// Request bodies: members in name order (the order nlohmann's dump of the
// same object gave, so the bytes did not change).

std::string auth_request(std::string_view device_id, std::string_view username)
{
    json_writer w(64 + device_id.size() + username.size());
    w.begin_object()
        .member("device_id", device_id)
        .member("username", username)
        .end_object();
    return w.take();
}

std::string nonce_request(std::string_view device_id,
                          std::string_view nonce_b64)
{
    json_writer w(64 + device_id.size() + nonce_b64.size());
    w.begin_object()
        .member("device_id", device_id)
        .member("nonce", nonce_b64)
        .end_object();
    return w.take();
}

namespace {

void write_alert(json_writer &w, const device_alert &a)
{
    w.begin_object().member("code", a.code).member("correlator", a.correlator);
    w.key("items").begin_array();
    for (const alert_item &i : a.items) {
        w.begin_object()
            .member("data", i.data)
            .member("format", i.format)
            .member("mark", i.mark)
            .member("source", i.source)
            .member("target", i.target)
            .member("type", i.type)
            .end_object();
    }
    w.end_array().end_object();
}

void write_status(json_writer &w, const status_report &s)
{
    w.begin_object().member("command_id", s.command_id);
    if (!s.items.empty()) {
        w.key("items").begin_array();
        for (const status_item &i : s.items) {
            w.begin_object()
                .member("data", i.data)
                .member("source", i.source)
                .member("target", i.target)
                .end_object();
        }
        w.end_array();
    }
    w.member("status", s.status).end_object();
}

void write_result(json_writer &w, const result_report &x)
{
    w.begin_object()
        .member("command_id", x.command_id)
        .member("data", x.data)
        .member("format", x.format)
        .member("source", x.source)
        .member("type", x.type)
        .end_object();
}

// Its size, near enough to reserve once.
size_t estimate(const exchange_request &r)
{
    size_t n = 320 + r.device_id.size() + r.session_id.size()
               + r.credential_version.size();
    for (const auto &d : r.devinfo) n += 8 + d.first.size() + d.second.size();
    for (const auto &a : r.alerts) {
        n += 48;
        for (const auto &i : a.items) n += 80 + i.data.size() + i.target.size();
    }
    for (const auto &st : r.statuses) n += 48 + 40 * st.items.size();
    for (const auto &x : r.results) n += 80 + x.data.size() + x.source.size();
    return n;
}

}  // namespace

std::string to_json(const exchange_request &r)
{
    json_writer w(estimate(r));
    w.begin_object();
    w.key("alerts").begin_array();
    for (const device_alert &a : r.alerts) write_alert(w, a);
    w.end_array();
    if (!r.credential_version.empty())
        w.member("credential_version", r.credential_version);
    w.member("device_id", r.device_id);
    if (!r.devinfo.empty()) {
        w.key("devinfo").begin_object();
        for (const auto &d : r.devinfo) w.member(d.first, d.second);
        w.end_object();
    }
    if (!r.failed.empty()) {
        w.key("failed").begin_array();
        for (const failed_report &f : r.failed) {
            w.begin_object()
                .member("command_id", f.command_id)
                .member("reason", f.reason)
                .end_object();
        }
        w.end_array();
    }
    w.member("max_commands", r.max_commands).member("msg_id", r.msg_id);
    if (!r.next_nonce.empty()) w.member("next_nonce", r.next_nonce);
    if (!r.requeue.empty()) {
        w.key("requeue").begin_array();
        for (const std::string &id : r.requeue) w.value(id);
        w.end_array();
    }
    w.key("results").begin_array();
    for (const result_report &x : r.results) write_result(w, x);
    w.end_array();
    if (!r.server_next_nonce.empty())
        w.member("server_next_nonce", r.server_next_nonce);
    w.member("session_id", r.session_id)
        .member("session_start", r.session_start);
    w.key("statuses").begin_array();
    for (const status_report &st : r.statuses) write_status(w, st);
    w.end_array();
    if (!r.used_nonce.empty()) w.member("used_nonce", r.used_nonce);
    w.end_object();
    return w.take();
}

std::string object_request(std::string_view device_id,
                           std::string_view command_id,
                           unsigned long long offset, unsigned long long length)
{
    json_writer w(96 + device_id.size() + command_id.size());
    w.begin_object()
        .member("command_id", command_id)
        .member("device_id", device_id)
        .member("length", length)
        .member("offset", offset)
        .end_object();
    return w.take();
}

bool parse_object_reply(std::string_view body, std::string &data,
                        unsigned long long &size, std::string &why)
{
    json j = json::parse(body, nullptr, false);
    auto d = j.is_object() ? j.find("data") : j.end();
    auto n = j.is_object() ? j.find("size") : j.end();
    if (d == j.end() || !d->is_string() || n == j.end()
        || !n->is_number_unsigned()) {
        why = "backend object answer lacks data or size";
        return false;
    }
    data = d->get<std::string>();
    size = n->get<unsigned long long>();
    return true;
}

namespace {

bool read_auth_reply(const json &j, auth_reply &out, std::string &why)
{
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
    if (!optional_string(j, "server_username", out.server_username)
        || !optional_string(j, "server_inner", out.server_inner)
        || !optional_string(j, "server_basic", out.server_basic)
        || !optional_string(j, "server_nonce", out.server_nonce)
        || !optional_string(j, "credential_version", out.credential_version)) {
        why = "backend auth answer has a bad server_* or credential_version";
        return false;
    }
    if (out.credential_version.size() > max_credential_version) {
        why = "backend auth answer's credential_version is over 256 bytes";
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

}  // namespace

bool parse_auth_reply(std::string_view body, auth_reply &out, std::string &why)
{
    return read_auth_reply(json::parse(body, nullptr, false), out, why);
}

std::string to_json(const auth_reply &r)
{
    json_writer w(192 + r.username.size() + r.inner.size()
                  + r.credential_version.size()
                  + 32 * r.previous_nonces.size());
    auto optional = [&w](const char *name, const std::string &v) {
        if (!v.empty()) w.member(name, v);
    };
    w.begin_object();
    optional("credential_version", r.credential_version);
    w.member("inner", r.inner).member("nonce", r.nonce);
    w.key("previous_nonces").begin_array();
    for (const std::string &n : r.previous_nonces) w.value(n);
    w.end_array();
    optional("server_basic", r.server_basic);
    optional("server_inner", r.server_inner);
    optional("server_nonce", r.server_nonce);
    optional("server_username", r.server_username);
    w.member("username", r.username).end_object();
    return w.take();
}

bool says_credentials_changed(std::string_view body)
{
    json j = json::parse(body, nullptr, false);
    auto e = j.is_object() ? j.find("error") : j.end();
    return e != j.end() && e->is_string()
           && e->get<std::string>() == "credentials changed";
}

bool parse_nonce_reply(std::string_view body, std::string &nonce_b64,
                       auth_reply &record, bool &has_record, std::string &why)
{
    nonce_b64.clear();
    has_record = false;
    json j = json::parse(body, nullptr, false);
    std::string bytes;
    if (!j.is_object() || !optional_string(j, "nonce", nonce_b64)
        || (!nonce_b64.empty()
            && (!base64_decode(nonce_b64, bytes) || bytes.empty()
                || bytes.size() > 64))) {
        why = "backend nonce answer is not {} or {\"nonce\": 1 to 64 "
              "bytes in base64}";
        return false;
    }
    auto c = j.find("credentials");
    if (c == j.end() || c->is_null()) return true;
    if (!read_auth_reply(*c, record, why)) {
        why = "backend nonce answer's credentials: " + why;
        return false;
    }
    has_record = true;
    return true;
}

bool parse_nonce_reply(std::string_view body, std::string &nonce_b64,
                       std::string &why)
{
    auth_reply ignored;
    bool has_record;
    return parse_nonce_reply(body, nonce_b64, ignored, has_record, why);
}

bool parse_exchange_reply(std::string_view body,
                          std::vector<backend_command> &out, std::string &why)
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
        command_reader reader(why);
        if (!reader.read(c, 0, cmd)) return false;
        out.push_back(std::move(cmd));
    }
    return true;
}

}  // namespace omadm
