#include "contract_api.hpp"

#include "contract_command.hpp"
#include "crypto.hpp"
#include "http_json.hpp"
#include "json_text.hpp"
#include "object_piece.hpp"
#include "request_auth.hpp"
#include "request_metrics.hpp"

#include <algorithm>

namespace omadm_backend {

namespace {

using Handler = std::function<void(const json &, httplib::Response &)>;

// Every contract call: key first (401), then a JSON object body (400).
httplib::Server::Handler guarded(const std::string &key, Handler inner)
{
    return [&key, inner](const httplib::Request &req, httplib::Response &res) {
        if (!has_contract_key(req, key)) {
            reply_error(res, 401, "missing or wrong X-Omadm-Key");
            return;
        }
        if (std::optional<json> body = json_body(req, res)) {
            inner(*body, res);
        }
    };
}

bool string_field(const json &body, const char *name, std::string &out,
                  httplib::Response &res)
{
    auto it = body.find(name);
    if (it == body.end() || !it->is_string()) {
        reply_error(res, 400, std::string("\"") + name + "\" must be a string");
        return false;
    }
    out = it->get<std::string>();
    return true;
}

bool count_field(const json &body, const char *name, size_t &out,
                 httplib::Response &res)
{
    auto it = body.find(name);
    if (it == body.end() || !it->is_number_unsigned()) {
        reply_error(res, 400, std::string("\"") + name
                                  + "\" must be a non-negative integer");
        return false;
    }
    out = it->get<size_t>();
    return true;
}

// The credential record `auth` answers, and since contract version 2
// `nonce` too.
json credential_record(const DeviceCredentials &c, int contract_version)
{
    json answer = {{"device_id", c.device_id},
                   {"username", c.username},
                   {"inner", c.inner},
                   {"nonce", c.nonce},
                   {"previous_nonces", c.previous_nonces}};
    if (!c.server_username.empty()) {
        answer["server_username"] = c.server_username;
        answer["server_inner"] = c.server_inner;
        answer["server_basic"] = c.server_basic;
        answer["server_nonce"] = c.server_nonce;
    }
    if (contract_version >= 2) {
        answer["credential_version"] = c.version;
    }
    return answer;
}

void auth(Store &store, int contract_version, const json &body,
          httplib::Response &res)
{
    std::string device_id;
    if (!string_field(body, "device_id", device_id, res)) {
        return;
    }
    // The presented username is not checked here: the module compares it
    // with the registered one we return.
    std::optional<DeviceCredentials> c = store.credentials(device_id);
    if (!c) {
        reply_error(res, 404, "unknown device");
        return;
    }
    reply_json(res, 200, credential_record(*c, contract_version));
}

// An unknown device gets a stand-in that behaves like a held nonce (the
// same on every challenge), so a challenge does not tell an outsider which
// ids are registered; its login fails at "auth" all the same.  A known one
// gets its credential record as well (version 2), so that the login the
// challenge asks for needs no `auth` call; the module never shows it to
// the device.
void nonce(Store &store, const std::string &contract_key, int contract_version,
           const json &body, httplib::Response &res)
{
    std::string device_id, value;
    if (!string_field(body, "device_id", device_id, res)
        || !string_field(body, "nonce", value, res)) {
        return;
    }
    std::optional<std::string> held = store.issue_nonce(device_id, value);
    if (!held) {
        reply_json(res, 200,
                   {{"nonce", keyed_nonce(contract_key, "nonce:" + device_id)}});
        return;
    }
    json answer = {{"nonce", *held}};
    if (contract_version >= 2) {
        // Read after the nonce was settled; a login between the two makes
        // the record's nonce newer than `held`, which the module survives
        // (its check against the record fails, and it asks `auth`).
        if (std::optional<DeviceCredentials> c = store.credentials(device_id)) {
            answer["credentials"] = credential_record(*c, contract_version);
        }
    }
    reply_json(res, 200, answer);
}

void exchange(Store &store, int contract_version, const json &body,
              httplib::Response &res)
{
    ExchangeRequest req;
    std::string error;
    if (!parse_exchange_request(body, req, error)) {
        reply_error(res, 400, error);
        return;
    }
    if (contract_version < 2) {
        req.credential_version.reset();  // as a backend that never knew it
    }
    // A retry may carry a newer credential_version than its first attempt
    // (the module looked the credentials up again): the same message.
    json same_message = body;
    same_message.erase("next_nonce");
    same_message.erase("credential_version");
    req.fingerprint = sha256_hex(json_text(same_message));
    ExchangeAnswer a = store.exchange(req);
    switch (a.outcome) {
    case ExchangeOutcome::ok:
        reply_json(res, 200, a.body);
        break;
    case ExchangeOutcome::unknown_device:
        reply_error(res, 404, "unknown device");
        break;
    case ExchangeOutcome::nonce_conflict:
        reply_error(res, 409, "nonce");
        break;
    case ExchangeOutcome::credentials_changed:
        reply_error(res, 409, "credentials changed");
        break;
    }
}

// A piece of a command's data: from `offset`, at most `length` bytes, whole
// UTF-8 characters, the answer within max_answer_bytes once escaped.
void object(Store &store, const json &body, httplib::Response &res)
{
    std::string device_id, command_id;
    size_t offset, length;
    if (!string_field(body, "device_id", device_id, res)
        || !string_field(body, "command_id", command_id, res)
        || !count_field(body, "offset", offset, res)
        || !count_field(body, "length", length, res)) {
        return;
    }
    if (length == 0) {
        reply_error(res, 400, "\"length\" must be at least 1");
        return;
    }
    // Never more than one answer could carry, whatever `length` says.
    std::optional<StoredRange> r = store.object_range(
        device_id, command_id, offset, std::min(length, max_answer_bytes));
    if (!r) {
        reply_error(res, 404, "unknown command");
        return;
    }
    if (offset > r->size) {
        reply_error(res, 400, "\"offset\" is past the end of the data ("
                                  + std::to_string(r->size) + " bytes)");
        return;
    }
    if (!r->bytes.empty() && is_continuation_byte(r->bytes[0])) {
        reply_error(res, 400, "\"offset\" is inside a UTF-8 character");
        return;
    }
    size_t budget = max_answer_bytes
                    - json_text({{"data", ""}, {"size", r->size}}).size();
    size_t n = piece_bytes(r->bytes, offset + r->bytes.size() == r->size,
                           budget);
    if (n == 0 && offset < r->size) {
        reply_error(res, 400, "length too small");
        return;
    }
    r->bytes.resize(n);
    reply_json(res, 200, {{"data", std::move(r->bytes)}, {"size", r->size}});
}

}  // namespace

void mount_contract_api(httplib::Server &server, Store &store,
                        const std::string &contract_key, int contract_version)
{
    add_counted_route(server, "POST", "/contract/auth",
                guarded(contract_key,
                        [&store, contract_version](const json &b, auto &res) {
                            auth(store, contract_version, b, res);
                        }));
    add_counted_route(server, "POST", "/contract/nonce",
                guarded(contract_key, [&store, &contract_key, contract_version](
                                          const json &b, auto &res) {
                    nonce(store, contract_key, contract_version, b, res);
                }));
    add_counted_route(server, "POST", "/contract/exchange",
                guarded(contract_key,
                        [&store, contract_version](const json &b, auto &res) {
                            exchange(store, contract_version, b, res);
                        }));
    add_counted_route(server, "POST", "/contract/object",
                guarded(contract_key, [&store](const json &b, auto &res) {
                    object(store, b, res);
                }));
}

}  // namespace omadm_backend
