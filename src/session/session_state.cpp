#include "session/session_state.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "backend/command_json.hpp"
#include "backend/json_writer.hpp"
#include "common/byte_record.hpp"
#include "session/kept_answer.hpp"

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
// the last response as raw bytes: what the record says, for tests and
// tools (the module before this one stored it so).
std::string describe(const session_state &s)
{
    json pending = json::array();
    for (const auto &c : s.pending) pending.push_back(to_json_value(c));
    json j = {
        {"token", s.token},
        {"authenticated", s.authenticated},
        {"server_msg_id", s.server_msg_id},
        {"last_device_msg_id", s.last_device_msg_id},
        {"last_request_print", s.last_request_print},
        {"last_request_bytes_print", s.last_request_bytes_print},
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

// The record in the zone: a magic (a JSON blob of the module before
// this one starts with '{', so it reads as absent: one re-authentication),
// the fields in a fixed order, and the kept answer deflated last.  The
// rarely kept parts (commands waiting, a large object in flight) are JSON
// inside it: they are seldom there and already have a checked reader.
namespace {

const char k_record_magic[] = "\xb5S1";
const size_t k_max_kept_answer = size_t(1) << 24;

// the record's flags
const unsigned f_authenticated = 1, f_ended = 2, f_server_authenticated = 4,
               f_server_cred_sent = 8, f_package_open = 16, f_receiving = 32,
               f_sending = 64;

std::string json_text(const json &j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string serialize(const session_state &s)
{
    record_writer w;
    w.raw(k_record_magic);
    auto bit = [](bool on, unsigned f) { return on ? f : 0u; };
    w.number(bit(s.authenticated, f_authenticated) | bit(s.ended, f_ended)
             | bit(s.server_authenticated, f_server_authenticated)
             | bit(s.server_cred_sent, f_server_cred_sent)
             | bit(s.package_open, f_package_open)
             | bit(s.receiving, f_receiving) | bit(s.sending, f_sending));
    w.bytes(s.last_device_msg_id);  // the head first: see peek()
    w.hex_or_bytes(s.last_request_bytes_print);
    w.hex_or_bytes(s.token);
    w.number(s.server_msg_id);
    w.hex_or_bytes(s.last_request_print);
    w.number(s.outstanding.size());
    for (const auto &[k, v] : s.outstanding) {
        w.bytes(k);
        w.bytes(v);
    }
    w.number((unsigned) s.scheme);
    w.bytes(s.mac_nonce.b64());
    w.bytes(s.username);
    w.number(s.server_resends);
    w.bytes(s.server_nonce.b64());
    w.bytes(s.last_response_hmac);
    w.number(s.device_max_msg_size);
    w.number(s.pending.size());
    for (const auto &c : s.pending) w.bytes(json_text(to_json_value(c)));
    w.number(s.device_max_obj_size);
    w.number(s.held.size());
    for (const auto &[k, v] : s.held) {
        w.bytes(k);
        w.number((uint32_t) v);
    }
    w.number(s.object_serial);
    if (s.receiving) w.bytes(json_text(json(s.incoming)));
    if (s.sending) w.bytes(json_text(json(s.outgoing)));
    w.bytes(pack_answer(s.last_response));
    return std::move(w.text());
}

namespace {

// a JSON text of the record into a value (false: not one)
template <class T> bool read_json(record_reader &r, T &out)
{
    std::string_view text;
    if (!r.bytes(text)) return false;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return false;
    try {
        j.get_to(out);
    } catch (const json::exception &) {
        return false;
    } catch (const std::invalid_argument &) {  // a kept command is not one
        return false;
    }
    return true;
}

bool read_nonce(record_reader &r, nonce &out)
{
    std::string_view b64;
    if (!r.bytes(b64)) return false;
    out = nonce::from_b64(b64);
    return true;
}

}  // namespace

bool peek(std::string_view blob, record_head &out)
{
    record_reader r(blob);
    unsigned flags = 0;
    if (!r.prefix(k_record_magic) || !r.number_as(flags)
        || !r.bytes(out.last_device_msg_id)
        || !r.hex_or_bytes(out.last_request_bytes_print))
        return false;
    out.authenticated = flags & f_authenticated;
    out.ended = flags & f_ended;
    return true;
}

bool deserialize(std::string_view blob, session_state &out)
{
    record_reader r(blob);
    unsigned flags = 0, scheme = 0;
    size_t n = 0;
    if (!r.prefix(k_record_magic) || !r.number_as(flags)
        || !r.bytes(out.last_device_msg_id)
        || !r.hex_or_bytes(out.last_request_bytes_print)
        || !r.hex_or_bytes(out.token) || !r.number_as(out.server_msg_id)
        || !r.hex_or_bytes(out.last_request_print) || !r.number_as(n))
        return false;
    out.authenticated = flags & f_authenticated;
    out.ended = flags & f_ended;
    out.server_authenticated = flags & f_server_authenticated;
    out.server_cred_sent = flags & f_server_cred_sent;
    out.package_open = flags & f_package_open;
    out.receiving = flags & f_receiving;
    out.sending = flags & f_sending;
    out.outstanding.clear();
    for (size_t i = 0; i < n; i++) {
        std::string k, v;
        if (!r.bytes(k) || !r.bytes(v)) return false;
        out.outstanding.emplace(std::move(k), std::move(v));
    }
    if (!r.number_as(scheme) || !read_nonce(r, out.mac_nonce)
        || !r.bytes(out.username) || !r.number_as(out.server_resends)
        || !read_nonce(r, out.server_nonce)
        || !r.bytes(out.last_response_hmac)
        || !r.number_as(out.device_max_msg_size) || !r.number_as(n))
        return false;
    // the scheme as a name and back: a number that is none of ours is none
    out.scheme = scheme_of_name(scheme_name(auth_scheme(scheme)));
    out.pending.clear();
    for (size_t i = 0; i < n; i++) {
        out.pending.emplace_back();
        if (!read_json(r, out.pending.back())) return false;
    }
    out.held.clear();
    if (!r.number_as(out.device_max_obj_size) || !r.number_as(n)) return false;
    for (size_t i = 0; i < n; i++) {
        std::string k;
        uint32_t v;
        if (!r.bytes(k) || !r.number_as(v)) return false;
        out.held.emplace(std::move(k), (int) v);
    }
    if (!r.number_as(out.object_serial)) return false;
    if (out.receiving && !read_json(r, out.incoming)) return false;
    if (out.sending && !read_json(r, out.outgoing)) return false;
    std::string_view packed;
    if (!r.bytes(packed) || !r.at_end()) return false;
    auto answer = unpack_answer(packed, k_max_kept_answer);
    if (!answer) return false;
    out.last_response = std::move(*answer);
    return true;
}

std::string serialize(const auth_failures &f)
{
    json_writer w(48);
    w.begin_object()
        .member("count", f.count)
        .member("window_start", f.window_start)
        .end_object();
    return w.take();
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
