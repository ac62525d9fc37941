// One contract `exchange` call, validated (docs/backend-api.md).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace omadm_backend {

struct ExchangeStatus {
    std::string command_id;
    int64_t status;
    // the Status's Items: [{"source","target","data"}] (strings), e.g. a
    // user-interaction alert's answer
    nlohmann::json items = nlohmann::json::array();
};

struct ExchangeResult {
    std::string command_id, source, format, type, data;
};

struct ExchangeAlert {
    std::string code, correlator;
    nlohmann::json items;  // array of objects, stored as given
};

// A command the module could not send (too large for the device's
// MaxMsgSize): it ends failed with status 413 and this reason.
struct ExchangeFailed {
    std::string command_id;
    std::string reason;
};

struct ExchangeRequest {
    std::string device_id, session_id, msg_id;
    bool session_start = false;
    std::optional<std::string> used_nonce, next_nonce;
    // the DeviceCredentials::version the module verified against
    std::optional<std::string> credential_version;
    // server authentication: the nonce the device issued for the server's
    // next Cred, and commands the device refused unexecuted (-> queued)
    std::optional<std::string> server_next_nonce;
    std::vector<std::string> requeue;
    std::vector<ExchangeFailed> failed;
    std::optional<nlohmann::json> devinfo;  // an object when present
    std::vector<ExchangeAlert> alerts;
    std::vector<ExchangeStatus> statuses;
    std::vector<ExchangeResult> results;
    int64_t max_commands = 50;
    // Identifies the device message: the request less next_nonce, which
    // the module draws anew on each attempt (see Store::exchange).
    std::string fingerprint;
};

// Fills `out` from a request body; on failure returns false with `error`
// saying which field is wrong.
bool parse_exchange_request(const nlohmann::json &body, ExchangeRequest &out,
                            std::string &error);

}  // namespace omadm_backend
