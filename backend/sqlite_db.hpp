// RAII wrappers over the SQLite C API: a connection with its cache of
// prepared statements, a statement borrowed from it, and a transaction.
// Every failure throws DbError, so callers write the happy path and a
// handler turns the exception into a 500.  A connection is used by one
// thread at a time (the store hands it out), so nothing here locks.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

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

    // The statement cache (Stmt uses it): preparing costs more than most
    // of our queries, so each SQL text is prepared once per connection.
    // A text in use already (the same query nested in one call) gets a
    // second statement, kept too.
    struct Borrowed {
        sqlite3_stmt *st;
        std::vector<sqlite3_stmt *> *idle;  // where it goes back; may be null
    };
    Borrowed borrow(const char *sql);
    void give_back(const Borrowed &b);  // reset, bindings cleared

private:
    // Distinct texts kept; more (a query built from unusual input) are
    // prepared and finalized each time.
    static constexpr size_t max_cached_texts = 512;
    sqlite3 *db_ = nullptr;
    std::unordered_map<std::string, std::vector<sqlite3_stmt *>> cache_;
};

// A statement borrowed from the connection's cache for one scope: whatever
// way the scope ends (an exception too) it is reset, so no statement stays
// open across a commit (an open one makes the auto-checkpoint fail).
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
    Db::Borrowed b_;
    sqlite3_stmt *st_;
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

// On a connection outside any transaction, BEGIN IMMEDIATE: it takes the
// write lock up front, so a read-check-write sequence cannot interleave
// with another writer, even one in a different process.  Inside one (the
// store's writer runs every call in its group's transaction) a SAVEPOINT:
// commit() releases it into the enclosing transaction, which the writer
// commits.  Rolled back unless commit() was called.
class Transaction {
public:
    explicit Transaction(Db &db);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    void commit();

private:
    Db &db_;
    bool savepoint_;
    bool done_ = false;
};

}  // namespace omadm_backend
