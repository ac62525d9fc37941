// The store's view of a database, whichever it is: a connection (Db) with
// its cache of prepared statements, a statement borrowed from it (Stmt), a
// transaction, and a reader of one large value.  SQLite (sqlite_db.hpp)
// and PostgreSQL (postgres_db.hpp) implement it; store code writes one SQL
// text with `?` (or `?N`) parameters for both, and asks dialect() only
// where the two languages differ.  Every failure throws DbError, so callers
// write the happy path and a handler turns the exception into a 500.  A
// connection is used by one thread at a time (the store hands it out), so
// nothing here locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace omadm_backend {

struct DbError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Another connection changed what this call read, or the two deadlocked
// (PostgreSQL's SQLSTATE 40001 / 40P01): nothing of the call is kept, and
// running it again from the start is safe.
struct DbConflict : DbError {
    using DbError::DbError;
};

enum class Dialect { sqlite, postgresql };

// One prepared statement's state for one use: parameters, then rows.
// Binds are 1-based (the `?N` of the SQL), columns 0-based.
class Cursor {
public:
    virtual ~Cursor() = default;
    virtual void bind_text(int i, const std::string &v) = 0;
    virtual void bind_integer(int i, int64_t v) = 0;
    virtual void bind_null(int i) = 0;
    virtual bool step() = 0;  // true while a row is available
    virtual void reset() = 0;  // bindings cleared, ready to run again
    virtual std::string text(int col) const = 0;
    virtual int64_t integer(int col) const = 0;  // a boolean is 0 or 1
    virtual bool is_null(int col) const = 0;
};

// Size and byte ranges of one stored TEXT value (ValueReader).
class ValueSource {
public:
    virtual ~ValueSource() = default;
    virtual size_t size() const = 0;
    virtual std::string read(size_t offset, size_t n) const = 0;
};

class Db {
public:
    Db() = default;
    virtual ~Db() = default;
    Db(const Db &) = delete;
    Db &operator=(const Db &) = delete;

    virtual Dialect dialect() const = 0;
    // Statements without parameters, `;`-separated.
    virtual void exec(const char *sql) = 0;
    // exec() for a destructor's rollback: a failure shows up as an error
    // on the next statement instead.
    virtual void exec_quietly(const char *sql) noexcept = 0;
    // Rows the last INSERT, UPDATE or DELETE changed.
    virtual int changes() const = 0;
    virtual bool in_transaction() const = 0;
    // The transaction a write call begins: it takes what a read-check-write
    // sequence needs against other writers (SQLite: BEGIN IMMEDIATE, the
    // database's write lock; PostgreSQL: BEGIN, then row locks).
    virtual const char *begin_write_sql() const = 0;

    // The statement cache (Stmt uses it): preparing costs more than most
    // of our queries, so each SQL text is prepared once per connection.
    virtual Cursor *borrow(const char *sql) = 0;
    virtual void give_back(Cursor *c) noexcept = 0;

    virtual std::unique_ptr<ValueSource> open_value(const char *table,
                                                    const char *column,
                                                    int64_t id) = 0;
};

// A statement borrowed from the connection's cache for one scope: whatever
// way the scope ends (an exception too) it is reset, so no statement stays
// open across a commit (an open one makes SQLite's auto-checkpoint fail).
class Stmt {
public:
    Stmt(Db &db, const char *sql) : db_(db), c_(db.borrow(sql)) {}
    ~Stmt() { db_.give_back(c_); }
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;

    // Binds are 1-based, like SQLite's.
    Stmt &bind(int i, const std::string &v);
    Stmt &bind(int i, int64_t v);
    Stmt &bind(int i, const std::optional<std::string> &v);
    Stmt &bind_null(int i);

    bool step() { return c_->step(); }  // true while a row is available
    void run();                         // step a statement that returns no row
    void reset() { c_->reset(); }

    std::string text(int col) const { return c_->text(col); }
    std::optional<std::string> opt_text(int col) const;
    int64_t integer(int col) const { return c_->integer(col); }
    bool is_null(int col) const { return c_->is_null(col); }

private:
    Db &db_;
    Cursor *c_;
};

// One stored TEXT or BLOB value, the row with that `id` (SQLite's rowid):
// its size in bytes and a byte range, read without loading the whole value
// where the database allows.  The value must not be NULL.  Use it only
// while holding the connection, and drop it before the row changes.
class ValueReader {
public:
    ValueReader(Db &db, const char *table, const char *column, int64_t id)
        : source_(db.open_value(table, column, id))
    {
    }
    size_t size() const { return source_->size(); }
    std::string read(size_t offset, size_t n) const  // clipped at the end
    {
        return source_->read(offset, n);
    }

private:
    std::unique_ptr<ValueSource> source_;
};

// On a connection outside any transaction, begin_write_sql(): it takes the
// locks up front, so a read-check-write sequence cannot interleave with
// another writer, even one in a different process.  Inside one (every
// store call runs in its call's transaction) a SAVEPOINT: commit()
// releases it into the enclosing transaction, which the call commits.
// Rolled back unless commit() was called.
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

// Where the store keeps its state: --database / --db.
struct DatabaseTarget {
    Dialect dialect = Dialect::sqlite;
    std::string location;  // a file path (":memory:") or a libpq URL
};

// "postgresql://..." and "postgres://..." are PostgreSQL, "sqlite:PATH" and
// anything else a SQLite file.  false with `error` set when it is empty.
bool parse_database_target(const std::string &text, DatabaseTarget &out,
                           std::string &error);

// The target as a log line shows it: a URL without its password.
std::string database_display_name(const DatabaseTarget &t);

}  // namespace omadm_backend
