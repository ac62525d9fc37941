// Opening the database: connection settings and the schema.
#include "store.hpp"

namespace omadm_backend {

namespace {

constexpr int schema_version = 5;

// The device password is never stored, only password_inner (see crypto.hpp).
// Command and alert ids are AUTOINCREMENT so an id is never reused after a
// delete: the module may still hold an old id in a live session.
constexpr const char *schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS devices (
    device_id       TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    password_inner  TEXT NOT NULL,
    nonce           TEXT NOT NULL DEFAULT '',
    previous_nonces TEXT NOT NULL DEFAULT '',  -- newest first, space-separated
    server_username TEXT NOT NULL DEFAULT '',  -- the server toward the device
    server_inner    TEXT NOT NULL DEFAULT '',
    server_basic    TEXT NOT NULL DEFAULT '',
    server_nonce    TEXT NOT NULL DEFAULT '',  -- issued by the device
    devinfo         TEXT NOT NULL DEFAULT '{}',
    last_seen       TEXT,
    created_at      TEXT NOT NULL,
    last_request    TEXT,   -- fingerprint of the last exchange answered
    last_answer     TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    verb        TEXT NOT NULL,
    target      TEXT NOT NULL,
    data        TEXT,
    format      TEXT,
    type        TEXT,
    correlator  TEXT,
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sent', 'done', 'failed')),
    status      INTEGER,
    session_id  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_by_device
    ON commands (device_id, state, id);
CREATE TABLE IF NOT EXISTS results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id  INTEGER NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    format      TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_command ON results (command_id, id);
CREATE TABLE IF NOT EXISTS alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    correlator  TEXT NOT NULL,
    items       TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_device ON alerts (device_id, id);
)sql";

}  // namespace

Store::Store(const std::string &path)
    : writer_db_(std::make_unique<Db>(path))
{
    bool memory = path == ":memory:";
    CallConnection::Bind bind(*writer_db_);  // db_ is the writer's, for now
    configure_connection(*writer_db_);
    if (!memory) {
        Stmt wal(db_, "PRAGMA journal_mode=WAL");
        if (!wal.step() || wal.text(0) != "wal") {
            throw DbError("cannot switch \"" + path + "\" to WAL mode");
        }
    }

    Transaction tx(db_);
    int64_t found = 0;
    {
        Stmt ver(db_, "PRAGMA user_version");
        if (ver.step()) {
            found = ver.integer(0);
        }
    }
    if (found > schema_version) {
        throw DbError("database \"" + path + "\" has schema version "
                      + std::to_string(found)
                      + ", newer than this omadm-backend understands");
    }
    if (found == 1) {
        // version 2 remembers the nonces a device was issued before its
        // current one (see Store::set_nonce)
        db_.exec("ALTER TABLE devices ADD COLUMN"
                 " previous_nonces TEXT NOT NULL DEFAULT ''");
    }
    if (found >= 1 && found < 3) {
        // version 3: the server's own credentials toward each device
        for (const char *col : {"server_username", "server_inner",
                                "server_basic", "server_nonce"}) {
            db_.exec((std::string("ALTER TABLE devices ADD COLUMN ") + col
                      + " TEXT NOT NULL DEFAULT ''")
                         .c_str());
        }
    }
    db_.exec(schema_sql);
    add_command_tree_columns(db_);
    add_enrollment_tables(db_);
    add_console_schema(db_);
    add_profile_schema(db_);  // version 4: groups and profiles
    // version 5: a device's top-level commands without a scan of everyone's
    // (GET /devices/{id}/commands; the planner otherwise takes the
    // parent_id index and reads every device's top-level commands)
    db_.exec("CREATE INDEX IF NOT EXISTS commands_top_level_by_device"
             " ON commands (device_id, parent_id, id)");
    db_.exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
    tx.commit();

    // Readers: enough that HTTP threads rarely wait for one; on 2 cores
    // more would only contend.
    if (!memory) {
        readers_ = std::make_unique<ReaderPool>(path, 8);
    }
    writer_ = std::make_unique<GroupCommitWriter>(*writer_db_, 128);
}

Store::~Store() = default;

std::optional<int64_t> parse_row_id(const std::string &s)
{
    if (s.empty() || s.size() > 18 || s[0] == '0') {
        return std::nullopt;
    }
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace omadm_backend
