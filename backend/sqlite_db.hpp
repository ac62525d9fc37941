// RAII wrappers over the SQLite C API: a connection, a prepared statement and
// an IMMEDIATE transaction. Every failure throws DbError, so callers write the
// happy path and a handler turns the exception into a 500.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace omadm_backend {

struct DbError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Db {
public:
    explicit Db(const std::string &path);
    ~Db();
    Db(const Db &) = delete;
    Db &operator=(const Db &) = delete;

    void exec(const char *sql);
    sqlite3 *handle() const { return db_; }
    int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
    int changes() const { return sqlite3_changes(db_); }

private:
    sqlite3 *db_ = nullptr;
};

class Stmt {
public:
    Stmt(Db &db, const char *sql);
    ~Stmt();
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;

    // Binds are 1-based, like SQLite's.
    Stmt &bind(int i, const std::string &v);
    Stmt &bind(int i, int64_t v);
    Stmt &bind(int i, const std::optional<std::string> &v);
    Stmt &bind_null(int i);

    bool step();  // true while a row is available
    void run();   // step a statement that returns no row
    void reset();

    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    int64_t integer(int col) const;
    bool is_null(int col) const;

private:
    Db &db_;
    sqlite3_stmt *st_ = nullptr;
};

// Incremental I/O on one stored TEXT or BLOB value (sqlite3_blob_*): its
// size in bytes and a byte range, read without loading the whole value. The
// value must not be NULL. Use it only while holding the connection, and
// drop it before the row changes.
class ValueReader {
public:
    ValueReader(Db &db, const char *table, const char *column, int64_t rowid);
    ~ValueReader();
    ValueReader(const ValueReader &) = delete;
    ValueReader &operator=(const ValueReader &) = delete;

    size_t size() const;
    std::string read(size_t offset, size_t n) const;  // clipped at the end

private:
    Db &db_;
    sqlite3_blob *blob_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front, so a read-check-write
// sequence (nonce compare-and-swap, "already done?") cannot interleave with
// another writer, even one in a different process. Rolled back unless
// commit() was called.
class Transaction {
public:
    explicit Transaction(Db &db);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    void commit();

private:
    Db &db_;
    bool done_ = false;
};

}  // namespace omadm_backend
