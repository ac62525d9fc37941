#include "profile_state.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace omadm_backend {

namespace {

// Every profile assigned to the device or to one of its groups.
constexpr const char *desired_sql =
    "WITH applicable(name) AS ("
    " SELECT profile_name FROM profile_device_assignments WHERE device_id = ?1"
    " UNION SELECT a.profile_name FROM profile_group_assignments a"
    " JOIN group_members m ON m.group_name = a.group_name"
    " WHERE m.device_id = ?1)"
    " SELECT p.name, p.revision, s.verb, s.target, s.format, s.atomic,"
    " s.revision, s.digest, s.verify FROM applicable"
    " JOIN profiles p ON p.name = applicable.name"
    " JOIN profile_settings s ON s.profile_name = p.name"
    " ORDER BY p.name, s.position";

// "\"A\" and \"B\"", "\"A\", \"B\" and \"C\"".
std::string name_list(const std::vector<std::string> &names)
{
    std::string out;
    for (size_t i = 0; i < names.size(); i++) {
        if (i > 0) {
            out += i + 1 == names.size() ? " and " : ", ";
        }
        out += "\"" + names[i] + "\"";
    }
    return out;
}

// A target several profiles set is applied once when they all ask the same
// outside any Atomic; otherwise none of them gets it, and every one says
// why, rather than the device flapping between them.
void find_conflicts(DesiredState &d)
{
    std::map<std::string, std::vector<const DesiredSetting *>> by_target;
    for (const DesiredSetting &s : d.settings) {
        by_target[s.target].push_back(&s);
    }
    for (const auto &[target, setters] : by_target) {
        if (setters.size() < 2) {
            continue;
        }
        bool same_value = true, in_atomic = false;
        std::vector<std::string> names;
        for (const DesiredSetting *s : setters) {
            same_value = same_value && s->digest == setters[0]->digest;
            in_atomic = in_atomic || s->atomic;
            names.push_back(s->profile);
        }
        if (!same_value || in_atomic) {
            d.blocked[target] = "conflict: profiles " + name_list(names)
                                + (names.size() == 2 ? " both set " : " all set ")
                                + target
                                + (same_value ? ", one inside an Atomic"
                                              : ", to different values");
        }
    }
    // An Atomic is all or nothing: a blocked member blocks the others.
    std::map<std::pair<std::string, int64_t>, std::string> atomic_blocked;
    for (const DesiredSetting &s : d.settings) {
        if (s.atomic && d.blocked.count(s.target)) {
            atomic_blocked.emplace(std::make_pair(s.profile, s.atomic),
                                   s.target);
        }
    }
    for (const DesiredSetting &s : d.settings) {
        auto it = atomic_blocked.find({s.profile, s.atomic});
        if (s.atomic && it != atomic_blocked.end()
            && !d.blocked.count(s.target)) {
            d.blocked[s.target] = "not applied: its Atomic also holds "
                                  + it->second + ", which is in conflict";
        }
    }
}

// What the device's last LoginStatus alert (1224, Meta/Type
// com.microsoft/MDM/LoginStatus) said: "user", "others", "none"; nullopt
// when it sent none.
std::optional<std::string> login_status(Db &db, const std::string &device_id)
{
    Stmt st(db, "SELECT items FROM alerts WHERE device_id = ?"
                " AND code = '1224' ORDER BY id DESC");
    st.bind(1, device_id);
    while (st.step()) {
        nlohmann::json items = nlohmann::json::parse(st.text(0), nullptr, false);
        if (!items.is_array()) {
            continue;
        }
        for (const nlohmann::json &i : items) {
            if (i.is_object() && i.value("type", std::string())
                                     == "com.microsoft/MDM/LoginStatus") {
                return i.value("data", std::string());
            }
        }
    }
    return std::nullopt;
}

// Settings of the user's scope wait for a logged-in user; an Atomic with
// one of them waits whole.
void find_waiting(Db &db, const std::string &device_id, DesiredState &d)
{
    std::optional<std::string> login;
    bool looked = false;
    std::set<std::pair<std::string, int64_t>> atomics;
    for (const DesiredSetting &s : d.settings) {
        if (s.target.rfind("./User/", 0) != 0) {
            continue;
        }
        if (!looked) {
            login = login_status(db, device_id);
            looked = true;
        }
        if (login == std::string("user")) {
            return;
        }
        d.waiting[s.target] =
            login ? "waiting for a user to log in (LoginStatus \"" + *login
                        + "\")"
                  : "waiting for a user to log in (no LoginStatus alert yet)";
        if (s.atomic) {
            atomics.insert({s.profile, s.atomic});
        }
    }
    for (const DesiredSetting &s : d.settings) {
        if (s.atomic && atomics.count({s.profile, s.atomic})
            && !d.waiting.count(s.target)) {
            d.waiting[s.target] = "waiting with its Atomic for a user to log in";
        }
    }
}

}  // namespace

DesiredState desired_state(Db &db, const std::string &device_id)
{
    DesiredState d;
    Stmt st(db, desired_sql);
    st.bind(1, device_id);
    while (st.step()) {
        d.settings.push_back({st.text(0), st.integer(1), st.text(2),
                              st.text(3), st.opt_text(4), st.integer(5),
                              st.integer(6), st.text(7),
                              st.integer(8) != 0});
    }
    find_conflicts(d);
    find_waiting(db, device_id, d);
    return d;
}

std::map<SettingKey, SettingRow> setting_rows(Db &db,
                                              const std::string &device_id)
{
    std::map<SettingKey, SettingRow> rows;
    Stmt st(db, "SELECT target, profile_name, setting_revision,"
                " profile_revision, state, status, reason, apply_command_id,"
                " verify_command_id, checked_at, sessions_unchecked"
                " FROM device_setting_states"
                " WHERE device_id = ?");
    st.bind(1, device_id);
    while (st.step()) {
        SettingRow r;
        r.setting_revision = st.integer(2);
        r.profile_revision = st.integer(3);
        r.outcome.state = st.text(4);
        if (!st.is_null(5)) {
            r.outcome.status = st.integer(5);
        }
        r.outcome.reason = st.opt_text(6);
        if (!st.is_null(7)) {
            r.apply_id = st.integer(7);
        }
        if (!st.is_null(8)) {
            r.verify_id = st.integer(8);
        }
        r.outcome.checked_at = st.opt_text(9);
        r.sessions_unchecked = st.integer(10);
        rows.emplace(SettingKey{st.text(0), st.text(1)}, std::move(r));
    }
    return rows;
}

SettingOutcome effective_outcome(const DesiredSetting &s,
                                 const DesiredState &desired,
                                 const SettingRow *row)
{
    auto blocked = desired.blocked.find(s.target);
    if (blocked != desired.blocked.end()) {
        return {"failed", std::nullopt, blocked->second, std::nullopt};
    }
    auto waiting = desired.waiting.find(s.target);
    bool current = row && row->setting_revision == s.revision;
    if (waiting != desired.waiting.end()
        && (!current || row->outcome.state != "verified")) {
        return {"pending", std::nullopt, waiting->second, std::nullopt};
    }
    if (!current) {
        return {};  // pending
    }
    return row->outcome;
}

std::string profile_state(const std::vector<std::string> &setting_states)
{
    std::set<std::string> seen(setting_states.begin(), setting_states.end());
    for (const char *s : {"failed", "pending", "verifying"}) {
        if (seen.count(s)) {
            return s;
        }
    }
    return "verified";
}

}  // namespace omadm_backend
