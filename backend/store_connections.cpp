#include "store_connections.hpp"

#include <chrono>

namespace omadm_backend {

thread_local Db *CallConnection::current_ = nullptr;

Db &CallConnection::get() const
{
    if (!current_) {
        throw DbError("no database connection bound to this call");
    }
    return *current_;
}

void configure_connection(SqliteDb &db)
{
    // Another process (or an operator's sqlite3 shell) may hold the lock for
    // a moment; wait for it rather than failing the request.
    sqlite3_busy_timeout(db.handle(), 5000);
    // FULL, not NORMAL: with WAL, NORMAL does not sync the WAL at COMMIT
    // and may lose the last commits on a power failure, and the contract
    // acknowledges a device's Statuses and Results only because the backend
    // said they were durable; the device will not send them again.  FULL
    // costs one fsync of the WAL per commit, which group commit shares.
    db.exec("PRAGMA synchronous=FULL");
    db.exec("PRAGMA foreign_keys=ON");
}

GroupCommitWriter::GroupCommitWriter(SqliteDb &db, size_t max_batch)
    : db_(db), max_batch_(max_batch)
{
    // The checkpoint policy: the writer checkpoints (PASSIVE) at a commit
    // that leaves more than 1,000 pages in the WAL (nothing of ours holds a
    // statement open across a commit, so it can run), the WAL is cut back
    // to journal_size_limit when it starts over, and an idle writer
    // checkpoints it all and truncates it (checkpoint_when_idle).
    db_.exec("PRAGMA wal_autocheckpoint=1000");
    db_.exec("PRAGMA journal_size_limit=16777216");
    thread_ = std::thread([this] { loop(); });
}

GroupCommitWriter::~GroupCommitWriter()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    work_.notify_one();
    thread_.join();
}

GroupCommitWriter::Stats GroupCommitWriter::stats() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return {queue_.size(), commits_, calls_};
}

void GroupCommitWriter::run(const std::function<void()> &call)
{
    CallConnection current;
    if (current.bound_to(db_)) {
        call();  // a call inside a call: already in its transaction
        return;
    }
    Job job{&call, nullptr};
    {
        std::unique_lock<std::mutex> lock(mu_);
        queue_.push_back(&job);
        work_.notify_one();
        finished_.wait(lock, [&] { return job.done; });
    }
    if (job.error) {
        std::rethrow_exception(job.error);
    }
}

void GroupCommitWriter::loop()
{
    CallConnection::Bind bind(db_);
    std::vector<Job *> batch;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        bool woke = work_.wait_for(lock, std::chrono::seconds(1), [this] {
            return !queue_.empty() || stopping_;
        });
        if (!woke) {
            lock.unlock();
            checkpoint_when_idle();
            lock.lock();
            continue;
        }
        if (queue_.empty()) {
            break;  // stopping, nothing left
        }
        while (!queue_.empty() && batch.size() < max_batch_) {
            batch.push_back(queue_.front());
            queue_.pop_front();
        }
        lock.unlock();
        run_batch(batch);
        lock.lock();
        for (Job *job : batch) {
            job->done = true;  // durable (or failed): the caller may answer
        }
        commits_++;
        calls_ += batch.size();
        batch.clear();
        finished_.notify_all();
    }
}

// Every job of the batch ends with its error set or its writes committed.
void GroupCommitWriter::run_batch(std::vector<Job *> &batch)
{
    std::exception_ptr broken;  // the transaction itself failed
    try {
        db_.exec("BEGIN IMMEDIATE");
        for (Job *job : batch) {
            db_.exec("SAVEPOINT call");
            try {
                (*job->call)();
                db_.exec("RELEASE call");
            } catch (...) {
                job->error = std::current_exception();
                if (sqlite3_get_autocommit(db_.handle())) {
                    // SQLite rolled the whole transaction back (I/O error,
                    // disk full): the calls before this one are lost too.
                    throw;
                }
                db_.exec("ROLLBACK TO call; RELEASE call");
            }
        }
        db_.exec("COMMIT");
        wrote_since_checkpoint_ = true;
        return;
    } catch (...) {
        broken = std::current_exception();
    }
    if (!sqlite3_get_autocommit(db_.handle())) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    for (Job *job : batch) {
        if (!job->error) {
            job->error = broken;  // nothing of it was committed
        }
    }
}

// Idle for a second after writes: copy the WAL into the database and
// truncate it, waiting at most briefly for readers on older snapshots
// (they end soon; the next idle second tries again).
void GroupCommitWriter::checkpoint_when_idle()
{
    if (!wrote_since_checkpoint_) {
        return;
    }
    sqlite3_busy_timeout(db_.handle(), 100);
    int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr,
                                       SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                       nullptr);
    sqlite3_busy_timeout(db_.handle(), 5000);
    if (rc == SQLITE_OK) {
        wrote_since_checkpoint_ = false;
    }
}

ReaderPool::ReaderPool(const std::string &path, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        all_.push_back(std::make_unique<SqliteDb>(path));
        configure_connection(*all_.back());
        // A call misfiled as a read fails instead of writing beside the
        // writer.
        all_.back()->exec("PRAGMA query_only=1");
        free_.push_back(all_.back().get());
    }
}

ReaderPool::Stats ReaderPool::stats() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return {all_.size() - free_.size(), waits_};
}

void ReaderPool::run(const std::function<void()> &call)
{
    SqliteDb *db;
    {
        std::unique_lock<std::mutex> lock(mu_);
        if (free_.empty()) {
            waits_++;
        }
        available_.wait(lock, [this] { return !free_.empty(); });
        db = free_.back();
        free_.pop_back();
    }
    struct GiveBack {
        ReaderPool &pool;
        SqliteDb *db;
        ~GiveBack()
        {
            if (!sqlite3_get_autocommit(db->handle())) {
                sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr,
                             nullptr);
            }
            {
                std::lock_guard<std::mutex> lock(pool.mu_);
                pool.free_.push_back(db);
            }
            pool.available_.notify_one();
        }
    } give_back{*this, db};
    CallConnection::Bind bind(*db);
    db->exec("BEGIN");  // one snapshot for the whole call
    call();
    db->exec("COMMIT");
}

SqliteConnections::SqliteConnections(std::unique_ptr<SqliteDb> writer_db,
                                     const std::string &path, bool memory)
    : writer_db_(std::move(writer_db))
{
    // Readers: enough that HTTP threads rarely wait for one; on 2 cores
    // more would only contend.
    if (!memory) {
        readers_ = std::make_unique<ReaderPool>(path, 8);
    }
    writer_ = std::make_unique<GroupCommitWriter>(*writer_db_, 128);
}

SqliteConnections::~SqliteConnections()
{
    writer_.reset();
}

void SqliteConnections::write(const std::function<void()> &call)
{
    writer_->run(call);
}

Connections::Stats SqliteConnections::stats() const
{
    return {writer_->stats(),
            readers_ ? readers_->stats() : ReaderPool::Stats{0, 0}};
}

void SqliteConnections::read(const std::function<void()> &call)
{
    if (!readers_) {
        writer_->run(call);
        return;
    }
    readers_->run(call);
}

PostgresConnections::PostgresConnections(const std::string &url, size_t n,
                                         std::unique_ptr<PostgresDb> first)
{
    all_.push_back(std::move(first));
    while (all_.size() < n) {
        all_.push_back(std::make_unique<PostgresDb>(url));
    }
    for (auto &db : all_) {
        free_.push_back(db.get());
    }
}

PostgresDb *PostgresConnections::take()
{
    std::unique_lock<std::mutex> lock(mu_);
    if (free_.empty()) {
        waits_++;
    }
    available_.wait(lock, [this] { return !free_.empty(); });
    PostgresDb *db = free_.back();
    free_.pop_back();
    return db;
}

void PostgresConnections::give_back(PostgresDb *db)
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(db);
    }
    available_.notify_one();
}

Connections::Stats PostgresConnections::stats() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return {{0, commits_.load(), calls_.load()},
            {all_.size() - free_.size(), waits_}};
}

void PostgresConnections::write(const std::function<void()> &call)
{
    run(call, true);
}

void PostgresConnections::read(const std::function<void()> &call)
{
    run(call, false);
}

void PostgresConnections::run(const std::function<void()> &call, bool writes)
{
    CallConnection current;
    if (current.bound()) {
        call();  // a call inside a call: already in its transaction
        return;
    }
    struct Lease {
        PostgresConnections &pool;
        PostgresDb *db;
        ~Lease()
        {
            if (db->in_transaction()) {
                db->exec_quietly("ROLLBACK");
            }
            pool.give_back(db);
        }
    } lease{*this, take()};
    PostgresDb &db = *lease.db;
    if (!db.reconnect_if_broken()) {
        throw DbError("the connection to PostgreSQL is lost");
    }
    CallConnection::Bind bind(db);
    for (int attempt = 1;; attempt++) {
        try {
            db.exec(writes ? "BEGIN"
                           : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            call();
            db.exec("COMMIT");  // synchronous_commit=on: the WAL is flushed
            if (writes) {
                commits_++;
                calls_++;
            }
            return;
        } catch (const DbConflict &) {
            db.exec_quietly("ROLLBACK");
            if (attempt == 5) {
                throw;
            }
            // the other transaction holds on for a moment: let it finish
            std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 5));
        }
    }
}

}  // namespace omadm_backend
