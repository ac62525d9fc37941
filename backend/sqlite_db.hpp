// The SQLite implementation of db.hpp: a connection with its cache of
// prepared statements, statements borrowed from it, and incremental reads
// of a stored value (sqlite3_blob).  A connection is used by one thread at
// a time (the store hands it out), so nothing here locks.
#pragma once

#include "db.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace omadm_backend {

class SqliteDb : public Db {
public:
    explicit SqliteDb(const std::string &path);
    ~SqliteDb() override;

    Dialect dialect() const override { return Dialect::sqlite; }
    void exec(const char *sql) override;
    void exec_quietly(const char *sql) noexcept override;
    int changes() const override { return sqlite3_changes(db_); }
    bool in_transaction() const override
    {
        return sqlite3_get_autocommit(db_) == 0;
    }
    const char *begin_write_sql() const override { return "BEGIN IMMEDIATE"; }
    sqlite3 *handle() const { return db_; }

    // A text in use already (the same query nested in one call) gets a
    // second statement, kept too.
    Cursor *borrow(const char *sql) override;
    void give_back(Cursor *c) noexcept override;  // reset, bindings cleared

    std::unique_ptr<ValueSource> open_value(const char *table,
                                            const char *column,
                                            int64_t rowid) override;

private:
    class Statement;
    // Distinct texts kept; more (a query built from unusual input) are
    // prepared and finalized each time.
    static constexpr size_t max_cached_texts = 512;
    sqlite3 *db_ = nullptr;
    std::unordered_map<std::string, std::vector<Statement *>> cache_;
};

}  // namespace omadm_backend
