// Configuration profiles as the operator uploads them: named sets of
// settings, each one node of the device's tree and what it should hold
// (docs/backend-api.md, "Profiles").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace omadm_backend {

// One setting: a top-level command of the profile (or one Item of it).
struct ProfileSetting {
    std::string verb;  // Replace, Add, Exec or Delete
    std::string target;
    std::optional<std::string> format, type, data;
    int64_t atomic = 0;  // settings of one <Atomic> share its number (1, 2…)
    int64_t line = 0;    // where it starts in uploaded SyncML (0: JSON)
    bool verify = true;  // false: a write-only node, its Status says all
    bool secret = false;  // its value never shown by the API
    // "remove": sent once to each device that had the setting applied when
    // the setting stops applying to it (unassigned, profile deleted): a
    // Delete, or a Replace to a default value.
    std::optional<std::string> remove_verb, remove_format, remove_type,
        remove_data;
};

struct NewProfile {
    std::string name;
    std::vector<ProfileSetting> settings;
    std::optional<std::string> syncml;  // the uploaded text, when raw
};

// A 400 about an upload; `line` > 0 points into the uploaded SyncML.
struct ProfileError {
    std::string error;
    int64_t line = 0;
};

// What ties a queued command to the profile setting it carries out; shown
// with the command in the operator API.
struct ProfileMark {
    std::string profile;
    int64_t revision = 0;
    std::optional<std::string> setting;  // its target; none on an Atomic
    std::string purpose;                 // "apply", "verify" or "remove"
};

constexpr size_t max_profile_settings = 1000;
constexpr size_t max_name_chars = 128;  // profile and group names

// A Replace or Add of a value is confirmed by reading it back with a Get;
// Exec, Delete and the Add of an interior node by their Status alone.
// A setting with "verify": false (a write-only node) by its Status too.
inline bool verified_by_read_back(const std::string &verb,
                                  const std::optional<std::string> &format,
                                  bool verify = true)
{
    return verify && (verb == "Replace" || verb == "Add")
           && format.value_or("chr") != "node"
           && format.value_or("chr") != "null";
}

}  // namespace omadm_backend
