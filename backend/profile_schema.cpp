// The tables of groups and profiles (schema version 4), and the marks that
// tie a queued command to the profile setting it carries out.
#include "store.hpp"

namespace omadm_backend {

namespace {

// A profile's settings are replaced whole by each revision; `revision` of
// a setting is the profile revision that last changed it, so that a new
// revision re-applies only what changed.  device_setting_states has one
// row per device and applicable setting once reconciliation looked at it:
// what the device was last asked and what it answered.  Commands hold no
// foreign key to profiles: deleting a profile leaves the device's command
// history as it is.
constexpr const char *profile_sql = R"sql(
CREATE TABLE IF NOT EXISTS device_groups (
    name        TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
    group_name  TEXT NOT NULL REFERENCES device_groups(name) ON DELETE CASCADE,
    device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, device_id)
);
CREATE INDEX IF NOT EXISTS group_members_by_device
    ON group_members (device_id, group_name);
CREATE TABLE IF NOT EXISTS profiles (
    name        TEXT PRIMARY KEY,
    revision    INTEGER NOT NULL,
    syncml      TEXT,           -- the uploaded raw SyncML, NULL for settings
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_settings (
    profile_name TEXT NOT NULL REFERENCES profiles(name) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    verb        TEXT NOT NULL,
    format      TEXT,
    type        TEXT,
    data        TEXT,
    atomic      INTEGER NOT NULL DEFAULT 0,  -- shared by one Atomic's settings
    line        INTEGER NOT NULL DEFAULT 0,  -- in the uploaded SyncML
    revision    INTEGER NOT NULL,
    digest      TEXT NOT NULL,   -- of verb, format, type, data
    PRIMARY KEY (profile_name, target)
);
CREATE TABLE IF NOT EXISTS profile_group_assignments (
    profile_name TEXT NOT NULL REFERENCES profiles(name) ON DELETE CASCADE,
    group_name  TEXT NOT NULL REFERENCES device_groups(name) ON DELETE CASCADE,
    PRIMARY KEY (profile_name, group_name)
);
CREATE TABLE IF NOT EXISTS profile_device_assignments (
    profile_name TEXT NOT NULL REFERENCES profiles(name) ON DELETE CASCADE,
    device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    PRIMARY KEY (profile_name, device_id)
);
CREATE INDEX IF NOT EXISTS profile_device_assignments_by_device
    ON profile_device_assignments (device_id);
CREATE TABLE IF NOT EXISTS device_setting_states (
    device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    profile_name TEXT NOT NULL REFERENCES profiles(name) ON DELETE CASCADE,
    setting_revision INTEGER NOT NULL,  -- the setting's revision asked for
    profile_revision INTEGER NOT NULL,  -- the profile's, when last asked
    state       TEXT NOT NULL
                CHECK (state IN ('pending', 'verifying', 'verified', 'failed')),
    status      INTEGER,
    reason      TEXT,
    apply_command_id  INTEGER,          -- the Replace/Add/Exec/Delete
    verify_command_id INTEGER,          -- the read-back Get
    checked_at  TEXT,                   -- when the device last confirmed it
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, target, profile_name)
);
)sql";

}  // namespace

void add_profile_schema(Db &db)
{
    db.exec(profile_sql);
    // The mark of a profile's command: which profile, at which revision,
    // which setting (NULL on an Atomic), and whether it applies or reads
    // back.  Operator commands have none.
    // Sessions a verified setting went through since it was last read
    // (--profile-recheck-sessions).
    add_missing_columns(db, "device_setting_states",
                        {
                            {"sessions_unchecked", "INTEGER NOT NULL DEFAULT 0"},
                        });
    // A setting read back by no Get ("verify": false).
    add_missing_columns(db, "profile_settings",
                        {
                            {"verify", "INTEGER NOT NULL DEFAULT 1"},
                            // "secret": true, its value never shown
                            {"secret", "INTEGER NOT NULL DEFAULT 0"},
                            // "remove": its verb (Delete, Replace) and value
                            {"remove_verb", "TEXT"},
                            {"remove_format", "TEXT"},
                            {"remove_type", "TEXT"},
                            {"remove_data", "TEXT"},
                        });
    add_missing_columns(db, "commands",
                        {
                            {"profile_name", "TEXT"},
                            {"profile_revision", "INTEGER"},
                            {"profile_target", "TEXT"},
                            {"profile_purpose", "TEXT"},  // apply, verify
                            // 1: carries a secret setting (data and
                            // results not shown)
                            {"profile_secret", "INTEGER"},
                        });
}

void mark_secret_commands(Db &db, const std::vector<int64_t> &ids)
{
    Stmt up(db, "UPDATE commands SET profile_secret = 1 WHERE id = ?"
                " AND EXISTS (SELECT 1 FROM profile_settings s"
                " WHERE s.profile_name = commands.profile_name"
                " AND s.target = commands.profile_target AND s.secret = 1)");
    for (int64_t id : ids) {
        up.reset();
        up.bind(1, id).run();
    }
}

void redact_secret_command(Db &db, int64_t command_id, json &command)
{
    Stmt st(db, "SELECT 1 FROM commands WHERE id = ? AND profile_secret = 1");
    st.bind(1, command_id);
    if (!st.step()) {
        return;
    }
    command["secret"] = true;
    if (command.contains("data") && !command["data"].is_null()) {
        command["data"] = nullptr;
    }
    if (command.contains("results")) {
        for (json &r : command["results"]) {
            r["data"] = nullptr;
        }
    }
}

json profile_mark_fields(Db &db, int64_t command_id)
{
    Stmt st(db, "SELECT profile_name, profile_revision, profile_target,"
                " profile_purpose FROM commands WHERE id = ?"
                " AND profile_name IS NOT NULL");
    st.bind(1, command_id);
    if (!st.step()) {
        return json::object();
    }
    json setting = nullptr;
    if (!st.is_null(2)) {
        setting = st.text(2);
    }
    return {{"profile",
             {{"name", st.text(0)},
              {"revision", st.integer(1)},
              {"setting", setting},
              {"purpose", st.text(3)}}}};
}

}  // namespace omadm_backend
