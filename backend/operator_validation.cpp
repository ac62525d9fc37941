#include "operator_validation.hpp"

#include "alert_options.hpp"
#include "contract_command.hpp"
#include "json_text.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <utility>

namespace omadm_backend {

namespace {

// The device endpoint takes at most 256 bytes of Source/LocURI (the
// device id) and of LocName (the user name): a longer one could never log
// in, and a longer id would hardly fit the URL that deletes it.
constexpr size_t max_name_bytes = 256;

bool has_control_char(const std::string &s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

// XML 1.0 carries no control character but TAB, LF and CR: the module's
// XML encoder puts U+FFFD in their place, and the command would still end
// `done`.  Refused when queued, while the operator can still send the bytes
// base64-encoded.
bool has_xml_control_char(const std::string &s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n'
               && c != '\r';
    });
}

bool non_empty_string(const json &body, const char *name, std::string &out,
                      std::string &error)
{
    auto it = body.find(name);
    if (it == body.end() || !it->is_string()
        || it->get_ref<const std::string &>().empty()) {
        error = std::string("\"") + name + "\" must be a non-empty string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool optional_string(const json &body, const char *name,
                     std::optional<std::string> &out, std::string &error)
{
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        return true;
    }
    if (!it->is_string()) {
        error = std::string("\"") + name + "\" must be a string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool within(const std::optional<std::string> &value, const char *name,
            size_t max_bytes, std::string &error)
{
    if (value && value->size() > max_bytes) {
        error = std::string("\"") + name + "\" is longer than "
                + std::to_string(max_bytes) + " bytes";
        return false;
    }
    return true;
}

// The command's size limits (contract_command.hpp says why). An error in a
// nested command says where it is: "commands[2]: ".
bool within_node_limits(const NewCommand &c, bool top_level,
                        std::string &error)
{
    if (!within(c.target, "target", max_target_bytes, error)
        || !within(c.source, "source", max_target_bytes, error)
        || !within(c.options, "options", max_meta_bytes, error)
        || !within(c.text, "text", max_target_bytes, error)
        || !within(c.format, "format", max_meta_bytes, error)
        || !within(c.type, "type", max_meta_bytes, error)
        || !within(c.correlator, "correlator", max_meta_bytes, error)) {
        return false;
    }
    // A large object is sent in chunks; other data travels whole in one
    // device message.
    size_t limit = may_be_large_object(c.verb, top_level) ? max_object_bytes
                                                          : max_data_bytes;
    if (c.data && c.data->size() > limit) {
        error = "\"data\" is " + std::to_string(c.data->size())
                + " bytes, more than " + std::to_string(limit);
        error += limit == max_object_bytes
                     ? " (16 MiB), the largest object"
                     : " (256 KiB): only a top-level Add or Replace may"
                       " carry up to 16 MiB";
        return false;
    }
    for (size_t i = 0; i < c.commands.size(); i++) {
        if (!within_node_limits(c.commands[i], false, error)) {
            error = "commands[" + std::to_string(i) + "]: " + error;
            return false;
        }
    }
    return true;
}

// One node's limits, then the whole tree measured in the form an
// `exchange` answer carries it (a large object's data as "data_size"), with
// the longest id it could get: inline data full of characters JSON escapes
// (up to 6 bytes each) could still overflow an answer.
bool within_limits(const NewCommand &c, std::string &error)
{
    if (!within_node_limits(c, true, error)) {
        return false;
    }
    std::string longest_id =
        std::to_string(std::numeric_limits<int64_t>::max());
    size_t bytes = json_text(contract_command(longest_id, c)).size();
    if (empty_answer_bytes() + bytes > max_answer_bytes) {
        error = "the command is " + std::to_string(bytes)
                + " bytes once JSON-escaped, more than one exchange answer"
                  " holds ("
                + std::to_string(max_answer_bytes)
                + "); only a top-level Add or Replace is handed out without"
                  " its data";
        return false;
    }
    return true;
}

bool is_one_of(const std::string &v, std::initializer_list<const char *> set)
{
    return std::any_of(set.begin(), set.end(),
                       [&v](const char *s) { return v == s; });
}

// A node URI: relative ("./DevDetail/SwV") or any non-empty URI that does
// not start with '/' (OMA DM URIs are never absolute paths).
bool node_uri(const json &body, const char *name, std::string &out,
              std::string &error)
{
    if (!non_empty_string(body, name, out, error)) {
        return false;
    }
    if (out[0] == '/' || out == "./" || has_control_char(out)) {
        error = std::string("\"") + name
                + "\" must be a node URI such as \"./DevDetail/SwV\"";
        return false;
    }
    return true;
}

// One command of POST .../commands, with the commands nested in it.  An
// error inside a container is prefixed with where it is: "commands[2]: ".
class CommandReader {
public:
    explicit CommandReader(std::string &error) : error_(error) {}

    std::optional<NewCommand> read(const json &body, size_t depth)
    {
        NewCommand c;
        if (!body.is_object()) {
            error_ = "a command must be a JSON object";
            return std::nullopt;
        }
        if (!non_empty_string(body, "verb", c.verb, error_)) {
            return std::nullopt;
        }
        if (!is_one_of(c.verb, {"Get", "Replace", "Add", "Delete", "Exec",
                                "Copy", "Alert", "Atomic", "Sequence"})) {
            error_ = "\"verb\" must be one of Get, Replace, Add, Delete, "
                     "Exec, Copy, Alert, Atomic, Sequence";
            return std::nullopt;
        }
        if (!fields_fit_verb(body, c.verb)) {
            return std::nullopt;
        }
        bool ok;
        if (c.verb == "Alert") {
            ok = read_alert(body, depth, c);
        } else if (c.verb == "Atomic" || c.verb == "Sequence") {
            ok = read_container(body, depth, c);
        } else {
            std::string source;
            ok = node_uri(body, "target", c.target, error_)
                 && (c.verb != "Copy"
                     || node_uri(body, "source", source, error_))
                 && optional_string(body, "data", c.data, error_)
                 && optional_string(body, "format", c.format, error_)
                 && optional_string(body, "type", c.type, error_)
                 && optional_string(body, "correlator", c.correlator, error_);
            if (c.verb == "Copy") {
                c.source = source;
            }
        }
        if (!ok || !fits_xml(c)) {
            return std::nullopt;
        }
        return c;
    }

private:
    // What the command puts into the SyncML message (target and source are
    // node URIs, checked already; an Alert's data is its code).
    bool fits_xml(const NewCommand &c)
    {
        if (c.data && has_xml_control_char(*c.data)) {
            error_ = c.format == "b64"
                         ? "\"data\" with \"format\": \"b64\" must be base64"
                           " text, without control characters"
                         : "\"data\" holds control characters (other than"
                           " TAB, LF, CR), which SyncML's XML cannot carry:"
                           " send the bytes base64-encoded, with \"format\":"
                           " \"b64\"";
            return false;
        }
        const std::pair<const char *, const std::optional<std::string> &>
            fields[] = {{"format", c.format},
                        {"type", c.type},
                        {"correlator", c.correlator},
                        {"text", c.text}};
        for (const auto &[name, value] : fields) {
            if (value && has_xml_control_char(*value)) {
                return xml_control_char_in(name);
            }
        }
        for (const std::string &choice : c.choices) {
            if (has_xml_control_char(choice)) {
                return xml_control_char_in("choices");
            }
        }
        return true;
    }

    bool xml_control_char_in(const char *field)
    {
        error_ = std::string("\"") + field
                 + "\" must not hold control characters (other than TAB, LF,"
                   " CR): SyncML's XML cannot carry them";
        return false;
    }

    // Fields another verb uses are refused rather than silently dropped.
    bool fields_fit_verb(const json &body, const std::string &verb)
    {
        struct Use {
            const char *field;
            std::initializer_list<const char *> verbs;
            const char *message;
        };
        static const Use uses[] = {
            {"target", {"Get", "Replace", "Add", "Delete", "Exec", "Copy"},
             "\"target\" is not used by Alert, Atomic or Sequence"},
            {"data", {"Get", "Replace", "Add", "Delete", "Exec", "Alert"},
             "\"data\" is not used by Copy, Atomic or Sequence"},
            {"format", {"Get", "Replace", "Add", "Delete", "Exec"},
             "\"format\" is only for Get, Replace, Add, Delete, Exec"},
            {"type", {"Get", "Replace", "Add", "Delete", "Exec"},
             "\"type\" is only for Get, Replace, Add, Delete, Exec"},
            {"correlator", {"Exec"},
             "\"correlator\" is only meaningful for Exec"},
            {"source", {"Copy"}, "\"source\" is only meaningful for Copy"},
            {"options", {"Alert"},
             "\"options\" is only meaningful for Alert"},
            {"text", {"Alert"}, "\"text\" is only meaningful for Alert"},
            {"choices", {"Alert"},
             "\"choices\" is only meaningful for Alert"},
            {"commands", {"Atomic", "Sequence"},
             "\"commands\" is only meaningful for Atomic and Sequence"},
        };
        for (const Use &u : uses) {
            auto it = body.find(u.field);
            if (it != body.end() && !it->is_null()
                && !is_one_of(verb, u.verbs)) {
                error_ = u.message;
                return false;
            }
        }
        return true;
    }

    bool read_alert(const json &body, size_t depth, NewCommand &c)
    {
        auto d = body.find("data");
        std::string code;
        if (d != body.end() && d->is_number_integer()) {
            code = std::to_string(d->get<int64_t>());
        } else if (d != body.end() && d->is_string()) {
            code = d->get<std::string>();
        }
        if (!is_one_of(code, {"1100", "1101", "1102", "1103", "1104",
                              "1223"})) {
            error_ = "an Alert's \"data\" must be its code: 1100 (display),"
                     " 1101 (confirm), 1102 (text input), 1103 (single"
                     " choice), 1104 (multiple choice) or 1223 (session"
                     " abort)";
            return false;
        }
        c.data = code;
        if (code == "1223") {
            if (depth > 0) {
                error_ = "a session abort (Alert 1223) cannot be nested";
                return false;
            }
            for (const char *f : {"options", "text", "choices"}) {
                if (body.contains(f) && !body[f].is_null()) {
                    error_ = std::string("\"") + f
                             + "\" is not used by a session abort (1223)";
                    return false;
                }
            }
            return true;
        }
        return read_options(body, code, c) && read_text(body, c)
               && read_choices(body, code, c);
    }

    bool read_options(const json &body, const std::string &code,
                      NewCommand &c)
    {
        auto o = body.find("options");
        if (o == body.end() || o->is_null()) {
            return true;
        }
        if (o->is_object()) {
            std::string encoded;
            if (!encode_alert_options(*o, code, encoded, error_)) {
                return false;
            }
            c.options = encoded;
            return true;
        }
        if (!o->is_string() || has_control_char(o->get<std::string>())) {
            error_ = "\"options\" must be an object such as {\"MINDT\": 10}"
                     " or a URL-encoded string such as \"MINDT=10&DR=1\"";
            return false;
        }
        c.options = o->get<std::string>();
        return true;
    }

    bool read_text(const json &body, NewCommand &c)
    {
        std::string text;
        if (!non_empty_string(body, "text", text, error_)) {
            error_ = "a user-interaction Alert needs \"text\", a non-empty"
                     " string (the message shown)";
            return false;
        }
        c.text = text;
        return true;
    }

    bool read_choices(const json &body, const std::string &code,
                      NewCommand &c)
    {
        bool choice = code == "1103" || code == "1104";
        auto ch = body.find("choices");
        if (ch == body.end() || ch->is_null()) {
            if (choice) {
                error_ = "Alert " + code + " needs \"choices\", a list of"
                         " strings";
                return false;
            }
            return true;
        }
        if (!choice) {
            error_ = "\"choices\" are only for Alerts 1103 and 1104";
            return false;
        }
        if (!ch->is_array() || ch->empty() || ch->size() > max_choices) {
            error_ = "\"choices\" must be a list of 1 to "
                     + std::to_string(max_choices) + " strings";
            return false;
        }
        for (const json &x : *ch) {
            if (!x.is_string() || x.get<std::string>().empty()
                || x.get<std::string>().size() > max_target_bytes) {
                error_ = "each of \"choices\" must be a non-empty string of"
                         " at most " + std::to_string(max_target_bytes)
                         + " bytes";
                return false;
            }
            c.choices.push_back(x.get<std::string>());
        }
        return true;
    }

    bool read_container(const json &body, size_t depth, NewCommand &c)
    {
        if (depth + 1 > max_container_depth) {
            error_ = "Atomic and Sequence nest at most "
                     + std::to_string(max_container_depth) + " levels deep";
            return false;
        }
        auto list = body.find("commands");
        if (list == body.end() || !list->is_array() || list->empty()) {
            error_ = "\"commands\" must be a non-empty list of commands";
            return false;
        }
        for (size_t i = 0; i < list->size(); i++) {
            if (++nested_ > max_nested_commands) {
                error_ = "at most " + std::to_string(max_nested_commands)
                         + " commands may be nested in one command";
                return false;
            }
            std::optional<NewCommand> child = read((*list)[i], depth + 1);
            if (!child) {
                error_ = "commands[" + std::to_string(i) + "]: " + error_;
                return false;
            }
            c.commands.push_back(std::move(*child));
        }
        return true;
    }

    static constexpr size_t max_choices = 64;

    std::string &error_;
    size_t nested_ = 0;
};

}  // namespace

std::optional<NewDevice> parse_new_device(const json &body, std::string &error)
{
    NewDevice d;
    if (!non_empty_string(body, "device_id", d.device_id, error)
        || !non_empty_string(body, "username", d.username, error)
        || !non_empty_string(body, "password", d.password, error)) {
        return std::nullopt;
    }
    if (!within(d.device_id, "device_id", max_name_bytes, error)
        || !within(d.username, "username", max_name_bytes, error)) {
        return std::nullopt;
    }
    if (has_control_char(d.device_id) || has_control_char(d.username)) {
        error = "\"device_id\" and \"username\" must not hold control"
                " characters";
        return std::nullopt;
    }
    // The server's own credentials toward the device: both or neither.
    bool has_name = body.contains("server_username");
    bool has_pass = body.contains("server_password");
    if (has_name || has_pass) {
        if (!non_empty_string(body, "server_username", d.server_username,
                              error)
            || !non_empty_string(body, "server_password", d.server_password,
                                 error)) {
            return std::nullopt;
        }
        if (!within(d.server_username, "server_username", max_name_bytes,
                    error)) {
            return std::nullopt;
        }
        if (has_control_char(d.server_username)) {
            error = "\"server_username\" must not hold control characters";
            return std::nullopt;
        }
    }
    return d;
}

std::optional<NewCommand> parse_new_command(const json &body,
                                            std::string &error)
{
    CommandReader reader(error);
    std::optional<NewCommand> c = reader.read(body, 0);
    if (!c || !within_limits(*c, error)) {
        return std::nullopt;
    }
    return c;
}

}  // namespace omadm_backend
