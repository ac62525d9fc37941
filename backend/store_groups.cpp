// Device groups: named sets of devices that profiles are assigned to.
#include "store.hpp"

#include "clock.hpp"

namespace omadm_backend {

json string_list(Db &db, const char *sql, const std::string &key)
{
    Stmt st(db, sql);
    st.bind(1, key);
    json out = json::array();
    while (st.step()) {
        out.push_back(st.text(0));
    }
    return out;
}

namespace {

bool group_exists(Db &db, const std::string &name)
{
    Stmt st(db, "SELECT 1 FROM device_groups WHERE name = ?");
    st.bind(1, name);
    return st.step();
}

json group_json(Db &db, const std::string &name, const std::string &created)
{
    return {{"name", name},
            {"devices",
             string_list(db,
                         "SELECT device_id FROM group_members"
                         " WHERE group_name = ? ORDER BY device_id",
                         name)},
            {"profiles",
             string_list(db,
                         "SELECT profile_name FROM profile_group_assignments"
                         " WHERE group_name = ? ORDER BY profile_name",
                         name)},
            {"created_at", created}};
}

}  // namespace

json Store::group_names(const std::string &device_id)
{
    return string_list(db_,
                       "SELECT group_name FROM group_members"
                       " WHERE device_id = ? ORDER BY group_name",
                       device_id);
}

std::optional<json> Store::create_group(const std::string &name)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        if (group_exists(db_, name)) {
            return std::nullopt;
        }
        std::string now = now_iso8601();
        // ON CONFLICT: another process may have created it since
        Stmt ins(db_, "INSERT INTO device_groups (name, created_at) VALUES (?, ?)"
                      " ON CONFLICT DO NOTHING");
        ins.bind(1, name).bind(2, now).run();
        if (db_.changes() == 0) {
            return std::nullopt;
        }
        json out = group_json(db_, name, now);
        tx.commit();
        return out;
    });
}

json Store::groups()
{
    return read([&]() -> json {
        std::vector<std::pair<std::string, std::string>> all;
        {
            Stmt st(db_, "SELECT name, created_at FROM device_groups"
                         " ORDER BY name");
            while (st.step()) {
                all.emplace_back(st.text(0), st.text(1));
            }
        }
        json out = json::array();
        for (const auto &[name, created] : all) {
            out.push_back(group_json(db_, name, created));
        }
        return out;
    });
}

std::optional<json> Store::group(const std::string &name)
{
    return read([&]() -> std::optional<json> {
        std::string created;
        {
            Stmt st(db_, "SELECT created_at FROM device_groups WHERE name = ?");
            st.bind(1, name);
            if (!st.step()) {
                return std::nullopt;
            }
            created = st.text(0);
        }
        return group_json(db_, name, created);
    });
}

bool Store::delete_group(const std::string &name)
{
    // Memberships and the group's profile assignments go with it.
    return delete_row("DELETE FROM device_groups WHERE name = ?", name);
}

LinkResult Store::set_group_member(const std::string &group,
                                   const std::string &device_id, bool member)
{
    return write([&]() -> LinkResult {
        Transaction tx(db_);
        if (!group_exists(db_, group)) {
            return LinkResult::unknown_group;
        }
        if (!device_exists(device_id)) {
            return LinkResult::unknown_device;
        }
        Stmt st(db_, member ? "INSERT INTO group_members (group_name,"
                              " device_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
                            : "DELETE FROM group_members WHERE group_name = ?"
                              " AND device_id = ?");
        st.bind(1, group).bind(2, device_id).run();
        bool changed = db_.changes() > 0;
        tx.commit();
        return member || changed ? LinkResult::ok : LinkResult::not_linked;
    });
}

}  // namespace omadm_backend
