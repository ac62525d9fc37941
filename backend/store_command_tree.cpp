// Command trees: Atomic and Sequence rows hold their nested commands
// through parent_id (children in id order), Copy and Alert keep their extra
// fields, and an Exec shows the Generic Alerts (1226) that echo its
// Correlator.  Callers are inside a write call, in its transaction.
#include "store.hpp"

#include "contract_command.hpp"
#include "json_text.hpp"

#include <set>

namespace omadm_backend {

namespace {

// Every row of a tree: the command and its descendants.
constexpr const char *tree_cte =
    "WITH RECURSIVE tree(id) AS (SELECT ? UNION ALL"
    " SELECT c.id FROM commands c JOIN tree t ON c.parent_id = t.id) ";

json choices_of(const std::optional<std::string> &text)
{
    if (!text) {
        return json::array();
    }
    json j = json::parse(*text, nullptr, false);
    return j.is_array() ? j : json::array();
}

json text_or_null(const std::optional<std::string> &v)
{
    return v ? json(*v) : json(nullptr);
}

}  // namespace

// SQLite only: a file from before the version table (store_schema.cpp).
void add_missing_columns(
    Db &db, const char *table,
    const std::vector<std::pair<const char *, const char *>> &columns)
{
    std::set<std::string> have;
    {
        Stmt st(db, (std::string("PRAGMA table_info(") + table + ")").c_str());
        while (st.step()) {
            have.insert(st.text(1));
        }
    }
    for (const auto &[name, declaration] : columns) {
        if (!have.count(name)) {
            db.exec((std::string("ALTER TABLE ") + table + " ADD COLUMN "
                     + name + " " + declaration)
                        .c_str());
        }
    }
}

void add_command_tree_columns(Db &db)
{
    add_missing_columns(
        db, "commands",
        {
            {"parent_id", "INTEGER REFERENCES commands(id) ON DELETE CASCADE"},
            {"source", "TEXT"},
            {"options", "TEXT"},
            {"text", "TEXT"},
            {"choices", "TEXT"},  // JSON array of strings
            {"reason", "TEXT"},   // why the module could not send it
        });
    db.exec("CREATE INDEX IF NOT EXISTS commands_by_parent"
            " ON commands (parent_id, id)");
}

int64_t Store::insert_command(const std::string &device_id,
                              const NewCommand &c,
                              std::optional<int64_t> parent,
                              const std::string &now)
{
    int64_t id;
    {
        Stmt ins(db_, "INSERT INTO commands (device_id, verb, target, data,"
                      " format, type, correlator, source, options, text,"
                      " choices, parent_id, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      " RETURNING id");
        ins.bind(1, device_id)
            .bind(2, c.verb)
            .bind(3, c.target)
            .bind(4, c.data)
            .bind(5, c.format)
            .bind(6, c.type)
            .bind(7, c.correlator)
            .bind(8, c.source)
            .bind(9, c.options)
            .bind(10, c.text);
        if (c.choices.empty()) {
            ins.bind_null(11);
        } else {
            ins.bind(11, json_text(c.choices));
        }
        if (parent) {
            ins.bind(12, *parent);
        } else {
            ins.bind_null(12);
        }
        ins.bind(13, now).bind(14, now);
        if (!ins.step()) {
            throw DbError("insert_command: no id returned");
        }
        id = ins.integer(0);
        ins.run();  // to its end: the statement is done before the children
    }
    for (const NewCommand &child : c.commands) {
        insert_command(device_id, child, id, now);
    }
    return id;
}

json Store::command_tree_fields(int64_t id, const std::string &verb,
                                const std::string &device_id,
                                const std::string &created_at)
{
    json j = json::object();
    std::optional<std::string> correlator;
    {
        Stmt st(db_, "SELECT parent_id, source, options, text, choices,"
                     " correlator FROM commands WHERE id = ?");
        st.bind(1, id);
        if (!st.step()) {
            return j;
        }
        if (!st.is_null(0)) {
            j["parent"] = std::to_string(st.integer(0));
        }
        if (verb == "Copy") {
            j["source"] = text_or_null(st.opt_text(1));
        } else if (verb == "Alert") {
            j["options"] = text_or_null(st.opt_text(2));
            j["text"] = text_or_null(st.opt_text(3));
            j["choices"] = choices_of(st.opt_text(4));
        }
        correlator = st.opt_text(5);
    }
    if (verb == "Atomic" || verb == "Sequence") {
        json list = json::array();
        for (int64_t child : child_ids(id)) {
            list.push_back(command_json(child));
        }
        j["commands"] = std::move(list);
    }
    if (verb == "Exec" && correlator && !correlator->empty()) {
        // The asynchronous outcome: Generic Alerts echoing the Correlator,
        // received since the Exec was queued.
        Stmt st(db_, "SELECT id, code, correlator, items, received_at"
                     " FROM alerts WHERE device_id = ? AND correlator = ?"
                     " AND received_at >= ? ORDER BY id");
        st.bind(1, device_id).bind(2, *correlator).bind(3, created_at);
        json list = json::array();
        while (st.step()) {
            list.push_back(alert_json(st));
        }
        j["alerts"] = std::move(list);
    }
    return j;
}

// A container's children, in order.  Read before recursing: one statement
// at a time on the shared connection.
std::vector<int64_t> Store::child_ids(int64_t id)
{
    std::vector<int64_t> ids;
    Stmt st(db_, "SELECT id FROM commands WHERE parent_id = ? ORDER BY id");
    st.bind(1, id);
    while (st.step()) {
        ids.push_back(st.integer(0));
    }
    return ids;
}

json Store::contract_tree(int64_t id)
{
    NewCommand c;
    bool has_data, top_level;
    {
        Stmt st(db_, "SELECT verb, target, data IS NOT NULL, format, type,"
                     " correlator, source, options, text, choices,"
                     " parent_id IS NULL FROM commands WHERE id = ?");
        st.bind(1, id);
        if (!st.step()) {
            return nullptr;
        }
        c = NewCommand{st.text(0),     st.text(1),     std::nullopt,
                       st.opt_text(3), st.opt_text(4), st.opt_text(5),
                       st.opt_text(6), st.opt_text(7), st.opt_text(8),
                       {},             {}};
        has_data = st.integer(2) != 0;
        top_level = st.integer(10) != 0;
        for (const json &x : choices_of(st.opt_text(9))) {
            if (x.is_string()) {
                c.choices.push_back(x.get<std::string>());
            }
        }
    }
    // A large object stays in the store (up to 16 MiB, and this runs on
    // every queued command an answer looks at): only its size is read.
    std::optional<size_t> stored_data_size;
    if (has_data) {
        ValueReader data(db_, "commands", "data", id);
        if (goes_by_size(c.verb, top_level, data.size())) {
            stored_data_size = data.size();
        } else {
            c.data = data.read(0, data.size());
        }
    }
    json j = contract_command(std::to_string(id), c, top_level,
                              stored_data_size);
    if (c.verb == "Atomic" || c.verb == "Sequence") {
        json list = json::array();
        for (int64_t child : child_ids(id)) {
            list.push_back(contract_tree(child));
        }
        j["commands"] = std::move(list);
    }
    return j;
}

size_t Store::tree_size(int64_t id)
{
    Stmt st(db_, (std::string(tree_cte) + "SELECT count(*) FROM tree").c_str());
    st.bind(1, id);
    return st.step() ? static_cast<size_t>(st.integer(0)) : 1;
}

void Store::mark_tree_sent(int64_t id, const std::string &session_id,
                           const std::string &now)
{
    // Children already answered (a container sent again after its
    // session broke off) keep their outcome.
    Stmt up(db_, (std::string(tree_cte)
                  + "UPDATE commands SET state = 'sent', session_id = ?,"
                    " updated_at = ? WHERE id IN (SELECT id FROM tree)"
                    " AND state = 'queued'")
                     .c_str());
    up.bind(1, id).bind(2, session_id).bind(3, now).run();
}

}  // namespace omadm_backend
