#include "db.hpp"

namespace omadm_backend {

Stmt &Stmt::bind(int i, const std::string &v)
{
    c_->bind_text(i, v);
    return *this;
}

Stmt &Stmt::bind(int i, int64_t v)
{
    c_->bind_integer(i, v);
    return *this;
}

Stmt &Stmt::bind(int i, const std::optional<std::string> &v)
{
    return v ? bind(i, *v) : bind_null(i);
}

Stmt &Stmt::bind_null(int i)
{
    c_->bind_null(i);
    return *this;
}

void Stmt::run()
{
    while (step()) {
    }
}

std::optional<std::string> Stmt::opt_text(int col) const
{
    if (is_null(col)) {
        return std::nullopt;
    }
    return text(col);
}

Transaction::Transaction(Db &db) : db_(db), savepoint_(db.in_transaction())
{
    db_.exec(savepoint_ ? "SAVEPOINT tx" : db_.begin_write_sql());
}

Transaction::~Transaction()
{
    if (!done_) {
        db_.exec_quietly(savepoint_ ? "ROLLBACK TO tx; RELEASE tx"
                                    : "ROLLBACK");
    }
}

void Transaction::commit()
{
    db_.exec(savepoint_ ? "RELEASE tx" : "COMMIT");
    done_ = true;
}

namespace {

bool starts_with(const std::string &s, const char *prefix)
{
    return s.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

}  // namespace

bool parse_database_target(const std::string &text, DatabaseTarget &out,
                           std::string &error)
{
    if (starts_with(text, "postgresql://") || starts_with(text, "postgres://")) {
        out = {Dialect::postgresql, text};
    } else if (starts_with(text, "sqlite:")) {
        out = {Dialect::sqlite, text.substr(7)};
    } else {
        out = {Dialect::sqlite, text};
    }
    if (out.location.empty()) {
        error = "--database wants a file path or a postgresql:// URL";
        return false;
    }
    return true;
}

// postgresql://user:secret@host/db -> postgresql://user@host/db: the log
// must not carry the password (a password=... parameter goes the same way).
std::string database_display_name(const DatabaseTarget &t)
{
    if (t.dialect == Dialect::sqlite) {
        return t.location;
    }
    std::string s = t.location;
    size_t scheme = s.find("://") + 3;
    size_t at = s.find('@', scheme);
    size_t slash = s.find('/', scheme);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
        size_t colon = s.find(':', scheme);
        if (colon != std::string::npos && colon < at) {
            s.erase(colon, at - colon);
        }
    }
    size_t q = s.find('?');
    if (q != std::string::npos && s.find("password", q) != std::string::npos) {
        s.erase(q);  // parameters hold the password: none shown
    }
    return s;
}

}  // namespace omadm_backend
