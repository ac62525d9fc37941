// Device records: operator CRUD and the contract's credential look-ups.
#include "store.hpp"

#include <algorithm>

#include "clock.hpp"
#include "crypto.hpp"

namespace omadm_backend {

namespace {

constexpr const char *device_columns =
    "device_id, username, devinfo, last_seen, created_at, server_username";

json parse_object(const std::string &text)
{
    json j = json::parse(text, nullptr, false);
    return j.is_object() ? j : json::object();
}

// Columns in the order of device_columns.
json device_row(const Stmt &st)
{
    json last_seen = nullptr;
    if (!st.is_null(3)) {
        last_seen = st.text(3);
    }
    return {{"device_id", st.text(0)},
            {"username", st.text(1)},
            {"devinfo", parse_object(st.text(2))},
            {"last_seen", last_seen},
            {"created_at", st.text(4)},
            {"server_username",
             st.text(5).empty() ? json(nullptr) : json(st.text(5))}};
}

// The first n space-separated words of list.
std::string keep_newest(const std::string &list, size_t n)
{
    size_t end = 0;
    for (size_t words = 0; words < n; words++) {
        size_t start = list.find_first_not_of(' ', end);
        if (start == std::string::npos) break;
        end = list.find(' ', start);
        if (end == std::string::npos) return list;
    }
    return list.substr(0, end);
}

}  // namespace

const char *const insert_device_sql =
    "INSERT INTO devices (device_id, username, password_inner, created_at,"
    " server_username, server_inner, server_basic)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO NOTHING";

// Secrets are kept only in the forms the module needs (see crypto.hpp):
// an MD5 and a Base64 of a few bytes, cheap enough for 10,000 at a time.
Stmt &bind_new_device(Stmt &ins, const NewDevice &d, const std::string &now)
{
    bool server = !d.server_username.empty();
    return ins.bind(1, d.device_id)
        .bind(2, d.username)
        .bind(3, md5_inner(d.username, d.password))
        .bind(4, now)
        .bind(5, d.server_username)
        .bind(6, server ? md5_inner(d.server_username, d.server_password)
                        : std::string())
        .bind(7, server ? basic_credential(d.server_username,
                                           d.server_password)
                        : std::string());
}

bool Store::device_exists(const std::string &device_id)
{
    Stmt st(db_, "SELECT 1 FROM devices WHERE device_id = ?");
    st.bind(1, device_id);
    return st.step();
}

const char *row_lock(Db &db)
{
    return db.dialect() == Dialect::postgresql ? " FOR NO KEY UPDATE" : "";
}

bool Store::lock_device(const std::string &device_id)
{
    if (db_.dialect() == Dialect::sqlite) {
        return device_exists(device_id);
    }
    Stmt st(db_, "SELECT 1 FROM devices WHERE device_id = ? FOR NO KEY UPDATE");
    st.bind(1, device_id);
    return st.step();
}

// The replaced nonce joins the few kept before it: a device that missed
// the answer carrying the new one still signs with an old one, and the
// module tells that (stale, challenge again) from a wrong password.
bool Store::set_nonce(const std::string &device_id, const std::string &nonce)
{
    Stmt cur(db_, "SELECT nonce, previous_nonces FROM devices"
                  " WHERE device_id = ?");
    cur.bind(1, device_id);
    if (!cur.step()) {
        return false;
    }
    std::string old = cur.text(0);
    std::string previous = cur.text(1);
    if (!old.empty() && old != nonce) {
        previous = keep_newest(old + " " + previous, kept_previous_nonces);
    }
    Stmt up(db_, "UPDATE devices SET nonce = ?, previous_nonces = ?"
                 " WHERE device_id = ?");
    up.bind(1, nonce).bind(2, previous).bind(3, device_id).run();
    return true;
}

std::optional<json> Store::create_device(const NewDevice &d)
{
    return write([&]() -> std::optional<json> {
        Transaction tx(db_);
        Stmt ins(db_, insert_device_sql);
        bind_new_device(ins, d, now_iso8601()).run();
        if (db_.changes() == 0) {
            return std::nullopt;  // the id exists (another process's too)
        }
        Stmt sel(db_, (std::string("SELECT ") + device_columns
                       + " FROM devices WHERE device_id = ?")
                          .c_str());
        sel.bind(1, d.device_id);
        sel.step();
        json out = device_row(sel);
        out["enrollment"] = nullptr;  // registered by the operator
        out["groups"] = json::array();
        tx.commit();
        return out;
    });
}

std::optional<json> Store::device(const std::string &device_id)
{
    return read([&]() -> std::optional<json> {
        Stmt st(db_, (std::string("SELECT ") + device_columns
                      + " FROM devices WHERE device_id = ?")
                         .c_str());
        st.bind(1, device_id);
        if (!st.step()) {
            return std::nullopt;
        }
        json out = device_row(st);
        out["enrollment"] = enrollment_json(device_id);
        out["groups"] = group_names(device_id);
        return out;
    });
}

json Store::devices()
{
    return read([&]() -> json {
        Stmt st(db_, (std::string("SELECT ") + device_columns
                      + " FROM devices ORDER BY created_at, device_id")
                         .c_str());
        json out = json::array();
        while (st.step()) {
            json d = device_row(st);
            d["enrollment"] = enrollment_json(st.text(0));
            out.push_back(std::move(d));
        }
        for (json &d : out) {
            d["groups"] = group_names(d["device_id"].get<std::string>());
        }
        return out;
    });
}

bool Store::delete_row(const char *sql, const std::string &key)
{
    return write([&]() -> bool {
        Transaction tx(db_);
        Stmt del(db_, sql);
        del.bind(1, key).run();
        bool found = db_.changes() > 0;
        tx.commit();
        return found;
    });
}

bool Store::set_password(const std::string &device_id,
                         const std::string &password)
{
    return write([&]() -> bool {
        Transaction tx(db_);
        // locked: an enrollment replacing the user name meanwhile waits
        if (!lock_device(device_id)) {
            return false;
        }
        Stmt cur(db_, "SELECT username FROM devices WHERE device_id = ?");
        cur.bind(1, device_id);
        if (!cur.step()) {
            return false;
        }
        std::string inner = md5_inner(cur.text(0), password);
        cur.reset();
        Stmt up(db_, "UPDATE devices SET password_inner = ? WHERE device_id = ?");
        up.bind(1, inner).bind(2, device_id).run();
        tx.commit();
        return true;
    });
}

bool Store::delete_device(const std::string &device_id)
{
    // Commands, their results and alerts go with it (ON DELETE CASCADE).
    return delete_row("DELETE FROM devices WHERE device_id = ?", device_id);
}

// Each field with its length in front, so no two lists of fields give the
// same text; sha256 of values the module is handed anyway reveals nothing.
std::string credential_version(const std::string &username,
                               const std::string &inner,
                               const std::string &server_username,
                               const std::string &server_inner,
                               const std::string &server_basic)
{
    std::string text;
    for (const std::string *f :
         {&username, &inner, &server_username, &server_inner, &server_basic}) {
        text += std::to_string(f->size()) + ':' + *f + ';';
    }
    return sha256_hex(text).substr(0, 32);
}

std::optional<DeviceCredentials>
Store::credentials(const std::string &device_id)
{
    return read([&]() -> std::optional<DeviceCredentials> {
        if (management_ended(device_id)) {
            return std::nullopt;  // unenrolled: its credentials are refused
        }
        Stmt st(db_,
                "SELECT device_id, username, password_inner, nonce,"
                " previous_nonces, server_username, server_inner, server_basic,"
                " server_nonce FROM devices WHERE device_id = ?");
        st.bind(1, device_id);
        if (!st.step()) {
            return std::nullopt;
        }
        DeviceCredentials c{st.text(0), st.text(1), st.text(2), st.text(3), {},
                            st.text(5), st.text(6), st.text(7), st.text(8), ""};
        std::string list = st.text(4);
        for (size_t pos = 0; pos < list.size();) {
            size_t end = std::min(list.find(' ', pos), list.size());
            if (end > pos) c.previous_nonces.push_back(list.substr(pos, end - pos));
            pos = end + 1;
        }
        c.version = credential_version(c.username, c.inner, c.server_username,
                                       c.server_inner, c.server_basic);
        return c;
    });
}

// A challenge hands out the nonce the device holds, which only a login
// replaces (the exchange's compare-and-swap): anyone can provoke a
// challenge, and a fresh nonce for each would keep the device's own login
// stale for ever.  The candidate is stored only where there is none.
std::optional<std::string> Store::issue_nonce(const std::string &device_id,
                                              const std::string &candidate)
{
    // Nearly always the device holds one: a read, beside the writer.
    auto held = [&]() -> std::optional<std::string> {
        if (management_ended(device_id)) {
            return std::nullopt;
        }
        Stmt cur(db_, "SELECT nonce FROM devices WHERE device_id = ?");
        cur.bind(1, device_id);
        if (!cur.step()) {
            return std::nullopt;
        }
        return cur.text(0);
    };
    std::optional<std::string> nonce = read(held);
    if (!nonce || !nonce->empty()) {
        return nonce;
    }
    // None yet: store the candidate, checked again on the writer (a
    // concurrent challenge may have stored its own).
    return write([&]() -> std::optional<std::string> {
        Transaction tx(db_);
        lock_device(device_id);  // a concurrent challenge's candidate waits
        std::optional<std::string> now_held = held();
        if (!now_held || !now_held->empty()) {
            return now_held;
        }
        set_nonce(device_id, candidate);
        tx.commit();
        return candidate;
    });
}

}  // namespace omadm_backend

namespace omadm_backend {

// For the console's listing (store_console.cpp): the same columns and shape.
const char *device_json_columns() { return device_columns; }
json device_json_row(const Stmt &st) { return device_row(st); }

}  // namespace omadm_backend
