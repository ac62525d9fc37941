// The PostgreSQL implementation of db.hpp over libpq: the store's `?` and
// `?N` parameters become $1..$n when a text is first prepared (once per
// connection and per kind of its parameters), values travel as text, and a
// statement's rows are read whole into its PGresult.
#pragma once

#include "db.hpp"

#include <libpq-fe.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace omadm_backend {

class PostgresDb : public Db {
public:
    // A libpq connection string or URL (postgresql://...).  The database
    // must be UTF8: the store keeps what devices send byte for byte.
    explicit PostgresDb(const std::string &url);
    ~PostgresDb() override;

    Dialect dialect() const override { return Dialect::postgresql; }
    void exec(const char *sql) override;
    void exec_quietly(const char *sql) noexcept override;
    int changes() const override { return changes_; }
    bool in_transaction() const override;
    // READ COMMITTED: every statement sees what committed before it, and
    // a call that must not interleave with another process's takes a row
    // lock first (store.hpp, lock_device).
    const char *begin_write_sql() const override { return "BEGIN"; }

    Cursor *borrow(const char *sql) override;
    void give_back(Cursor *c) noexcept override;
    std::unique_ptr<ValueSource> open_value(const char *table,
                                            const char *column,
                                            int64_t id) override;

    // Between calls: a connection the server dropped (a restart) is opened
    // again, its prepared statements forgotten.  false: still broken.
    bool reconnect_if_broken();

    // Where SQL text names a parameter `?N` (or the n-th plain `?`), which
    // $k it became.
    struct Text {
        std::string sql;          // with $1..$n
        std::vector<int> slot;    // [?N] -> k - 1, or -1 when not used
        int params = 0;
        std::map<std::string, std::string> prepared;  // param types -> name
        std::vector<Cursor *> idle;
    };

private:
    class Statement;
    friend class Statement;
    [[noreturn]] void fail(PGresult *res, const std::string &what);
    const std::string &prepared_name(Text &t, const std::vector<Oid> &types);
    std::string prepare_unnamed(Text &t, const std::vector<Oid> &types);
    void note_changes(PGresult *res);

    static constexpr size_t max_cached_texts = 512;
    PGconn *conn_ = nullptr;
    int changes_ = 0;
    size_t next_name_ = 0;
    std::unordered_map<std::string, Text> cache_;
};

}  // namespace omadm_backend
