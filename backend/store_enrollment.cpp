// Windows enrollment in the store: enrollment users, the device record an
// enrollment creates or replaces, certificate renewal, and the end of
// management when the user removes the work account.
#include "store.hpp"

#include "clock.hpp"
#include "crypto.hpp"

namespace omadm_backend {

namespace {

// The device row itself is the operator's table (devices); an enrollment
// adds one row here.  A device deleted through the operator API takes its
// enrollment with it.
constexpr const char *enrollment_sql = R"sql(
CREATE TABLE IF NOT EXISTS enrollment_users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,   -- scrypt, see password_hash.hpp
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    device_id       TEXT PRIMARY KEY
                    REFERENCES devices(device_id) ON DELETE CASCADE,
    state           TEXT NOT NULL CHECK (state IN ('enrolled', 'unenrolled')),
    enrolled_at     TEXT NOT NULL,
    unenrolled_at   TEXT,
    "user"          TEXT NOT NULL,  -- quoted: a keyword in PostgreSQL
    device_name     TEXT NOT NULL,
    os_version      TEXT NOT NULL,
    hw_dev_id       TEXT NOT NULL,
    enrollment_type TEXT NOT NULL,
    cert_serial     TEXT NOT NULL,
    cert_thumbprint TEXT NOT NULL,
    cert_not_after  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS enrollments_by_certificate
    ON enrollments (cert_thumbprint);
)sql";

// What Windows sends when the user removes the work account (Alert 1226).
constexpr const char *unenrollment_type =
    "com.microsoft:mdm.unenrollment.userrequest";

bool asks_unenrollment(const ExchangeRequest &req)
{
    for (const ExchangeAlert &a : req.alerts) {
        if (a.code != "1226" || !a.items.is_array()) continue;
        for (const json &i : a.items) {
            if (i.is_object() && i.value("type", "") == unenrollment_type) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace

void add_enrollment_tables(Db &db) { db.exec(enrollment_sql); }

std::optional<json> Store::add_enrollment_user(const std::string &username,
                                               const std::string &password_hash)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        std::string now = now_iso8601();
        Stmt ins(db_, "INSERT INTO enrollment_users"
                      " (username, password_hash, created_at) VALUES (?, ?, ?)"
                      " ON CONFLICT DO NOTHING");
        ins.bind(1, username).bind(2, password_hash).bind(3, now).run();
        if (db_.changes() == 0) return std::nullopt;
        tx.commit();
        return json{{"username", username}, {"created_at", now}};
    });
}

json Store::enrollment_users()
{
    return read([&]() -> json {
        Stmt st(db_, "SELECT username, created_at FROM enrollment_users"
                     " ORDER BY created_at, username");
        json out = json::array();
        while (st.step()) {
            out.push_back({{"username", st.text(0)}, {"created_at", st.text(1)}});
        }
        return out;
    });
}

bool Store::delete_enrollment_user(const std::string &username)
{
    return write([&]() -> bool {
        Transaction tx(db_);
        Stmt del(db_, "DELETE FROM enrollment_users WHERE username = ?");
        del.bind(1, username).run();
        bool found = db_.changes() > 0;
        tx.commit();
        return found;
    });
}

std::optional<std::string>
Store::enrollment_user_hash(const std::string &username)
{
    return read([&]() -> std::optional<std::string> {
        Stmt st(db_, "SELECT password_hash FROM enrollment_users"
                     " WHERE username = ?");
        st.bind(1, username);
        if (!st.step()) return std::nullopt;
        return st.text(0);
    });
}

// One transaction: the device's OMA DM account and its enrollment appear
// together, and a re-enrollment replaces the old account at once (the old
// credentials and nonces stop working, the old session's answer is
// forgotten); its commands and history stay.
EnrollOutcome Store::enroll(const NewEnrollment &e)
{
    return write([&]() -> EnrollOutcome {
        Transaction tx(db_);
        bool existed = lock_device(e.device_id);
        if (existed) {
            Stmt was(db_, "SELECT 1 FROM enrollments WHERE device_id = ?");
            was.bind(1, e.device_id);
            if (!was.step()) return EnrollOutcome::registered_by_operator;
        }
        std::string now = now_iso8601();
        std::string inner = md5_inner(e.username, e.password);
        std::string server_inner = md5_inner(e.server_username, e.server_password);
        std::string server_basic =
            basic_credential(e.server_username, e.server_password);
        if (existed) {
            Stmt up(db_, "UPDATE devices SET username = ?, password_inner = ?,"
                         " nonce = ?, previous_nonces = '', server_username = ?,"
                         " server_inner = ?, server_basic = ?, server_nonce = ?,"
                         " last_request = NULL, last_answer = NULL"
                         " WHERE device_id = ?");
            up.bind(1, e.username).bind(2, inner).bind(3, e.nonce)
                .bind(4, e.server_username).bind(5, server_inner)
                .bind(6, server_basic).bind(7, e.server_nonce).bind(8, e.device_id)
                .run();
        } else {
            Stmt ins(db_, "INSERT INTO devices (device_id, username,"
                          " password_inner, nonce, server_username, server_inner,"
                          " server_basic, server_nonce, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                          " ON CONFLICT (device_id) DO NOTHING");
            ins.bind(1, e.device_id).bind(2, e.username).bind(3, inner)
                .bind(4, e.nonce).bind(5, e.server_username).bind(6, server_inner)
                .bind(7, server_basic).bind(8, e.server_nonce).bind(9, now).run();
            if (db_.changes() == 0) {
                // another process created it since lock_device looked: run
                // again, and take the path of a device that exists
                throw DbConflict("enroll: the device appeared meanwhile");
            }
        }
        Stmt en(db_, "INSERT INTO enrollments (device_id, state,"
                     " enrolled_at, unenrolled_at, \"user\", device_name,"
                     " os_version, hw_dev_id, enrollment_type, cert_serial,"
                     " cert_thumbprint, cert_not_after)"
                     " VALUES (?, 'enrolled', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (device_id) DO UPDATE SET state = 'enrolled',"
                     " enrolled_at = excluded.enrolled_at, unenrolled_at = NULL,"
                     " \"user\" = excluded.\"user\","
                     " device_name = excluded.device_name,"
                     " os_version = excluded.os_version,"
                     " hw_dev_id = excluded.hw_dev_id,"
                     " enrollment_type = excluded.enrollment_type,"
                     " cert_serial = excluded.cert_serial,"
                     " cert_thumbprint = excluded.cert_thumbprint,"
                     " cert_not_after = excluded.cert_not_after");
        en.bind(1, e.device_id).bind(2, now).bind(3, e.user).bind(4, e.device_name)
            .bind(5, e.os_version).bind(6, e.hw_dev_id).bind(7, e.enrollment_type)
            .bind(8, e.cert_serial).bind(9, e.cert_thumbprint)
            .bind(10, e.cert_not_after).run();
        tx.commit();
        return existed ? EnrollOutcome::replaced : EnrollOutcome::created;
    });
}

std::optional<EnrolledDevice>
Store::enrolled_by_certificate(const std::string &thumbprint)
{
    return read([&]() -> std::optional<EnrolledDevice> {
        Stmt st(db_, "SELECT device_id, enrollment_type FROM enrollments"
                     " WHERE cert_thumbprint = ? AND state = 'enrolled'");
        st.bind(1, thumbprint);
        if (!st.step()) return std::nullopt;
        return EnrolledDevice{st.text(0), st.text(1)};
    });
}

bool Store::renew_certificate(const std::string &device_id,
                              const std::string &old_thumbprint,
                              const std::string &serial,
                              const std::string &thumbprint,
                              const std::string &not_after)
{
    return write([&]() -> bool {
        Transaction tx(db_);
        Stmt up(db_, "UPDATE enrollments SET cert_serial = ?,"
                     " cert_thumbprint = ?, cert_not_after = ?"
                     " WHERE device_id = ? AND cert_thumbprint = ?"
                     " AND state = 'enrolled'");
        up.bind(1, serial).bind(2, thumbprint).bind(3, not_after)
            .bind(4, device_id).bind(5, old_thumbprint).run();
        bool renewed = db_.changes() > 0;
        tx.commit();
        return renewed;
    });
}

const char *enrollment_json_columns()
{
    return "state, enrolled_at, \"user\", device_name, os_version,"
           " hw_dev_id, enrollment_type, cert_serial, cert_thumbprint,"
           " cert_not_after, unenrolled_at";
}

json enrollment_json_row(const Stmt &st, int first)
{
    auto t = [&](int i) { return st.text(first + i); };
    json out = {{"state", t(0)},
                {"enrolled_at", t(1)},
                {"user", t(2)},
                {"device_name", t(3)},
                {"os_version", t(4)},
                {"hw_dev_id", t(5)},
                {"enrollment_type", t(6)},
                {"certificate",
                 {{"serial", t(7)},
                  {"thumbprint", t(8)},
                  {"not_after", t(9)}}}};
    if (!st.is_null(first + 10)) out["unenrolled_at"] = t(10);
    return out;
}

json Store::enrollment_json(const std::string &device_id)
{
    std::string sql = std::string("SELECT ") + enrollment_json_columns()
                      + " FROM enrollments WHERE device_id = ?";
    Stmt st(db_, sql.c_str());
    st.bind(1, device_id);
    if (!st.step()) return nullptr;
    return enrollment_json_row(st, 0);
}

bool Store::management_ended(const std::string &device_id)
{
    Stmt st(db_, "SELECT 1 FROM enrollments WHERE device_id = ?"
                 " AND state = 'unenrolled'");
    st.bind(1, device_id);
    return st.step();
}

void Store::end_management_if_asked(const ExchangeRequest &req,
                                    const std::string &now)
{
    if (!asks_unenrollment(req)) return;
    Stmt up(db_, "UPDATE enrollments SET state = 'unenrolled',"
                 " unenrolled_at = ? WHERE device_id = ?"
                 " AND state = 'enrolled'");
    up.bind(1, now).bind(2, req.device_id).run();
    if (db_.changes() == 0) return;  // not an enrolled Windows PC
    // Nothing more goes to the device: what waited fails, and says why.
    Stmt fail(db_, "UPDATE commands SET state = 'failed', reason = ?,"
                   " updated_at = ? WHERE device_id = ?"
                   " AND state IN ('queued', 'sent')");
    fail.bind(1, std::string("the device was unenrolled: its user removed"
                             " the work account"))
        .bind(2, now)
        .bind(3, req.device_id)
        .run();
}

}  // namespace omadm_backend
