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

// Every failed call of the SQLite API ends here or in Db::exec, counted in
// the metrics by kind.
[[noreturn]] void fail(sqlite3 *db, int rc, const std::string &what)
{
    count_db_error(error_kind(rc));
    throw DbError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Db::Db(const std::string &path)
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

Db::~Db()
{
    for (auto &entry : cache_) {
        for (sqlite3_stmt *st : entry.second) {
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db_);
}

Db::Borrowed Db::borrow(const char *sql)
{
    auto it = cache_.find(sql);
    if (it == cache_.end() && cache_.size() < max_cached_texts) {
        it = cache_.emplace(sql, std::vector<sqlite3_stmt *>()).first;
    }
    std::vector<sqlite3_stmt *> *idle = it == cache_.end() ? nullptr : &it->second;
    if (idle && !idle->empty()) {
        sqlite3_stmt *st = idle->back();
        idle->pop_back();
        return {st, idle};
    }
    sqlite3_stmt *st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        fail(db_, rc, "prepare");
    }
    return {st, idle};
}

void Db::give_back(const Borrowed &b)
{
    sqlite3_reset(b.st);
    sqlite3_clear_bindings(b.st);
    if (b.idle && b.idle->size() < 4) {
        b.idle->push_back(b.st);  // unordered_map keeps element addresses
    } else {
        sqlite3_finalize(b.st);
    }
}

void Db::exec(const char *sql)
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

Stmt::Stmt(Db &db, const char *sql)
    : db_(db), b_(db.borrow(sql)), st_(b_.st)
{
}

Stmt::~Stmt()
{
    db_.give_back(b_);
}

Stmt &Stmt::bind(int i, const std::string &v)
{
    int rc = sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()),
                               SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        fail(db_.handle(), rc, "bind");
    }
    return *this;
}

Stmt &Stmt::bind(int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st_, i, v);
    if (rc != SQLITE_OK) {
        fail(db_.handle(), rc, "bind");
    }
    return *this;
}

Stmt &Stmt::bind(int i, const std::optional<std::string> &v)
{
    return v ? bind(i, *v) : bind_null(i);
}

Stmt &Stmt::bind_null(int i)
{
    int rc = sqlite3_bind_null(st_, i);
    if (rc != SQLITE_OK) {
        fail(db_.handle(), rc, "bind");
    }
    return *this;
}

bool Stmt::step()
{
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    fail(db_.handle(), rc, "step");
}

void Stmt::run()
{
    while (step()) {
    }
}

void Stmt::reset()
{
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
}

std::string Stmt::text(int col) const
{
    const unsigned char *p = sqlite3_column_text(st_, col);
    int n = sqlite3_column_bytes(st_, col);
    return p ? std::string(reinterpret_cast<const char *>(p),
                           static_cast<size_t>(n))
             : std::string();
}

std::optional<std::string> Stmt::opt_text(int col) const
{
    if (is_null(col)) {
        return std::nullopt;
    }
    return text(col);
}

int64_t Stmt::integer(int col) const
{
    return sqlite3_column_int64(st_, col);
}

bool Stmt::is_null(int col) const
{
    return sqlite3_column_type(st_, col) == SQLITE_NULL;
}

ValueReader::ValueReader(Db &db, const char *table, const char *column,
                         int64_t rowid)
    : db_(db)
{
    int rc = sqlite3_blob_open(db.handle(), "main", table, column, rowid, 0,
                               &blob_);
    if (rc != SQLITE_OK) {
        fail(db.handle(), rc, "blob open");  // blob_ is left NULL
    }
}

ValueReader::~ValueReader()
{
    sqlite3_blob_close(blob_);
}

size_t ValueReader::size() const
{
    return static_cast<size_t>(sqlite3_blob_bytes(blob_));
}

std::string ValueReader::read(size_t offset, size_t n) const
{
    size_t total = size();
    if (offset >= total) {
        return std::string();
    }
    n = std::min(n, total - offset);
    std::string out(n, '\0');
    int rc = n > 0 ? sqlite3_blob_read(blob_, out.data(), static_cast<int>(n),
                                       static_cast<int>(offset))
                   : SQLITE_OK;
    if (rc != SQLITE_OK) {
        fail(db_.handle(), rc, "blob read");
    }
    return out;
}

Transaction::Transaction(Db &db)
    : db_(db), savepoint_(sqlite3_get_autocommit(db.handle()) == 0)
{
    db_.exec(savepoint_ ? "SAVEPOINT tx" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction()
{
    if (!done_) {
        // A destructor cannot throw; a failed ROLLBACK (an I/O error) shows
        // up as an error on the next statement instead.
        sqlite3_exec(db_.handle(),
                     savepoint_ ? "ROLLBACK TO tx; RELEASE tx" : "ROLLBACK",
                     nullptr, nullptr, nullptr);
    }
}

void Transaction::commit()
{
    db_.exec(savepoint_ ? "RELEASE tx" : "COMMIT");
    done_ = true;
}

}  // namespace omadm_backend
