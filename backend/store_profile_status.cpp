// Profile state as the operator reads it: per device and setting, and per
// profile across the devices it applies to.
#include "store.hpp"

#include "profile_state.hpp"

namespace omadm_backend {

namespace {

json id_or_null(std::optional<int64_t> id)
{
    return id ? json(std::to_string(*id)) : json(nullptr);
}

json or_null(const std::optional<std::string> &v)
{
    return v ? json(*v) : json(nullptr);
}

// One profile on one device: {"name", "revision", "state", "settings"}.
json profile_on_device(const DesiredState &desired,
                       const std::map<SettingKey, SettingRow> &rows,
                       const std::string &profile)
{
    json settings = json::array();
    std::vector<std::string> states;
    int64_t revision = 0;
    for (const DesiredSetting &s : desired.settings) {
        if (s.profile != profile) {
            continue;
        }
        revision = s.profile_revision;
        auto it = rows.find({s.target, s.profile});
        const SettingRow *row = it == rows.end() ? nullptr : &it->second;
        SettingOutcome o = effective_outcome(s, desired, row);
        // The commands shown are those of the setting's current revision.
        bool current = row && row->setting_revision == s.revision
                       && !desired.blocked.count(s.target);
        states.push_back(o.state);
        settings.push_back(
            {{"target", s.target},
             {"verb", s.verb},
             {"revision", s.revision},
             {"state", o.state},
             {"status", o.status ? json(*o.status) : json(nullptr)},
             {"reason", or_null(o.reason)},
             {"checked_at", or_null(o.checked_at)},
             {"apply_command", id_or_null(current ? row->apply_id
                                                  : std::nullopt)},
             {"verify_command", id_or_null(current ? row->verify_id
                                                   : std::nullopt)}});
    }
    return {{"name", profile},
            {"revision", revision},
            {"state", profile_state(states)},
            {"settings", std::move(settings)}};
}

// How the profile reaches the device: directly and/or through groups.
json assigned_through(Db &db, const std::string &profile,
                      const std::string &device_id)
{
    bool direct;
    {
        Stmt st(db, "SELECT 1 FROM profile_device_assignments"
                    " WHERE profile_name = ? AND device_id = ?");
        st.bind(1, profile).bind(2, device_id);
        direct = st.step();
    }
    Stmt st(db, "SELECT a.group_name FROM profile_group_assignments a"
                " JOIN group_members m ON m.group_name = a.group_name"
                " WHERE a.profile_name = ? AND m.device_id = ?"
                " ORDER BY a.group_name");
    st.bind(1, profile).bind(2, device_id);
    json groups = json::array();
    while (st.step()) {
        groups.push_back(st.text(0));
    }
    return {{"device", direct}, {"groups", std::move(groups)}};
}

}  // namespace

std::optional<json> Store::device_profiles(const std::string &device_id)
{
    return read([&]() -> std::optional<json> {
        if (!device_exists(device_id)) {
            return std::nullopt;
        }
        DesiredState desired = desired_state(db_, device_id);
        std::map<SettingKey, SettingRow> rows = setting_rows(db_, device_id);
        json out = json::array();
        std::string last;
        for (const DesiredSetting &s : desired.settings) {
            if (s.profile == last) {
                continue;  // settings come grouped by profile
            }
            last = s.profile;
            json p = profile_on_device(desired, rows, s.profile);
            p["assigned"] = assigned_through(db_, s.profile, device_id);
            out.push_back(std::move(p));
        }
        return out;
    });
}

std::optional<json> Store::profile_status(const std::string &name)
{
    return read([&]() -> std::optional<json> {
        int64_t revision;
        {
            Stmt st(db_, "SELECT revision FROM profiles WHERE name = ?");
            st.bind(1, name);
            if (!st.step()) {
                return std::nullopt;
            }
            revision = st.integer(0);
        }
        std::vector<std::string> devices;
        {
            Stmt st(db_, "SELECT device_id FROM profile_device_assignments"
                         " WHERE profile_name = ?1 UNION"
                         " SELECT m.device_id FROM profile_group_assignments a"
                         " JOIN group_members m ON m.group_name = a.group_name"
                         " WHERE a.profile_name = ?1 ORDER BY 1");
            st.bind(1, name);
            while (st.step()) {
                devices.push_back(st.text(0));
            }
        }
        json counts = {{"pending", 0}, {"verifying", 0}, {"verified", 0},
                       {"failed", 0}};
        json failing = json::array();
        for (const std::string &device_id : devices) {
            json p = profile_on_device(desired_state(db_, device_id),
                                       setting_rows(db_, device_id), name);
            std::string state = p["state"];
            counts[state] = counts[state].get<int64_t>() + 1;
            if (state != "failed") {
                continue;
            }
            json settings = json::array();
            for (const json &s : p["settings"]) {
                if (s["state"] == "failed") {
                    settings.push_back({{"target", s["target"]},
                                        {"status", s["status"]},
                                        {"reason", s["reason"]}});
                }
            }
            failing.push_back(
                {{"device_id", device_id}, {"settings", std::move(settings)}});
        }
        return json{{"name", name},
                    {"revision", revision},
                    {"devices", devices.size()},
                    {"counts", std::move(counts)},
                    {"failing", std::move(failing)}};
    });
}

}  // namespace omadm_backend
