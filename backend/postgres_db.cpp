#include "postgres_db.hpp"

#include "metrics.hpp"

#include <cstdlib>
#include <cstring>

namespace omadm_backend {

namespace {

constexpr Oid int8_oid = 20;  // pg_type.h: a bound int64 is a bigint

// `?` and `?N` (SQLite's parameters) -> $1..$n, numbered in the order of N
// so that a `?N` the text does not use (a clause left out) takes no slot;
// quoted strings and identifiers are copied as they are.
PostgresDb::Text rewrite(const char *sql)
{
    std::string in(sql);
    std::vector<int> used;  // N of each parameter, in order of appearance
    std::vector<std::pair<size_t, size_t>> spans;  // where each one is
    int plain = 0;
    for (size_t i = 0; i < in.size(); i++) {
        char c = in[i];
        if (c == '\'' || c == '"') {
            size_t end = in.find(c, i + 1);
            while (end != std::string::npos && end + 1 < in.size()
                   && in[end + 1] == c) {
                end = in.find(c, end + 2);  // '' inside a string
            }
            if (end == std::string::npos) break;
            i = end;
            continue;
        }
        if (c != '?') continue;
        size_t j = i + 1;
        int n = 0;
        while (j < in.size() && in[j] >= '0' && in[j] <= '9') {
            n = n * 10 + (in[j] - '0');
            j++;
        }
        if (j == i + 1) {
            n = ++plain;  // as SQLite numbers a bare `?`: the largest so far + 1
        } else if (n > plain) {
            plain = n;
        }
        used.push_back(n);
        spans.emplace_back(i, j);
        i = j - 1;
    }
    PostgresDb::Text t;
    int highest = 0;
    for (int n : used) highest = std::max(highest, n);
    t.slot.assign(static_cast<size_t>(highest) + 1, -1);
    for (int n = 1; n <= highest; n++) {
        for (int u : used) {
            if (u == n) {
                t.slot[n] = t.params++;
                break;
            }
        }
    }
    size_t from = 0;
    for (size_t k = 0; k < spans.size(); k++) {
        t.sql += in.substr(from, spans[k].first - from);
        t.sql += "$" + std::to_string(t.slot[used[k]] + 1);
        from = spans[k].second;
    }
    t.sql += in.substr(from);
    return t;
}

std::string trimmed(const char *msg)
{
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

// One use of a text: the values bound, then the rows of its result.
class PostgresDb::Statement : public Cursor {
public:
    Statement(PostgresDb &db, Text *text, bool owned)
        : db_(db), text_(text), owned_(owned)
    {
        reset();
    }
    ~Statement() override
    {
        PQclear(res_);
        if (owned_) delete text_;
    }

    void bind_text(int i, const std::string &v) override
    {
        if (v.find('\0') != std::string::npos) {
            // libpq's text values end at a NUL: refused, not cut short
            throw DbError("bind: a text value holds a NUL byte, which"
                          " PostgreSQL does not store");
        }
        set(i, v, 0);
    }
    void bind_integer(int i, int64_t v) override
    {
        set(i, std::to_string(v), int8_oid);
    }
    void bind_null(int i) override
    {
        int s = slot(i);
        if (s < 0) return;
        values_[s].reset();
        types_[s] = 0;
    }

    bool step() override
    {
        if (!res_) execute();
        return ++row_ < PQntuples(res_);
    }

    void reset() override
    {
        PQclear(res_);
        res_ = nullptr;
        row_ = -1;
        values_.assign(static_cast<size_t>(text_->params), std::nullopt);
        types_.assign(static_cast<size_t>(text_->params), 0);
    }

    std::string text(int col) const override
    {
        if (!has_row() || PQgetisnull(res_, row_, col)) return std::string();
        return std::string(PQgetvalue(res_, row_, col),
                           static_cast<size_t>(PQgetlength(res_, row_, col)));
    }

    int64_t integer(int col) const override
    {
        if (!has_row() || PQgetisnull(res_, row_, col)) return 0;
        const char *v = PQgetvalue(res_, row_, col);
        if (std::strcmp(v, "t") == 0) return 1;  // a boolean
        if (std::strcmp(v, "f") == 0) return 0;
        return std::strtoll(v, nullptr, 10);
    }

    bool is_null(int col) const override
    {
        return !has_row() || PQgetisnull(res_, row_, col);
    }

    Text *text_entry() const { return text_; }
    bool owned() const { return owned_; }

private:
    int slot(int i) const
    {
        if (i < 1 || static_cast<size_t>(i) >= text_->slot.size()) {
            throw DbError("bind: no parameter ?" + std::to_string(i));
        }
        return text_->slot[i];
    }
    void set(int i, std::string v, Oid type)
    {
        int s = slot(i);
        if (s < 0) return;  // a `?N` this text does not use
        values_[s] = std::move(v);
        types_[s] = type;
    }
    bool has_row() const { return res_ && row_ >= 0 && row_ < PQntuples(res_); }

    void execute()
    {
        // a text past the cache's limit: the unnamed statement, each time
        const std::string name = owned_ ? db_.prepare_unnamed(*text_, types_)
                                        : db_.prepared_name(*text_, types_);
        std::vector<const char *> params;
        for (const auto &v : values_) params.push_back(v ? v->c_str() : nullptr);
        res_ = PQexecPrepared(db_.conn_, name.c_str(), text_->params,
                              params.data(), nullptr, nullptr, 0);
        ExecStatusType st = PQresultStatus(res_);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            PGresult *failed = res_;
            res_ = nullptr;
            db_.fail(failed, "step");
        }
        db_.note_changes(res_);
    }

    PostgresDb &db_;
    Text *text_;
    bool owned_;  // a text past the cache's limit: freed with the statement
    std::vector<std::optional<std::string>> values_;
    std::vector<Oid> types_;
    PGresult *res_ = nullptr;
    int row_ = -1;
};

PostgresDb::PostgresDb(const std::string &url)
{
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        count_db_error(DbErrorKind::io);
        std::string msg = "cannot connect to PostgreSQL: "
                          + trimmed(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw DbError(msg);
    }
    // CREATE ... IF NOT EXISTS and the like say "skipping" as a NOTICE
    PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);
    const char *encoding = PQparameterStatus(conn_, "server_encoding");
    if (!encoding || std::strcmp(encoding, "UTF8") != 0) {
        std::string msg = std::string("the PostgreSQL database must be UTF8,"
                                      " not ")
                          + (encoding ? encoding : "unknown");
        PQfinish(conn_);
        conn_ = nullptr;
        throw DbError(msg);
    }
    PQsetClientEncoding(conn_, "UTF8");
    // The contract acknowledges a device's Statuses and Results only because
    // the backend said they were durable: COMMIT waits for the WAL flush,
    // whatever the server's default.
    exec("SET synchronous_commit = on");
}

PostgresDb::~PostgresDb()
{
    for (auto &entry : cache_) {
        for (Cursor *c : entry.second.idle) delete c;
    }
    PQfinish(conn_);
}

bool PostgresDb::reconnect_if_broken()
{
    if (PQstatus(conn_) == CONNECTION_OK) return true;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) return false;
    for (auto &entry : cache_) entry.second.prepared.clear();
    PQsetClientEncoding(conn_, "UTF8");
    exec_quietly("SET synchronous_commit = on");
    return true;
}

// The metrics' kind of a SQLSTATE, by its class: 40 (conflicts) and 55
// (locks) busy, 23 integrity, 08/53/58 connection and resources; no state
// (the connection broke) is io too.
static DbErrorKind error_kind(const char *state)
{
    if (!state || std::strlen(state) < 2) return DbErrorKind::io;
    std::string cls(state, 2);
    if (cls == "40" || cls == "55") return DbErrorKind::busy;
    if (cls == "23") return DbErrorKind::constraint;
    if (cls == "08" || cls == "53" || cls == "58") return DbErrorKind::io;
    return DbErrorKind::other;
}

// The server's primary message and SQLSTATE, never its DETAIL: that may
// quote a whole row ("Failing row contains ..."), a nonce or a password's
// digest among it, and the message goes to the log.
void PostgresDb::fail(PGresult *res, const std::string &what)
{
    const char *primary =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = what + ": "
                      + (primary ? std::string(primary)
                                 : trimmed(PQerrorMessage(conn_)));
    if (state) msg += std::string(" (SQLSTATE ") + state + ")";
    bool conflict = state && (std::strcmp(state, "40001") == 0
                              || std::strcmp(state, "40P01") == 0);
    count_db_error(error_kind(state));
    PQclear(res);
    if (conflict) throw DbConflict(msg);
    throw DbError(msg);
}

void PostgresDb::note_changes(PGresult *res)
{
    const char *status = PQcmdStatus(res);
    if (std::strncmp(status, "INSERT", 6) == 0
        || std::strncmp(status, "UPDATE", 6) == 0
        || std::strncmp(status, "DELETE", 6) == 0) {
        changes_ = std::atoi(PQcmdTuples(res));
    }
}

bool PostgresDb::in_transaction() const
{
    return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

void PostgresDb::exec(const char *sql)
{
    PGresult *res = PQexec(conn_, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail(res, "exec");
    }
    PQclear(res);
}

void PostgresDb::exec_quietly(const char *sql) noexcept
{
    PQclear(PQexec(conn_, sql));
}

const std::string &PostgresDb::prepared_name(Text &t,
                                             const std::vector<Oid> &types)
{
    std::string signature;
    for (Oid o : types) signature += o == int8_oid ? 'i' : 't';
    auto it = t.prepared.find(signature);
    if (it != t.prepared.end()) return it->second;
    std::string name = "omadm_" + std::to_string(next_name_++);
    PGresult *res = PQprepare(conn_, name.c_str(), t.sql.c_str(), t.params,
                              types.data());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(res, "prepare");
    }
    PQclear(res);
    return t.prepared.emplace(signature, name).first->second;
}

std::string PostgresDb::prepare_unnamed(Text &t, const std::vector<Oid> &types)
{
    PGresult *res = PQprepare(conn_, "", t.sql.c_str(), t.params, types.data());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(res, "prepare");
    }
    PQclear(res);
    return std::string();
}

Cursor *PostgresDb::borrow(const char *sql)
{
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        if (cache_.size() >= max_cached_texts) {
            return new Statement(*this, new Text(rewrite(sql)), true);
        }
        it = cache_.emplace(sql, rewrite(sql)).first;
    }
    Text &t = it->second;
    if (!t.idle.empty()) {
        Cursor *c = t.idle.back();
        t.idle.pop_back();
        return c;
    }
    return new Statement(*this, &t, false);
}

void PostgresDb::give_back(Cursor *c) noexcept
{
    auto *st = static_cast<Statement *>(c);
    st->reset();
    if (!st->owned() && st->text_entry()->idle.size() < 4) {
        st->text_entry()->idle.push_back(st);
    } else {
        delete st;
    }
}

namespace {

// A value's size and byte ranges by query: the server cuts the range, so a
// large object is not sent whole for each piece.  Bytes travel as hex.
class QueriedValue : public ValueSource {
public:
    QueriedValue(Db &db, const char *table, const char *column, int64_t id)
        : db_(db), id_(id)
    {
        std::string where = std::string(" FROM ") + table + " WHERE id = ?";
        range_sql_ = std::string("SELECT encode(substring(convert_to(")
                     + column + ", 'UTF8') FROM ?::int FOR ?::int), 'hex')"
                     + where;
        Stmt st(db, (std::string("SELECT octet_length(") + column + ")" + where)
                        .c_str());
        st.bind(1, id);
        if (!st.step() || st.is_null(0)) {
            throw DbError(std::string("value open: no ") + table + "." + column
                          + " for id " + std::to_string(id));
        }
        size_ = static_cast<size_t>(st.integer(0));
    }

    size_t size() const override { return size_; }

    std::string read(size_t offset, size_t n) const override
    {
        if (offset >= size_ || n == 0) return std::string();
        Stmt st(db_, range_sql_.c_str());
        st.bind(1, static_cast<int64_t>(offset + 1))
            .bind(2, static_cast<int64_t>(std::min(n, size_ - offset)))
            .bind(3, id_);
        if (!st.step()) throw DbError("value read: the row is gone");
        std::string hex = st.text(0);
        std::string out(hex.size() / 2, '\0');
        for (size_t i = 0; i < out.size(); i++) {
            out[i] = static_cast<char>(hex_digit(hex[2 * i]) * 16
                                       + hex_digit(hex[2 * i + 1]));
        }
        return out;
    }

private:
    Db &db_;
    int64_t id_;
    size_t size_ = 0;
    std::string range_sql_;
};

}  // namespace

std::unique_ptr<ValueSource> PostgresDb::open_value(const char *table,
                                                    const char *column,
                                                    int64_t id)
{
    return std::make_unique<QueriedValue>(*this, table, column, id);
}

}  // namespace omadm_backend
