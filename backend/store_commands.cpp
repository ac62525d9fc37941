// Command queues and alerts as the operator sees them.
#include "store.hpp"

#include "clock.hpp"

namespace omadm_backend {

namespace {

json text_or_null(const Stmt &st, int col)
{
    if (st.is_null(col)) {
        return nullptr;
    }
    return st.text(col);
}

json results_of(Db &db, int64_t command_id)
{
    Stmt st(db, "SELECT source, format, type, data FROM results"
                " WHERE command_id = ? ORDER BY id");
    st.bind(1, command_id);
    json out = json::array();
    while (st.step()) {
        out.push_back({{"source", st.text(0)},
                       {"format", st.text(1)},
                       {"type", st.text(2)},
                       {"data", st.text(3)}});
    }
    return out;
}

}  // namespace

json Store::command_json(int64_t id)
{
    Stmt st(db_,
            "SELECT id, verb, target, data, format, type, correlator, state,"
            " status, created_at, updated_at, device_id, reason FROM commands"
            " WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) {
        return nullptr;
    }
    json status = nullptr;
    if (!st.is_null(8)) {
        status = st.integer(8);
    }
    json j = {{"id", std::to_string(st.integer(0))},
            {"verb", st.text(1)},
            {"target", st.text(2)},
            {"data", text_or_null(st, 3)},
            {"format", text_or_null(st, 4)},
            {"type", text_or_null(st, 5)},
            {"correlator", text_or_null(st, 6)},
            {"state", st.text(7)},
            {"status", status},
            {"results", results_of(db_, id)},
            {"created_at", st.text(9)},
            {"updated_at", st.text(10)}};
    if (!st.is_null(12)) {
        j["reason"] = st.text(12);  // only for a command the module failed
    }
    // verb-specific: source, options/text/choices, commands, alerts, parent
    j.update(command_tree_fields(id, st.text(1), st.text(11), st.text(9)));
    j.update(profile_mark_fields(db_, id));
    redact_secret_command(db_, id, j);
    return j;
}

json alert_json(const Stmt &st)
{
    json items = json::parse(st.text(3), nullptr, false);
    return {{"id", std::to_string(st.integer(0))},
            {"code", st.text(1)},
            {"correlator", st.text(2)},
            {"items", items.is_array() ? items : json::array()},
            {"received_at", st.text(4)}};
}

std::optional<json> Store::add_command(const std::string &device_id,
                                       const NewCommand &c)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        if (!device_exists(device_id)) {
            return std::nullopt;
        }
        std::string now = now_iso8601();
        int64_t id = insert_command(device_id, c, std::nullopt, now);
        json out = command_json(id);
        tx.commit();
        return out;
    });
}

std::optional<json> Store::command(const std::string &device_id,
                                   const std::string &command_id)
{
    std::optional<int64_t> id = parse_row_id(command_id);
    if (!id) {
        return std::nullopt;
    }
    return read([&]() -> std::optional<json> {
        Stmt st(db_, "SELECT 1 FROM commands WHERE id = ? AND device_id = ?");
        st.bind(1, *id).bind(2, device_id);
        if (!st.step()) {
            return std::nullopt;
        }
        return command_json(*id);
    });
}

std::optional<json> Store::commands(const std::string &device_id)
{
    return read([&]() -> std::optional<json> {
        // One transaction: a consistent list even if another process writes.
        Transaction tx(db_);
        if (!device_exists(device_id)) {
            return std::nullopt;
        }
        // Nested commands appear inside their container.
        Stmt st(db_, "SELECT id FROM commands WHERE device_id = ?"
                     " AND parent_id IS NULL ORDER BY id");
        st.bind(1, device_id);
        json out = json::array();
        while (st.step()) {
            out.push_back(command_json(st.integer(0)));
        }
        tx.commit();
        return out;
    });
}

std::optional<json> Store::alerts(const std::string &device_id)
{
    return read([&]() -> std::optional<json> {
        if (!device_exists(device_id)) {
            return std::nullopt;
        }
        Stmt st(db_, "SELECT id, code, correlator, items, received_at FROM alerts"
                     " WHERE device_id = ? ORDER BY id");
        st.bind(1, device_id);
        json out = json::array();
        while (st.step()) {
            out.push_back(alert_json(st));
        }
        return out;
    });
}

}  // namespace omadm_backend
