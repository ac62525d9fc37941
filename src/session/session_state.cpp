#include "session/session_state.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "backend/command_json.hpp"

namespace omadm {

using json = nlohmann::json;

// The large objects' bookkeeping, field by field (a missing one throws
// json::exception, and the blob is not one we wrote).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(incoming_object, command_id, source, format,
                                   type, declared, received, get_status, serial,
                                   segments, tail)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(outgoing_object, command, command_id, size,
                                   sent, chunk_key, acked, fetch, serial,
                                   stalled)

// The bookkeeping as JSON, then a NUL (which JSON text never holds), then
// the last response as raw bytes: a resend is byte-identical, and the
// response is copied rather than escaped and parsed on every message.
std::string serialize(const session_state &s)
{
    json pending = json::array();
    for (const auto &c : s.pending) pending.push_back(to_json_value(c));
    json j = {
        {"token", s.token},
        {"authenticated", s.authenticated},
        {"server_msg_id", s.server_msg_id},
        {"last_device_msg_id", s.last_device_msg_id},
        {"last_request_print", s.last_request_print},
        {"outstanding", s.outstanding},
        {"ended", s.ended},
        {"scheme", scheme_name(s.scheme)},
        {"mac_nonce", s.mac_nonce.b64()},
        {"username", s.username},
        {"server_authenticated", s.server_authenticated},
        {"server_cred_sent", s.server_cred_sent},
        {"server_resends", s.server_resends},
        {"server_nonce", s.server_nonce.b64()},
        {"last_response_hmac", s.last_response_hmac},
        {"device_max_msg_size", s.device_max_msg_size},
        {"pending", pending},
        {"device_max_obj_size", s.device_max_obj_size},
        {"package_open", s.package_open},
        {"held", s.held},
        {"object_serial", s.object_serial},
    };
    if (s.receiving) j["incoming"] = s.incoming;
    if (s.sending) j["outgoing"] = s.outgoing;
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
        out.last_request_print = j.value("last_request_print", std::string());
        out.outstanding
            = j.at("outstanding").get<std::map<std::string, std::string>>();
        out.ended = j.at("ended").get<bool>();
        // auth fields: absent in a blob written before they existed
        out.scheme = scheme_of_name(j.value("scheme", std::string()));
        out.mac_nonce = nonce::from_b64(j.value("mac_nonce", std::string()));
        out.username = j.value("username", std::string());
        out.server_authenticated = j.value("server_authenticated", false);
        out.server_cred_sent = j.value("server_cred_sent", false);
        out.server_resends = j.value("server_resends", 0u);
        out.server_nonce
            = nonce::from_b64(j.value("server_nonce", std::string()));
        out.last_response_hmac = j.value("last_response_hmac", std::string());
        out.device_max_msg_size = j.value("device_max_msg_size", 0ul);
        out.pending.clear();
        for (const auto &c : j.value("pending", json::array())) {
            std::string why;
            out.pending.emplace_back();
            if (!read_command(c, out.pending.back(), why)) return false;
        }
        out.device_max_obj_size = j.value("device_max_obj_size", 0ull);
        out.package_open = j.value("package_open", false);
        out.held = j.value("held", std::map<std::string, int>());
        out.object_serial = j.value("object_serial", 0u);
        out.receiving = j.contains("incoming");
        if (out.receiving) j.at("incoming").get_to(out.incoming);
        out.sending = j.contains("outgoing");
        if (out.sending) j.at("outgoing").get_to(out.outgoing);
    } catch (const json::exception &) {
        return false;
    } catch (const std::invalid_argument &) {  // a kept command is not one
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
