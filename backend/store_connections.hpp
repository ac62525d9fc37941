// How a store call gets its connection (store.hpp): writes go to one
// writer thread that commits concurrent calls together (group commit), reads
// borrow one of a pool of reader connections (WAL lets them run beside the
// writer).  Store code reaches the call's connection through CallConnection,
// so a query looks the same whichever kind of call runs it.
#pragma once

#include "sqlite_db.hpp"

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
    sqlite3 *handle() const { return get().handle(); }
    int changes() const { return get().changes(); }
    int64_t last_insert_id() const { return get().last_insert_id(); }

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
    GroupCommitWriter(Db &db, size_t max_batch);
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

    Db &db_;
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
    std::vector<std::unique_ptr<Db>> all_;
    std::vector<Db *> free_;
    uint64_t waits_ = 0;
    mutable std::mutex mu_;
    std::condition_variable available_;
};

// Per-connection settings every connection gets.
void configure_connection(Db &db);

}  // namespace omadm_backend
