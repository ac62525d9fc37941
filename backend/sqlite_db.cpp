#include "sqlite_db.hpp"

#include "metrics.hpp"

#include <algorithm>

namespace omadm_backend {

namespace {

DbErrorKind error_kind(int rc)
{
    switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DbErrorKind::busy;
    case SQLITE_CONSTRAINT:
        return DbErrorKind::constraint;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return DbErrorKind::io;
    default:
        return DbErrorKind::other;
    }
}

// Every failed call of the SQLite API ends here or in SqliteDb's open and
// exec, counted in the metrics by kind (the handle keeps the call's code).
[[noreturn]] void fail(sqlite3 *db, const std::string &what)
{
    count_db_error(error_kind(db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM));
    throw DbError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// Incremental I/O on one stored TEXT or BLOB value (sqlite3_blob_*).
class BlobReader : public ValueSource {
public:
    BlobReader(sqlite3 *db, const char *table, const char *column,
               int64_t rowid)
        : db_(db)
    {
        if (sqlite3_blob_open(db, "main", table, column, rowid, 0, &blob_)
            != SQLITE_OK) {
            fail(db, "blob open");  // blob_ is left NULL
        }
    }
    ~BlobReader() override { sqlite3_blob_close(blob_); }

    size_t size() const override
    {
        return static_cast<size_t>(sqlite3_blob_bytes(blob_));
    }

    std::string read(size_t offset, size_t n) const override
    {
        size_t total = size();
        if (offset >= total) {
            return std::string();
        }
        n = std::min(n, total - offset);
        std::string out(n, '\0');
        if (n > 0
            && sqlite3_blob_read(blob_, out.data(), static_cast<int>(n),
                                 static_cast<int>(offset))
                   != SQLITE_OK) {
            fail(db_, "blob read");
        }
        return out;
    }

private:
    sqlite3 *db_;
    sqlite3_blob *blob_ = nullptr;
};

}  // namespace

// A prepared statement, and the cache list it goes back to (may be null).
class SqliteDb::Statement : public Cursor {
public:
    Statement(sqlite3 *db, sqlite3_stmt *st, std::vector<Statement *> *idle)
        : db_(db), st_(st), idle_(idle)
    {
    }
    ~Statement() override { sqlite3_finalize(st_); }

    void bind_text(int i, const std::string &v) override
    {
        if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT)
            != SQLITE_OK) {
            fail(db_, "bind");
        }
    }

    void bind_integer(int i, int64_t v) override
    {
        if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) {
            fail(db_, "bind");
        }
    }

    void bind_null(int i) override
    {
        if (sqlite3_bind_null(st_, i) != SQLITE_OK) {
            fail(db_, "bind");
        }
    }

    bool step() override
    {
        int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        fail(db_, "step");
    }

    void reset() override
    {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }

    std::string text(int col) const override
    {
        const unsigned char *p = sqlite3_column_text(st_, col);
        int n = sqlite3_column_bytes(st_, col);
        return p ? std::string(reinterpret_cast<const char *>(p),
                               static_cast<size_t>(n))
                 : std::string();
    }

    int64_t integer(int col) const override
    {
        return sqlite3_column_int64(st_, col);
    }

    bool is_null(int col) const override
    {
        return sqlite3_column_type(st_, col) == SQLITE_NULL;
    }

    std::vector<Statement *> *idle() const { return idle_; }

private:
    sqlite3 *db_;
    sqlite3_stmt *st_;
    std::vector<Statement *> *idle_;
};

SqliteDb::SqliteDb(const std::string &path)
{
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                 | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        count_db_error(error_kind(rc));
        std::string msg = "cannot open database \"" + path + "\": "
                          + (db_ ? sqlite3_errmsg(db_) : "out of memory");
        sqlite3_close(db_);
        db_ = nullptr;
        throw DbError(msg);
    }
}

SqliteDb::~SqliteDb()
{
    for (auto &entry : cache_) {
        for (Statement *st : entry.second) {
            delete st;
        }
    }
    sqlite3_close(db_);
}

Cursor *SqliteDb::borrow(const char *sql)
{
    auto it = cache_.find(sql);
    if (it == cache_.end() && cache_.size() < max_cached_texts) {
        it = cache_.emplace(sql, std::vector<Statement *>()).first;
    }
    std::vector<Statement *> *idle = it == cache_.end() ? nullptr : &it->second;
    if (idle && !idle->empty()) {
        Statement *st = idle->back();
        idle->pop_back();
        return st;
    }
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
        sqlite3_finalize(st);
        fail(db_, "prepare");
    }
    return new Statement(db_, st, idle);
}

void SqliteDb::give_back(Cursor *c) noexcept
{
    auto *st = static_cast<Statement *>(c);
    st->reset();
    if (st->idle() && st->idle()->size() < 4) {
        st->idle()->push_back(st);  // unordered_map keeps element addresses
    } else {
        delete st;
    }
}

void SqliteDb::exec(const char *sql)
{
    char *err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        count_db_error(error_kind(rc));
        std::string msg = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        throw DbError(msg);
    }
}

void SqliteDb::exec_quietly(const char *sql) noexcept
{
    sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

std::unique_ptr<ValueSource> SqliteDb::open_value(const char *table,
                                                  const char *column,
                                                  int64_t rowid)
{
    return std::make_unique<BlobReader>(db_, table, column, rowid);
}

}  // namespace omadm_backend
