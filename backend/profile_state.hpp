// A device's desired state (every setting of every profile that applies to
// it, directly or through its groups, with the conflicts between them) and
// what the store knows of each setting on the device.  Shared by
// reconciliation and the status views; callers hold the store's lock.
#pragma once

#include "setting_outcome.hpp"
#include "db.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace omadm_backend {

struct DesiredSetting {
    std::string profile;
    int64_t profile_revision = 0;
    std::string verb, target;
    std::optional<std::string> format;
    int64_t atomic = 0;    // its Atomic within the profile, 0: none
    int64_t revision = 0;  // the profile revision that last changed it
    std::string digest;    // what it asks of the device
    bool verify = true;    // read back by a Get when it can be
};

struct DesiredState {
    std::vector<DesiredSetting> settings;  // by profile name, then position
    // Targets not applied, and why: set differently (or inside an Atomic)
    // by several profiles, or in an Atomic with such a target.
    std::map<std::string, std::string> blocked;
    // ./User/ targets (and their Atomics) held back until the device's
    // last LoginStatus alert (1224) says "user", and why: pending.
    std::map<std::string, std::string> waiting;
};

DesiredState desired_state(Db &db, const std::string &device_id);

// A row of device_setting_states.
struct SettingRow {
    int64_t setting_revision = 0, profile_revision = 0;
    SettingOutcome outcome;
    std::optional<int64_t> apply_id, verify_id;
    int64_t sessions_unchecked = 0;  // since it was last read back
};

using SettingKey = std::pair<std::string, std::string>;  // target, profile

std::map<SettingKey, SettingRow> setting_rows(Db &db,
                                              const std::string &device_id);

// A setting as the operator sees it: the row's state when it is about the
// setting's current revision, pending when the device has not been asked
// for that yet, failed when blocked.
SettingOutcome effective_outcome(const DesiredSetting &s,
                                 const DesiredState &desired,
                                 const SettingRow *row);

// The profile's state from its settings': failed, else pending, else
// verifying, else verified.
std::string profile_state(const std::vector<std::string> &setting_states);

}  // namespace omadm_backend
