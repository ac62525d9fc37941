// What a device's answers to a setting's commands mean for the setting:
// pending, verifying, verified or failed, with the reason in words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace omadm_backend {

// One of a setting's commands as the store holds it.
struct CommandOutcome {
    std::string verb;
    std::string state;  // queued, sent, done, failed
    std::optional<int64_t> status;
    std::optional<std::string> reason;  // why the module could not send it
    std::string updated_at;
    std::optional<std::string> value;  // a Get's first Results item
};

struct SettingOutcome {
    std::string state = "pending";
    std::optional<int64_t> status;
    std::optional<std::string> reason;
    std::optional<std::string> checked_at;  // when the device confirmed it
};

// The setting's state once its last commands are answered: `apply` (the
// Replace, Add, Exec or Delete; none for a re-check) and `verify` (the
// read-back Get; none for Exec and Delete), compared with `desired` as
// `format` says.  With neither, `current` stands.
SettingOutcome settle(const SettingOutcome &current,
                      const std::optional<CommandOutcome> &apply,
                      const std::optional<CommandOutcome> &verify,
                      const std::string &format, const std::string &desired,
                      bool secret = false);

// A SyncML status code in words: 404 "the node does not exist on the
// device".
std::string status_words(int64_t status);

}  // namespace omadm_backend
