// Profiles, their revisions and their assignments to groups and devices.
#include "store.hpp"

#include "clock.hpp"
#include "crypto.hpp"
#include "json_text.hpp"

#include <map>

namespace omadm_backend {

namespace {

json or_null(const std::optional<std::string> &v)
{
    return v ? json(*v) : json(nullptr);
}

// What a setting asks of the device: equal digests, nothing to re-apply.
std::string digest_of(const ProfileSetting &s)
{
    json what = json::array({s.verb, or_null(s.format), or_null(s.type),
                             or_null(s.data)});
    if (!s.verify) {
        what.push_back("no read-back");
    }
    return sha256_hex(json_text(what));
}

json assignments(Db &db, const std::string &profile)
{
    return {{"groups",
             string_list(db,
                         "SELECT group_name FROM profile_group_assignments"
                         " WHERE profile_name = ? ORDER BY group_name",
                         profile)},
            {"devices",
             string_list(db,
                         "SELECT device_id FROM profile_device_assignments"
                         " WHERE profile_name = ? ORDER BY device_id",
                         profile)}};
}

json settings_json(Db &db, const std::string &profile)
{
    Stmt st(db, "SELECT verb, target, format, type, data, atomic, line,"
                " revision, verify, secret, remove_verb, remove_format,"
                " remove_type, remove_data FROM profile_settings"
                " WHERE profile_name = ?"
                " ORDER BY position");
    st.bind(1, profile);
    json out = json::array();
    while (st.step()) {
        json s = {{"verb", st.text(0)},
                  {"target", st.text(1)},
                  {"format", or_null(st.opt_text(2))},
                  {"type", or_null(st.opt_text(3))},
                  {"data", or_null(st.opt_text(4))},
                  {"revision", st.integer(7)}};
        if (st.integer(5)) {
            s["atomic"] = st.integer(5);
        }
        if (st.integer(6)) {
            s["line"] = st.integer(6);
        }
        if (!st.integer(8)) {
            s["verify"] = false;
        }
        if (!st.is_null(10)) {
            s["remove"] = {{"verb", st.text(10)}};
            if (st.text(10) == "Replace") {
                s["remove"]["format"] = or_null(st.opt_text(11));
                s["remove"]["type"] = or_null(st.opt_text(12));
                s["remove"]["data"] = or_null(st.opt_text(13));
            }
        }
        if (st.integer(9)) {
            s["secret"] = true;  // its value is not shown
            s["data"] = nullptr;
            if (s.contains("remove") && s["remove"].contains("data")) {
                s["remove"]["data"] = nullptr;
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

// The profile in its API shape: whole, or (for the list) with the number
// of its settings in place of them and of its SyncML.
std::optional<json> profile_json(Db &db, const std::string &name, bool whole)
{
    json p;
    std::optional<std::string> syncml;
    {
        Stmt st(db, "SELECT revision, syncml, created_at, updated_at,"
                    " (SELECT count(*) FROM profile_settings"
                    "  WHERE profile_name = profiles.name)"
                    " FROM profiles WHERE name = ?");
        st.bind(1, name);
        if (!st.step()) {
            return std::nullopt;
        }
        p = {{"name", name},
             {"revision", st.integer(0)},
             {"created_at", st.text(2)},
             {"updated_at", st.text(3)}};
        syncml = st.opt_text(1);
        if (!whole) {
            p["setting_count"] = st.integer(4);
        }
    }
    if (whole) {
        p["syncml"] = or_null(syncml);
        p["settings"] = settings_json(db, name);
    }
    p["assignments"] = assignments(db, name);
    return p;
}

// `revision` for the settings that are new or changed; the others keep
// the revision of `unchanged` (target -> digest, revision).
void insert_settings(
    Db &db, const NewProfile &p, int64_t revision,
    const std::map<std::string, std::pair<std::string, int64_t>> &unchanged)
{
    Stmt ins(db, "INSERT INTO profile_settings (profile_name, target,"
                 " position, verb, format, type, data, atomic, line,"
                 " revision, digest, verify, secret, remove_verb,"
                 " remove_format, remove_type, remove_data)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < p.settings.size(); i++) {
        const ProfileSetting &s = p.settings[i];
        std::string digest = digest_of(s);
        auto old = unchanged.find(s.target);
        int64_t changed_in = old != unchanged.end()
                                     && old->second.first == digest
                                 ? old->second.second
                                 : revision;
        ins.reset();
        ins.bind(1, p.name)
            .bind(2, s.target)
            .bind(3, static_cast<int64_t>(i))
            .bind(4, s.verb)
            .bind(5, s.format)
            .bind(6, s.type)
            .bind(7, s.data)
            .bind(8, s.atomic)
            .bind(9, s.line)
            .bind(10, changed_in)
            .bind(11, digest)
            .bind(12, static_cast<int64_t>(s.verify))
            .bind(13, static_cast<int64_t>(s.secret))
            .bind(14, s.remove_verb)
            .bind(15, s.remove_format)
            .bind(16, s.remove_type)
            .bind(17, s.remove_data)
            .run();
    }
}

bool profile_exists(Db &db, const std::string &name)
{
    Stmt st(db, "SELECT 1 FROM profiles WHERE name = ?");
    st.bind(1, name);
    return st.step();
}

}  // namespace

std::optional<json> Store::create_profile(const NewProfile &p)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        if (profile_exists(db_, p.name)) {
            return std::nullopt;
        }
        std::string now = now_iso8601();
        // ON CONFLICT: another process may have created it since
        Stmt ins(db_, "INSERT INTO profiles (name, revision, syncml, created_at,"
                      " updated_at) VALUES (?, 1, ?, ?, ?) ON CONFLICT DO NOTHING");
        ins.bind(1, p.name).bind(2, p.syncml).bind(3, now).bind(4, now).run();
        if (db_.changes() == 0) {
            return std::nullopt;
        }
        insert_settings(db_, p, 1, {});
        std::optional<json> out = profile_json(db_, p.name, true);
        tx.commit();
        return out;
    });
}

std::optional<json> Store::replace_profile(const NewProfile &p)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        int64_t revision;
        {
            // locked: two revisions made at once get different numbers
            Stmt st(db_, (std::string("SELECT revision FROM profiles WHERE name = ?")
                          + row_lock(db_)).c_str());
            st.bind(1, p.name);
            if (!st.step()) {
                return std::nullopt;
            }
            revision = st.integer(0) + 1;
        }
        std::map<std::string, std::pair<std::string, int64_t>> old;
        {
            Stmt st(db_, "SELECT target, digest, revision FROM profile_settings"
                         " WHERE profile_name = ?");
            st.bind(1, p.name);
            while (st.step()) {
                old[st.text(0)] = {st.text(1), st.integer(2)};
            }
        }
        Stmt del(db_, "DELETE FROM profile_settings WHERE profile_name = ?");
        del.bind(1, p.name).run();
        insert_settings(db_, p, revision, old);
        Stmt up(db_, "UPDATE profiles SET revision = ?, syncml = ?,"
                     " updated_at = ? WHERE name = ?");
        up.bind(1, revision).bind(2, p.syncml).bind(3, now_iso8601())
            .bind(4, p.name).run();
        std::optional<json> out = profile_json(db_, p.name, true);
        tx.commit();
        return out;
    });
}

json Store::profiles()
{
    return read([&]() -> json {
        std::vector<std::string> all;
        {
            Stmt st(db_, "SELECT name FROM profiles ORDER BY name");
            while (st.step()) {
                all.push_back(st.text(0));
            }
        }
        json out = json::array();
        for (const std::string &name : all) {
            out.push_back(*profile_json(db_, name, false));
        }
        return out;
    });
}

std::optional<json> Store::profile(const std::string &name)
{
    return read([&]() -> std::optional<json> {
        return profile_json(db_, name, true);
    });
}

bool Store::delete_profile(const std::string &name)
{
    // Settings, assignments and per-device states go with it; the
    // commands it queued stay in the devices' histories.  First each
    // device that had a setting with a "remove" applied is sent it once.
    return write([&]() -> bool {
        Transaction tx(db_);
        std::string now = now_iso8601();
        struct Applied {
            std::string device, target;
            int64_t revision;
        };
        std::vector<Applied> applied;
        {
            Stmt st(db_, "SELECT d.device_id, d.target, d.profile_revision"
                         " FROM device_setting_states d"
                         " JOIN profile_settings s ON s.profile_name = d.profile_name"
                         " AND s.target = d.target"
                         " WHERE d.profile_name = ? AND s.remove_verb IS NOT NULL"
                         " AND (d.state IN ('verified', 'verifying')"
                         " OR d.checked_at IS NOT NULL)"
                         " ORDER BY d.device_id, s.position");
            st.bind(1, name);
            while (st.step()) {
                applied.push_back({st.text(0), st.text(1), st.integer(2)});
            }
        }
        std::vector<NewCommand> removals;
        for (const Applied &a : applied) {
            removals.push_back(removal_command(db_, name, a.target));
        }
        for (size_t i = 0; i < applied.size(); i++) {
            queue_removal(applied[i].device, {name, applied[i].revision,
                                              applied[i].target, "remove"},
                          removals[i], now);
        }
        Stmt del(db_, "DELETE FROM profiles WHERE name = ?");
        del.bind(1, name).run();
        bool found = db_.changes() > 0;
        tx.commit();
        return found;
    });
}

LinkResult Store::set_assignment(const std::string &profile, Assignee kind,
                                 const std::string &who, bool assigned)
{
    return write([&]() -> LinkResult {
        Transaction tx(db_);
        if (!profile_exists(db_, profile)) {
            return LinkResult::unknown_profile;
        }
        bool group = kind == Assignee::group;
        if (group) {
            Stmt st(db_, "SELECT 1 FROM device_groups WHERE name = ?");
            st.bind(1, who);
            if (!st.step()) {
                return LinkResult::unknown_group;
            }
        } else if (!device_exists(who)) {
            return LinkResult::unknown_device;
        }
        const char *sql =
            assigned ? (group ? "INSERT INTO profile_group_assignments"
                                " (profile_name, group_name) VALUES (?, ?)"
                                " ON CONFLICT DO NOTHING"
                              : "INSERT INTO profile_device_assignments"
                                " (profile_name, device_id) VALUES (?, ?)"
                                " ON CONFLICT DO NOTHING")
                     : (group ? "DELETE FROM profile_group_assignments"
                                " WHERE profile_name = ? AND group_name = ?"
                              : "DELETE FROM profile_device_assignments"
                                " WHERE profile_name = ? AND device_id = ?");
        Stmt st(db_, sql);
        st.bind(1, profile).bind(2, who).run();
        bool changed = db_.changes() > 0;
        tx.commit();
        return assigned || changed ? LinkResult::ok : LinkResult::not_linked;
    });
}

}  // namespace omadm_backend
