// How a store call gets its connection (store.hpp).  SQLite: writes go to
// one writer thread that commits concurrent calls together (group commit),
// reads borrow one of a pool of reader connections (WAL lets them run
// beside the writer).  PostgreSQL: every call takes a connection of a pool
// and runs in a transaction of its own (the server groups concurrent
// commits itself).  Store code reaches the call's connection through
// CallConnection, so a query looks the same whichever kind of call runs it.
#pragma once

#include "postgres_db.hpp"
#include "sqlite_db.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace omadm_backend {

// The connection bound to the store call running on this thread; converts
// to Db&, so `Stmt st(db_, ...)` needs no change.  Using it outside a call
// throws (a programming error, answered 500).
class CallConnection {
public:
    operator Db &() const { return get(); }
    Db &get() const;
    bool bound() const { return current_ != nullptr; }
    bool bound_to(const Db &db) const { return current_ == &db; }

    void exec(const char *sql) const { get().exec(sql); }
    int changes() const { return get().changes(); }
    Dialect dialect() const { return get().dialect(); }

    // Binds `db` to this thread for a scope, restoring what was bound.
    class Bind {
    public:
        explicit Bind(Db &db) : previous_(current_) { current_ = &db; }
        ~Bind() { current_ = previous_; }
        Bind(const Bind &) = delete;
        Bind &operator=(const Bind &) = delete;

    private:
        Db *previous_;
    };

private:
    static thread_local Db *current_;
};

// The single writer.  run() queues a call and waits; the writer thread takes
// every call queued (up to max_batch), runs each in a SAVEPOINT of one
// transaction (a call that throws is rolled back alone and gets its own
// exception), commits once, and only then wakes the callers: a call returns
// only when its writes are durable (synchronous=FULL: COMMIT has synced the
// WAL).  Calls run one after another, so read-check-write sequences (nonce
// compare-and-swap, "already answered?") are serialized.  When idle after
// writes it checkpoints the WAL and truncates it.
class GroupCommitWriter {
public:
    GroupCommitWriter(SqliteDb &db, size_t max_batch);
    ~GroupCommitWriter();  // finishes what is queued, then stops
    GroupCommitWriter(const GroupCommitWriter &) = delete;
    GroupCommitWriter &operator=(const GroupCommitWriter &) = delete;

    // Runs `call` on the writer's connection; rethrows what it threw, or
    // the commit's failure.  From inside a call it runs in place.
    void run(const std::function<void()> &call);

    // For the metrics: calls / commits is the grouping achieved.
    struct Stats {
        size_t queued;     // calls waiting for the writer now
        uint64_t commits;  // transactions ended since start (or failed)
        uint64_t calls;    // calls they ran
    };
    Stats stats() const;

private:
    struct Job {
        const std::function<void()> *call;
        std::exception_ptr error;
        bool done = false;
    };
    void loop();
    void run_batch(std::vector<Job *> &batch);
    void checkpoint_when_idle();

    SqliteDb &db_;
    const size_t max_batch_;
    mutable std::mutex mu_;
    std::condition_variable work_, finished_;
    std::deque<Job *> queue_;
    bool stopping_ = false;
    bool wrote_since_checkpoint_ = false;
    uint64_t commits_ = 0, calls_ = 0;
    std::thread thread_;
};

// Reader connections to a WAL database, query_only, each used by one call
// at a time; a call waits for a free one.  Each read call is one read
// transaction, so it sees one consistent snapshot.
class ReaderPool {
public:
    ReaderPool(const std::string &path, size_t n);
    void run(const std::function<void()> &call);

    struct Stats {
        size_t busy;     // connections in use now
        uint64_t waits;  // calls that found none free, since start
    };
    Stats stats() const;

private:
    std::vector<std::unique_ptr<SqliteDb>> all_;
    std::vector<SqliteDb *> free_;
    uint64_t waits_ = 0;
    mutable std::mutex mu_;
    std::condition_variable available_;
};

// Per-connection settings every SQLite connection gets.
void configure_connection(SqliteDb &db);

// How the store runs a call: write() in a transaction that is durable when
// it returns, read() on one consistent snapshot.  Each rethrows what the
// call threw.
class Connections {
public:
    virtual ~Connections() = default;
    virtual void write(const std::function<void()> &call) = 0;
    virtual void read(const std::function<void()> &call) = 0;
    // Counters for the metrics (PostgreSQL: no writer queue; its pool's
    // connections as the readers).
    struct Stats {
        GroupCommitWriter::Stats writer;
        ReaderPool::Stats readers;
    };
    virtual Stats stats() const = 0;
};

// SQLite: the writer's connection, its GroupCommitWriter and the readers
// (none for ":memory:": reads queue behind the writer).
class SqliteConnections : public Connections {
public:
    SqliteConnections(std::unique_ptr<SqliteDb> writer_db,
                      const std::string &path, bool memory);
    ~SqliteConnections() override;  // the writer stops before its Db goes
    void write(const std::function<void()> &call) override;
    void read(const std::function<void()> &call) override;
    Stats stats() const override;

private:
    std::unique_ptr<SqliteDb> writer_db_;
    std::unique_ptr<GroupCommitWriter> writer_;
    std::unique_ptr<ReaderPool> readers_;
};

// PostgreSQL: a pool of connections, each used by one call at a time (a
// call waits for a free one).  A write call is one READ COMMITTED
// transaction whose read-check-write sequences lock the rows they check
// (store.hpp, lock_device): several backend processes may work on the same
// database.  A call that meets a serialization failure or a deadlock is
// rolled back and run again from the start, a few times.  A read call is
// one REPEATABLE READ, READ ONLY transaction: one snapshot.
class PostgresConnections : public Connections {
public:
    PostgresConnections(const std::string &url, size_t n,
                        std::unique_ptr<PostgresDb> first);
    void write(const std::function<void()> &call) override;
    void read(const std::function<void()> &call) override;
    Stats stats() const override;

private:
    void run(const std::function<void()> &call, bool writes);
    PostgresDb *take();
    void give_back(PostgresDb *db);

    std::vector<std::unique_ptr<PostgresDb>> all_;
    std::vector<PostgresDb *> free_;
    uint64_t waits_ = 0;
    mutable std::mutex mu_;
    std::condition_variable available_;
    std::atomic<uint64_t> commits_{0}, calls_{0};
};

}  // namespace omadm_backend
