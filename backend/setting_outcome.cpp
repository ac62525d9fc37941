#include "setting_outcome.hpp"

#include "setting_values.hpp"

#include <map>

namespace omadm_backend {

namespace {

bool open(const CommandOutcome &c)
{
    return c.state == "queued" || c.state == "sent";
}

// 215 (not executed) and 216 (rolled back) are 2xx codes, and the command
// is done, but the device holds nothing of it.  A Delete of a node that is
// not there leaves the device as the profile wants it, and so does an Add
// of an interior node that exists (418).
bool carried_out(const CommandOutcome &c, const std::string &format)
{
    if (c.verb == "Delete" && c.status == 404) {
        return true;
    }
    if (c.verb == "Add" && c.status == 418 && format == "node") {
        return true;
    }
    return c.state == "done" && c.status != 215 && c.status != 216;
}

// A value in a reason: quoted, at most 64 bytes of it (whole characters).
std::string quoted(const std::string &v)
{
    constexpr size_t most = 64;
    if (v.size() <= most) {
        return "\"" + v + "\"";
    }
    size_t n = most;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xc0) == 0x80) {
        n--;
    }
    return "\"" + v.substr(0, n) + "…\"";
}

std::string no_status_words(const CommandOutcome &c)
{
    if (c.reason) {
        return "not sent: " + *c.reason;
    }
    return c.status ? status_words(*c.status)
                    : "the device sent no status for it";
}

SettingOutcome failed(const CommandOutcome &c, const std::string &reason)
{
    return {"failed", c.status, reason, std::nullopt};
}

// The Get's answer against the value wanted.
SettingOutcome read_back(const CommandOutcome &get, const std::string &format,
                         const std::string &desired, const char *prefix,
                         bool secret)
{
    if (get.state == "failed") {
        return failed(get, "could not read it back: " + no_status_words(get));
    }
    if (!get.value) {
        return failed(get, "the device's Get returned no value");
    }
    if (!same_value(format, desired, *get.value) && secret) {
        return failed(get, prefix + std::string("the device reports another"
                                                " value (secret: values not"
                                                " shown)"));
    }
    if (!same_value(format, desired, *get.value)) {
        return failed(get, prefix + std::string("the device reports ")
                               + quoted(*get.value) + ", not "
                               + quoted(desired));
    }
    return {"verified", get.status, std::nullopt, get.updated_at};
}

}  // namespace

SettingOutcome settle(const SettingOutcome &current,
                      const std::optional<CommandOutcome> &apply,
                      const std::optional<CommandOutcome> &verify,
                      const std::string &format, const std::string &desired,
                      bool secret)
{
    if (!apply) {
        // A re-check of a verified setting: it stays verified until the
        // Get says otherwise.
        if (!verify || open(*verify)) {
            return current;
        }
        return read_back(*verify, format, desired, "drifted: ", secret);
    }
    if (open(*apply)) {
        return {"pending", std::nullopt, std::nullopt, current.checked_at};
    }
    if (!carried_out(*apply, format)) {
        return failed(*apply, no_status_words(*apply));
    }
    if (!verify) {  // Exec, Delete, an interior node: the Status says it all
        return {"verified", apply->status, std::nullopt, apply->updated_at};
    }
    if (open(*verify)) {
        return {"verifying", apply->status, std::nullopt, current.checked_at};
    }
    return read_back(*verify, format, desired, "", secret);
}

std::string status_words(int64_t status)
{
    static const std::map<int64_t, const char *> words = {
        {215, "not executed"},
        {216, "rolled back: another command of its Atomic failed"},
        {400, "the device found the command malformed"},
        {401, "the device did not accept the server's credentials"},
        {403, "permission denied"},
        {404, "the node does not exist on the device"},
        {405, "not allowed"},
        {406, "optional feature not supported"},
        {407, "the device did not accept the server's credentials"},
        {413, "too large for the device"},
        {415, "the device does not support this format or type"},
        {418, "the node already exists (Add does not change it: use"
              " Replace)"},
        {420, "the device is out of memory"},
        {425, "permission denied"},
        {500, "the device failed to apply it"},
        {507, "the Atomic failed"},
        {516, "the Atomic failed and could not be rolled back"},
    };
    auto it = words.find(status);
    if (it != words.end()) {
        return it->second;
    }
    return "the device answered " + std::to_string(status);
}

}  // namespace omadm_backend
