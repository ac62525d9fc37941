#include "session_state.hpp"

#include <nlohmann/json.hpp>

namespace omadm {

using json = nlohmann::json;

std::string session_key(std::string_view device_id,
                        std::string_view session_id)
{
    // The prefix keeps the key families apart.  A device id holding '\n'
    // could alias another pair, but only of ids the sender may claim
    // anyway: the token, not the key, is what proves a session.
    std::string k("s:");
    k.append(device_id).append(1, '\n').append(session_id);
    return k;
}

std::string failures_key(std::string_view device_id)
{
    std::string k("f:");
    k.append(device_id);
    return k;
}

// The bookkeeping as JSON, then a NUL (which JSON text never holds), then
// the last response as raw bytes: a resend is byte-identical, and the
// response is copied rather than escaped and parsed on every message.
std::string serialize(const session_state &s)
{
    json j = {
        {"token", s.token},
        {"authenticated", s.authenticated},
        {"server_msg_id", s.server_msg_id},
        {"last_device_msg_id", s.last_device_msg_id},
        {"outstanding", s.outstanding},
        {"ended", s.ended},
        {"scheme", s.scheme},
        {"mac_nonce", s.mac_nonce},
        {"username", s.username},
        {"server_authenticated", s.server_authenticated},
        {"server_cred_sent", s.server_cred_sent},
        {"server_resends", s.server_resends},
        {"server_nonce", s.server_nonce},
        {"last_response_hmac", s.last_response_hmac},
        {"device_max_msg_size", s.device_max_msg_size},
        {"pending", s.pending},
    };
    std::string blob = j.dump(-1, ' ', false, json::error_handler_t::replace);
    blob.push_back('\0');
    blob.append(s.last_response);
    return blob;
}

std::string serialize(const auth_failures &f)
{
    json j = {{"count", f.count}, {"window_start", f.window_start}};
    return j.dump();
}

bool deserialize(std::string_view blob, session_state &out)
{
    size_t nul = blob.find('\0');
    if (nul == std::string_view::npos) return false;
    json j = json::parse(blob.substr(0, nul), nullptr, false);
    if (!j.is_object()) return false;
    try {
        out.token = j.at("token").get<std::string>();
        out.authenticated = j.at("authenticated").get<bool>();
        out.server_msg_id = j.at("server_msg_id").get<unsigned long>();
        out.last_device_msg_id = j.at("last_device_msg_id").get<std::string>();
        out.outstanding =
            j.at("outstanding").get<std::map<std::string, std::string>>();
        out.ended = j.at("ended").get<bool>();
        // auth fields: absent in a blob written before they existed
        out.scheme = j.value("scheme", std::string());
        out.mac_nonce = j.value("mac_nonce", std::string());
        out.username = j.value("username", std::string());
        out.server_authenticated = j.value("server_authenticated", false);
        out.server_cred_sent = j.value("server_cred_sent", false);
        out.server_resends = j.value("server_resends", 0u);
        out.server_nonce = j.value("server_nonce", std::string());
        out.last_response_hmac =
            j.value("last_response_hmac", std::string());
        out.device_max_msg_size = j.value("device_max_msg_size", 0ul);
        out.pending = j.value("pending", std::vector<std::string>());
    } catch (const json::exception &) {
        return false;
    }
    out.last_response.assign(blob.substr(nul + 1));
    return true;
}

bool deserialize(std::string_view blob, auth_failures &out)
{
    json j = json::parse(blob, nullptr, false);
    if (!j.is_object()) return false;
    try {
        out.count = j.at("count").get<unsigned>();
        out.window_start = j.at("window_start").get<long long>();
    } catch (const json::exception &) {
        return false;
    }
    return true;
}

}  // namespace omadm
