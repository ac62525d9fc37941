#include "enrollment_users.hpp"

#include "http_json.hpp"
#include "password_hash.hpp"

#include <algorithm>

namespace omadm_backend {

namespace {

// Five wrong passwords a minute per user and address, as omadm_auth_failures
// does for devices.
constexpr size_t max_failures = 5;
constexpr std::chrono::seconds failure_window{60};
constexpr size_t counted_pairs = 10000;

constexpr size_t max_user_name_bytes = 256;
constexpr size_t max_password_bytes = 1024;

bool has_control_char(const std::string &s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

// {"username", "password"}: nothing else, both non-empty strings.
bool parse_new_user(const json &body, std::string &username,
                    std::string &password, std::string &error)
{
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (it.key() != "username" && it.key() != "password") {
            error = "unknown field \"" + it.key() + "\"";
            return false;
        }
    }
    for (const char *name : {"username", "password"}) {
        auto it = body.find(name);
        if (it == body.end() || !it->is_string()
            || it->get_ref<const std::string &>().empty()) {
            error = std::string("\"") + name + "\" must be a non-empty string";
            return false;
        }
    }
    username = body["username"].get<std::string>();
    password = body["password"].get<std::string>();
    if (username.size() > max_user_name_bytes || has_control_char(username)) {
        error = "\"username\" must be at most "
                + std::to_string(max_user_name_bytes)
                + " bytes without control characters";
        return false;
    }
    if (password.size() > max_password_bytes) {
        error = "\"password\" must be at most "
                + std::to_string(max_password_bytes) + " bytes";
        return false;
    }
    // The services read the UsernameToken's values without the white space
    // around them (Microsoft's samples indent them).
    auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    };
    if (space(username.front()) || space(username.back())
        || space(password.front()) || space(password.back())) {
        error = "\"username\" and \"password\" must not begin or end with"
                " white space";
        return false;
    }
    return true;
}

}  // namespace

std::string fold_user_name(const std::string &name)
{
    std::string out = name;
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

EnrollmentUsers::EnrollmentUsers(Store &store)
    : store_(store), throttle_(max_failures, failure_window, counted_pairs)
{}

SignIn EnrollmentUsers::sign_in(const std::string &username,
                                const std::string &password,
                                const std::string &address)
{
    std::string name = fold_user_name(username);
    std::string key = name + '\n' + address;
    SignIn out;
    out.wait_seconds = throttle_.wait_seconds(key);
    if (out.wait_seconds > 0) return out;
    std::optional<std::string> hash = store_.enrollment_user_hash(name);
    if (hash) {
        out.ok = password_matches(password, *hash);
    } else {
        spend_password_check(password);
    }
    if (out.ok) {
        throttle_.succeeded(key);
    } else {
        throttle_.failed(key);
    }
    return out;
}

void add_enrollment_user_routes(PathRouter &r, Store &store)
{
    using Params = PathRouter::Params;
    r.add("GET", "/api/v1/enrollment-users",
          [&store](const httplib::Request &, httplib::Response &res,
                   const Params &) {
              reply_json(res, 200, store.enrollment_users());
          });
    r.add("POST", "/api/v1/enrollment-users",
          [&store](const httplib::Request &req, httplib::Response &res,
                   const Params &) {
              std::optional<json> body = json_body(req, res);
              if (!body) return;
              std::string username, password, error;
              if (!parse_new_user(*body, username, password, error)) {
                  reply_error(res, 400, error);
                  return;
              }
              username = fold_user_name(username);
              std::optional<json> created = store.add_enrollment_user(
                  username, hash_password(password));
              if (!created) {
                  reply_error(res, 409, "enrollment user already exists");
                  return;
              }
              reply_json(res, 201, *created);
          });
    r.add("DELETE", "/api/v1/enrollment-users/{}",
          [&store](const httplib::Request &, httplib::Response &res,
                   const Params &p) {
              if (!store.delete_enrollment_user(fold_user_name(p[0]))) {
                  reply_error(res, 404, "unknown enrollment user");
                  return;
              }
              res.status = 204;
          });
}

}  // namespace omadm_backend
