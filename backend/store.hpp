// The backend's durable state: devices, their command queues with results,
// and alerts, in one SQLite or PostgreSQL database.  Every public call that
// writes runs in a transaction committed before the call returns, so an
// HTTP answer is only sent for state that is already on disk (SQLite: on
// the single writer, concurrent calls sharing a commit; PostgreSQL: on a
// pooled connection, several backend processes sharing the database).
// Calls that only read run on reader connections, beside the writers.
#pragma once

#include "exchange_request.hpp"
#include "profile_model.hpp"
#include "db.hpp"
#include "store_connections.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace omadm_backend {

using nlohmann::json;

struct NewDevice {
    std::string device_id;
    std::string username;
    std::string password;
    // optional: the server's name and secret toward this device
    std::string server_username, server_password;
};

struct NewCommand {
    std::string verb;
    std::string target;  // "" for Alert, Atomic and Sequence
    std::optional<std::string> data, format, type, correlator;
    // Copy: the node copied.  Alert: options (URL-encoded, Item 1), text
    // (Item 2), choices (Items 3+).  Atomic / Sequence: nested commands.
    std::optional<std::string> source, options, text;
    std::vector<std::string> choices;
    std::vector<NewCommand> commands;
};

// A page of GET /api/v1/devices?limit=&cursor=&q=&sort= (store_console.cpp).
struct DevicePageQuery {
    size_t limit = 50;
    std::string q;                   // substring, case-insensitive; "" any
    std::string sort = "device_id";  // device_id, created_at or last_seen
    bool descending = false;
    // the last row of the previous page: its sort key and device id
    std::optional<std::pair<std::string, std::string>> after;
};

struct DevicePage {
    json devices = json::array();
    std::optional<std::pair<std::string, std::string>> next;  // more after
};

struct DeviceCredentials {
    std::string device_id;
    std::string username;
    std::string inner;  // B64(MD5(username ":" password))
    std::string nonce;  // "" until the module first issued one
    std::vector<std::string> previous_nonces;  // newest first
    // the server's credentials toward the device ("" when none)
    std::string server_username;
    std::string server_inner;  // B64(MD5(server_username ":" secret))
    std::string server_basic;  // B64(server_username ":" secret)
    std::string server_nonce;  // last nonce the device issued the server
    // Tags the fields above but the nonces: changes whenever a password,
    // server secret or user name does (an enrollment replaced included),
    // so an exchange verified against a copy can be told it is out of date.
    std::string version;
};

// DeviceCredentials::version of those credentials: a digest of what a
// login is verified with, never of a nonce (the compare-and-swap on the
// nonce covers that).
std::string credential_version(const std::string &username,
                               const std::string &inner,
                               const std::string &server_username,
                               const std::string &server_inner,
                               const std::string &server_basic);

// How many replaced nonces a device keeps (DeviceCredentials).
constexpr size_t kept_previous_nonces = 4;

enum class ExchangeOutcome {
    ok,
    unknown_device,
    nonce_conflict,
    credentials_changed,  // credential_version is not the current one
};

struct ExchangeAnswer {
    ExchangeOutcome outcome;
    json body;  // {"commands": [...]} when ok
};

// A Windows PC's enrollment (MS-MDE2): the device record it creates, with
// the OMA DM account the provisioning document hands the device.
struct NewEnrollment {
    std::string device_id;  // the DeviceID the PC sent
    std::string user;       // the enrollment user who enrolled it
    std::string device_name, os_version, hw_dev_id, enrollment_type;
    // generated: the device's OMA DM login and first nonce, the server's
    // secret toward the device and the nonce the server uses first
    std::string username, password, nonce;
    std::string server_username, server_password, server_nonce;
    std::string cert_serial, cert_thumbprint, cert_not_after;
};

enum class EnrollOutcome {
    created,
    replaced,  // the DeviceID had enrolled before: new account, new nonce
    registered_by_operator  // refused: the operator's device, never enrolled
};

struct EnrolledDevice {
    std::string device_id, enrollment_type;
};
// Group membership and profile assignment.
enum class LinkResult { ok, unknown_group, unknown_device, unknown_profile,
                        not_linked };
enum class Assignee { group, device };

// Some bytes of a command's data, for the contract's `object` call.
struct StoredRange {
    size_t size = 0;    // bytes of the whole value (0 when it has none)
    std::string bytes;  // from the offset asked, at most as many as asked
};

class Store {
public:
    // Opens, creates or migrates the schema (store_schema.cpp).  A SQLite
    // ":memory:" is a database in memory, for tests only: nothing survives
    // the process (and reads queue behind the writer: a memory database has
    // a single connection).
    explicit Store(const DatabaseTarget &target);
    ~Store();

    // Operator API. Objects are returned in their API JSON shape.
    std::optional<json> create_device(const NewDevice &d);  // nullopt: exists
    // POST /devices:batch (store_device_batch.cpp): every device in one
    // transaction; true where it was created, false where its id existed
    // (or came earlier in the same batch).
    std::vector<bool> create_devices(const std::vector<NewDevice> &devices);
    std::optional<json> device(const std::string &device_id);
    json devices();
    bool delete_device(const std::string &device_id);  // false: unknown
    // The console's views (store_console.cpp).
    DevicePage device_page(const DevicePageQuery &q);
    json stats(const std::string &now);

    std::optional<json> add_command(const std::string &device_id,
                                    const NewCommand &c);  // nullopt: unknown
    std::optional<json> command(const std::string &device_id,
                                const std::string &command_id);
    std::optional<json> commands(const std::string &device_id);
    std::optional<json> alerts(const std::string &device_id);

    // Windows enrollment (store_enrollment.cpp).  User names are compared
    // as given; the caller folds their case.
    // {"username", "created_at"}; nullopt: that user exists
    std::optional<json> add_enrollment_user(const std::string &username,
                                            const std::string &password_hash);
    json enrollment_users();
    bool delete_enrollment_user(const std::string &username);  // false: unknown
    std::optional<std::string> enrollment_user_hash(const std::string &username);
    EnrollOutcome enroll(const NewEnrollment &e);
    // The enrolled device whose current client certificate this is.
    std::optional<EnrolledDevice> enrolled_by_certificate(
        const std::string &thumbprint);
    // false: that certificate is no longer the device's current one.
    bool renew_certificate(const std::string &device_id,
                           const std::string &old_thumbprint,
                           const std::string &serial,
                           const std::string &thumbprint,
                           const std::string &not_after);
    // Groups (store_groups.cpp).
    std::optional<json> create_group(const std::string &name);  // nullopt: exists
    json groups();
    std::optional<json> group(const std::string &name);
    bool delete_group(const std::string &name);  // false: unknown
    // Adds the device to the group, or removes it.
    LinkResult set_group_member(const std::string &group,
                                const std::string &device_id, bool member);

    // Profiles (store_profiles.cpp): a PUT makes a new revision.
    std::optional<json> create_profile(const NewProfile &p);  // nullopt: exists
    std::optional<json> replace_profile(const NewProfile &p);  // nullopt: unknown
    json profiles();
    std::optional<json> profile(const std::string &name);
    bool delete_profile(const std::string &name);  // false: unknown
    // Assigns the profile to a group or device, or removes the assignment.
    LinkResult set_assignment(const std::string &profile, Assignee kind,
                              const std::string &who, bool assigned);
    // Per setting states (store_profile_status.cpp).
    std::optional<json> device_profiles(const std::string &device_id);
    std::optional<json> profile_status(const std::string &name);
    // How long a verified setting goes before it is read back again at a
    // session start (0: at every session).
    void set_profile_recheck_hours(int hours);
    void set_profile_recheck_sessions(int sessions);

    // Contract.
    std::optional<DeviceCredentials> credentials(const std::string &device_id);
    // false: unknown device
    bool set_password(const std::string &device_id, const std::string &password);
    // The nonce a challenge carries: the device's, or where it has none
    // `candidate`, stored; nullopt for an unknown device.
    std::optional<std::string> issue_nonce(const std::string &device_id,
                                           const std::string &candidate);
    ExchangeAnswer exchange(const ExchangeRequest &req);
    // nullopt: the device has no such command in state `sent`.
    std::optional<StoredRange> object_range(const std::string &device_id,
                                            const std::string &command_id,
                                            size_t offset, size_t max_bytes);

    // The connections' counters, for the metrics.  readers: all zero for
    // ":memory:" (no reader connections).
    using ConnectionStats = Connections::Stats;
    ConnectionStats connection_stats() const { return connections_->stats(); }

private:
    // How every public call reaches the database (store_connections.hpp).
    // write(): the body runs in a transaction (SQLite: a SAVEPOINT of the
    // writer's group) and this returns once that is committed (or throws
    // what the body threw, or the commit's failure).  On PostgreSQL a body
    // may run again after a conflict: it must not change anything outside
    // the database before it returns.  read(): the body runs on a reader
    // connection in one read transaction.  Inside a call both run the body
    // in place.  Within the body, db_ is the call's connection.
    template <class Body>
    auto write(Body &&body) -> decltype(body());
    template <class Body>
    auto read(Body &&body) -> decltype(body());

    // Helpers: the caller is inside write() or read() (and its
    // transaction, when it writes).
    bool device_exists(const std::string &device_id);
    // Before a read-check-write sequence on one device (its nonce's
    // compare-and-swap, "exchange already answered?", handing out its
    // queued commands): PostgreSQL locks the device's row until the call
    // commits, so a call of another connection or process on the same
    // device waits and then reads what this one wrote.  SQLite needs
    // nothing: its calls run one at a time on the writer, in BEGIN
    // IMMEDIATE.  false: no such device.
    bool lock_device(const std::string &device_id);
    // Runs a DELETE of one row by its key; false when there was none.
    // A write call of its own.
    bool delete_row(const char *sql, const std::string &key);
    bool set_nonce(const std::string &device_id,
                   const std::string &nonce);  // false: unknown device
    json command_json(int64_t id);
    // command trees (store_command_tree.cpp)
    int64_t insert_command(const std::string &device_id, const NewCommand &c,
                           std::optional<int64_t> parent,
                           const std::string &now);
    json command_tree_fields(int64_t id, const std::string &verb,
                             const std::string &device_id,
                             const std::string &created_at);
    json contract_tree(int64_t id);  // contract shape, with children
    std::vector<int64_t> child_ids(int64_t id);
    size_t tree_size(int64_t id);
    void mark_tree_sent(int64_t id, const std::string &session_id,
                        const std::string &now);
    void requeue_sent(const std::string &device_id, const std::string &now);
    void requeue_refused(const ExchangeRequest &req, const std::string &now);
    void apply_results(const ExchangeRequest &req, const std::string &now);
    void apply_statuses(const ExchangeRequest &req, const std::string &now);
    void apply_failed(const ExchangeRequest &req, const std::string &now);
    void merge_devinfo(const std::string &device_id, const json &devinfo);
    void append_alerts(const ExchangeRequest &req, const std::string &now);
    json take_queued(const ExchangeRequest &req, const std::string &now);
    // enrollment (store_enrollment.cpp)
    json enrollment_json(const std::string &device_id);  // null: none
    // an unenrolled device: its credentials are refused
    bool management_ended(const std::string &device_id);
    // the Windows unenrollment alert ends management (open commands fail)
    void end_management_if_asked(const ExchangeRequest &req,
                                 const std::string &now);
    void record_checkin(const std::string &device_id, const std::string &now);
    json group_names(const std::string &device_id);
    // profiles in a session (reconcile.cpp)
    void settle_profile_commands(const ExchangeRequest &req,
                                 const std::string &now);
    void reconcile_profiles(const std::string &device_id,
                            const std::string &now);
    // A setting's "remove" command for a device the setting no longer
    // applies to, unless another profile still sets the target.
    void queue_removal(const std::string &device_id, const ProfileMark &mark,
                       const NewCommand &c, const std::string &now);
    // Ids of the command queued and of its nested commands, in order.
    std::vector<int64_t> queue_profile_command(const std::string &device_id,
                                               const NewCommand &c,
                                               const ProfileMark &mark,
                                               const std::string &now);

    CallConnection db_;  // the connection of the call on this thread
    std::unique_ptr<Connections> connections_;
    std::atomic<int> profile_recheck_hours_{24};
    std::atomic<int> profile_recheck_sessions_{0};
};

template <class Body>
auto Store::write(Body &&body) -> decltype(body())
{
    using Result = decltype(body());
    if constexpr (std::is_void_v<Result>) {
        connections_->write(body);
    } else {
        std::optional<Result> out;
        connections_->write([&] { out.emplace(body()); });
        return std::move(*out);
    }
}

template <class Body>
auto Store::read(Body &&body) -> decltype(body())
{
    if (db_.bound()) {
        return body();  // inside a call: its connection and transaction
    }
    using Result = decltype(body());
    if constexpr (std::is_void_v<Result>) {
        connections_->read(body);
    } else {
        std::optional<Result> out;
        connections_->read([&] { out.emplace(body()); });
        return std::move(*out);
    }
}

// Adds the columns command trees need to an older database, whatever its
// schema version (store_command_tree.cpp); idempotent.
void add_command_tree_columns(Db &db);

// The enrollment tables (store_enrollment.cpp), whatever the schema
// version; idempotent.
void add_enrollment_tables(Db &db);
// The console's table of check-ins and its indexes (store_console.cpp);
// idempotent.
void add_console_schema(Db &db);

// Registering a device (store_devices.cpp): the INSERT, which does nothing
// for an id that exists, and its parameters from the operator's input.
extern const char *const insert_device_sql;
Stmt &bind_new_device(Stmt &ins, const NewDevice &d, const std::string &now);

// A device's columns and its API shape from a row of them
// (store_devices.cpp).
const char *device_json_columns();
json device_json_row(const Stmt &st);
// A device's enrollment columns and their API shape (GET /devices/{id}'s
// "enrollment") from a row holding them from column `first`
// (store_enrollment.cpp).
const char *enrollment_json_columns();
json enrollment_json_row(const Stmt &st, int first);
// The tables of groups and profiles and the profile marks of commands
// (profile_schema.cpp); idempotent.
void add_profile_schema(Db &db);

// Adds each (name, declaration) column `table` lacks; idempotent.
void add_missing_columns(
    Db &db, const char *table,
    const std::vector<std::pair<const char *, const char *>> &columns);

// {"profile": {"name", "revision", "setting", "purpose"}} for a command a
// profile queued, {} for an operator's (profile_schema.cpp).
json profile_mark_fields(Db &db, int64_t command_id);
// The "remove" command of a profile's setting (reconcile.cpp).
NewCommand removal_command(Db &db, const std::string &profile,
                           const std::string &target);
// Commands of "secret" settings: marked when queued, their data and
// results shown as null with "secret": true (profile_schema.cpp).
void mark_secret_commands(Db &db, const std::vector<int64_t> &ids);
void redact_secret_command(Db &db, int64_t command_id, json &command);

// The first column of each row of `sql` (one parameter, `key`) as a JSON
// array of strings (store_groups.cpp).
json string_list(Db &db, const char *sql, const std::string &key);

// An alerts row (id, code, correlator, items, received_at) in its API shape.
json alert_json(const Stmt &st);

// " FOR NO KEY UPDATE" on PostgreSQL, to lock the rows a SELECT reads until
// the call commits (another writer's UPDATE or lock waits; foreign keys to
// them do not); "" on SQLite, whose writer runs one call at a time.
const char *row_lock(Db &db);

// "17" -> 17; nullopt for anything that is not a plain decimal row id.
std::optional<int64_t> parse_row_id(const std::string &s);

}  // namespace omadm_backend
