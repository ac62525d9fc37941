// The contract's `exchange`: apply what a device sent, hand out its next
// commands, all in one transaction (docs/backend-api.md, "exchange").
#include "store.hpp"

#include "clock.hpp"
#include "contract_command.hpp"
#include "crypto.hpp"
#include "json_text.hpp"

namespace omadm_backend {

namespace {

// A command is only touched while it is still open: a Status or Result for a
// command that is already done or failed is ignored (recorded once).
constexpr const char *open_command_sql =
    "SELECT 1 FROM commands WHERE id = ? AND device_id = ?"
    " AND state IN ('queued', 'sent')";

// The Items of a device's Status (the answer to a user-interaction alert:
// text typed, choices selected) become the command's results, once.
void add_status_items(Db &db, int64_t id, const std::string &device_id,
                      const json &items)
{
    Stmt open(db, open_command_sql);
    open.bind(1, id).bind(2, device_id);
    if (!open.step()) {
        return;
    }
    Stmt ins(db, "INSERT INTO results (command_id, source, format, type, data)"
                 " VALUES (?, ?, '', '', ?)");
    for (const json &i : items) {
        ins.reset();
        ins.bind(1, id)
            .bind(2, i.value("source", std::string()))
            .bind(3, i.value("data", std::string()))
            .run();
    }
}

// Alert 1223 ends the session: it goes alone, and nothing answers it.
bool is_session_abort(const Stmt &st)
{
    return st.text(1) == "Alert" && st.opt_text(2) == "1223";
}

}  // namespace

void Store::requeue_sent(const std::string &device_id, const std::string &now)
{
    // A command nested in a container that the device answered, but that
    // got no Status of its own, cannot be sent again alone (it would leave
    // its Atomic or Sequence): it ends failed, without a status.  One pass
    // per nesting level.  The parent is looked up by its key: a subquery of
    // every finished command would scan the whole history of every device
    // at each session start.
    Stmt orphan(db_, "UPDATE commands SET state = 'failed', updated_at = ?"
                     " WHERE device_id = ? AND state = 'sent'"
                     " AND EXISTS (SELECT 1 FROM commands AS parent"
                     " WHERE parent.id = commands.parent_id"
                     " AND parent.state IN ('done', 'failed'))");
    for (int level = 0; level < 8; level++) {
        orphan.reset();
        orphan.bind(1, now).bind(2, device_id).run();
        if (db_.changes() == 0) {
            break;
        }
    }
    // A new session: whatever else was sent before and never got a Status
    // goes out again (at-least-once delivery), a container with its tree.
    Stmt up(db_, "UPDATE commands SET state = 'queued', session_id = NULL,"
                 " updated_at = ? WHERE device_id = ? AND state = 'sent'");
    up.bind(1, now).bind(2, device_id).run();
}

// The device refused the server's message that carried these (it did not
// accept the server's credentials): they were never executed.
void Store::requeue_refused(const ExchangeRequest &req, const std::string &now)
{
    Stmt up(db_, "UPDATE commands SET state = 'queued', session_id = NULL,"
                 " updated_at = ? WHERE id = ? AND device_id = ?"
                 " AND state = 'sent'");
    for (const std::string &s : req.requeue) {
        std::optional<int64_t> id = parse_row_id(s);
        if (!id) {
            continue;
        }
        up.reset();
        up.bind(1, now).bind(2, *id).bind(3, req.device_id).run();
    }
}

void Store::apply_results(const ExchangeRequest &req, const std::string &now)
{
    Stmt open(db_, open_command_sql);
    Stmt ins(db_, "INSERT INTO results (command_id, source, format, type, data)"
                  " VALUES (?, ?, ?, ?, ?)");
    Stmt touch(db_, "UPDATE commands SET updated_at = ? WHERE id = ?");
    for (const ExchangeResult &r : req.results) {
        std::optional<int64_t> id = parse_row_id(r.command_id);
        if (!id) {
            continue;  // not one of ours
        }
        open.reset();
        open.bind(1, *id).bind(2, req.device_id);
        if (!open.step()) {
            continue;
        }
        ins.reset();
        ins.bind(1, *id)
            .bind(2, r.source)
            .bind(3, r.format)
            .bind(4, r.type)
            .bind(5, r.data)
            .run();
        touch.reset();
        touch.bind(1, now).bind(2, *id).run();
    }
}

void Store::apply_statuses(const ExchangeRequest &req, const std::string &now)
{
    Stmt up(db_,
            "UPDATE commands SET state = ?, status = ?, updated_at = ?"
            " WHERE id = ? AND device_id = ? AND state IN ('queued', 'sent')");
    for (const ExchangeStatus &s : req.statuses) {
        std::optional<int64_t> id = parse_row_id(s.command_id);
        if (!id) {
            continue;
        }
        bool ok = s.status >= 200 && s.status <= 299;
        if (!s.items.empty()) {
            add_status_items(db_, *id, req.device_id, s.items);
        }
        up.reset();
        up.bind(1, std::string(ok ? "done" : "failed"))
            .bind(2, s.status)
            .bind(3, now)
            .bind(4, *id)
            .bind(5, req.device_id)
            .run();
    }
}

// Commands the module could not send: failed, status 413, with its reason.
void Store::apply_failed(const ExchangeRequest &req, const std::string &now)
{
    Stmt up(db_,
            "UPDATE commands SET state = 'failed', status = 413, reason = ?,"
            " updated_at = ? WHERE id = ? AND device_id = ?"
            " AND state IN ('queued', 'sent')");
    for (const ExchangeFailed &f : req.failed) {
        std::optional<int64_t> id = parse_row_id(f.command_id);
        if (!id) {
            continue;
        }
        up.reset();
        up.bind(1, f.reason).bind(2, now).bind(3, *id).bind(4, req.device_id)
            .run();
    }
}

void Store::merge_devinfo(const std::string &device_id, const json &devinfo)
{
    Stmt sel(db_, "SELECT devinfo FROM devices WHERE device_id = ?");
    sel.bind(1, device_id);
    json merged = json::object();
    if (sel.step()) {
        merged = json::parse(sel.text(0), nullptr, false);
        if (!merged.is_object()) {
            merged = json::object();
        }
    }
    merged.update(devinfo);  // newer values replace older ones, key by key
    Stmt up(db_, "UPDATE devices SET devinfo = ? WHERE device_id = ?");
    up.bind(1, json_text(merged)).bind(2, device_id).run();
}

void Store::append_alerts(const ExchangeRequest &req, const std::string &now)
{
    Stmt ins(db_, "INSERT INTO alerts (device_id, code, correlator, items,"
                  " received_at) VALUES (?, ?, ?, ?, ?)");
    for (const ExchangeAlert &a : req.alerts) {
        ins.reset();
        ins.bind(1, req.device_id)
            .bind(2, a.code)
            .bind(3, a.correlator)
            .bind(4, json_text(a.items))
            .bind(5, now)
            .run();
    }
}

json Store::take_queued(const ExchangeRequest &req, const std::string &now)
{
    json out = json::array();
    if (req.max_commands <= 0) {
        return out;
    }
    // A profile's commands go ahead of the operator's.
    Stmt sel(db_, "SELECT id, verb, data FROM commands WHERE device_id = ?"
                  " AND state = 'queued' AND parent_id IS NULL"
                  " ORDER BY profile_name IS NULL, id LIMIT ?");
    sel.bind(1, req.device_id).bind(2, req.max_commands);
    // Commands go out in order while the answer stays under
    // max_answer_bytes and max_commands (a container counts with every
    // command nested in it); the first always goes (operator validation
    // makes sure one command fits), the rest stay queued for the next
    // message.  A session abort goes alone.
    size_t answer_bytes = empty_answer_bytes();
    size_t count = 0;
    std::vector<int64_t> ids;
    int64_t abort_id = 0;
    while (sel.step()) {
        int64_t id = sel.integer(0);
        bool abort = is_session_abort(sel);
        if (abort && !out.empty()) {
            break;
        }
        json c = contract_tree(id);
        size_t bytes = json_text(c).size() + (out.empty() ? 0 : 1);  // ','
        size_t nodes = tree_size(id);
        if (!out.empty()
            && (answer_bytes + bytes > max_answer_bytes
                || count + nodes > static_cast<size_t>(req.max_commands))) {
            break;
        }
        answer_bytes += bytes;
        count += nodes;
        out.push_back(std::move(c));
        if (abort) {
            abort_id = id;
            break;
        }
        ids.push_back(id);
    }
    for (int64_t id : ids) {
        mark_tree_sent(id, req.session_id, now);
    }
    if (abort_id) {
        // The device does not answer an abort: handed over is done.
        Stmt up(db_, "UPDATE commands SET state = 'done', session_id = ?,"
                     " updated_at = ? WHERE id = ?");
        up.bind(1, req.session_id).bind(2, now).bind(3, abort_id).run();
    }
    return out;
}

ExchangeAnswer Store::exchange(const ExchangeRequest &req)
{
    return write([&]() -> ExchangeAnswer {
        Transaction tx(db_);
        // Everything below reads and then writes the device's state (the
        // nonce's compare-and-swap, "already answered?", the queue handed
        // out): one exchange of a device at a time, in any process.
        lock_device(req.device_id);

        std::string stored_nonce;
        std::optional<std::string> last_request, last_answer;
        {
            Stmt dev(db_, "SELECT nonce, last_request, last_answer, username,"
                          " password_inner, server_username, server_inner,"
                          " server_basic FROM devices WHERE device_id = ?");
            dev.bind(1, req.device_id);
            if (!dev.step() || management_ended(req.device_id)) {
                return {ExchangeOutcome::unknown_device, nullptr};
            }
            stored_nonce = dev.text(0);
            last_request = dev.opt_text(1);
            last_answer = dev.opt_text(2);
            // The module verified this message against a copy of the
            // credentials: refused before anything, a repeat included, when
            // they changed since (a password reset takes effect at once).
            if (req.credential_version
                && !secret_equal(*req.credential_version,
                                 credential_version(dev.text(3), dev.text(4),
                                                    dev.text(5), dev.text(6),
                                                    dev.text(7)))) {
                return {ExchangeOutcome::credentials_changed, nullptr};
            }
        }

        std::string now = now_iso8601();

        // A repeat of the message answered last (the module timed out after we
        // committed): the same answer, nothing applied twice. Checked before the
        // nonce, which that first call already rotated.  The whole request is
        // compared, not just (session, msg): a device that reuses a SessionID
        // in a new session must not get the old session's answer.  Not for a
        // login that used a nonce: the module never repeats one (a device's
        // retry finds the nonce rotated and is challenged afresh), so a second
        // one is a copy racing the first, and the compare-and-swap must fail it.
        bool login = req.session_start && req.used_nonce;
        if (last_answer && last_request == req.fingerprint && !login) {
            json answer = json::parse(*last_answer, nullptr, false);
            if (answer.is_object()) {
                // The module sends the device this attempt's next nonce.
                if (req.next_nonce) {
                    set_nonce(req.device_id, *req.next_nonce);
                    tx.commit();
                }
                return {ExchangeOutcome::ok, answer};
            }
        }

        if (req.used_nonce && !secret_equal(*req.used_nonce, stored_nonce)) {
            return {ExchangeOutcome::nonce_conflict, nullptr};  // rolled back
        }

        if (req.next_nonce) {
            set_nonce(req.device_id, *req.next_nonce);
        }
        if (req.session_start) {
            requeue_sent(req.device_id, now);
            record_checkin(req.device_id, now);
        }
        if (req.server_next_nonce) {
            Stmt sn(db_, "UPDATE devices SET server_nonce = ? WHERE device_id = ?");
            sn.bind(1, *req.server_next_nonce).bind(2, req.device_id).run();
        }
        requeue_refused(req, now);
        if (req.devinfo) {
            merge_devinfo(req.device_id, *req.devinfo);
        }
        append_alerts(req, now);
        // Results before Statuses: a Get's Results and its Status arrive in the
        // same message, and the Status closes the command.
        apply_results(req, now);
        apply_statuses(req, now);
        apply_failed(req, now);
        settle_profile_commands(req, now);
        if (req.session_start) {
            reconcile_profiles(req.device_id, now);
        }
        // after the message's own Statuses: what is still open then fails
        end_management_if_asked(req, now);

        json answer = {{"commands", take_queued(req, now)}};
        Stmt seen(db_, "UPDATE devices SET last_seen = ?, last_request = ?,"
                       " last_answer = ? WHERE device_id = ?");
        seen.bind(1, now)
            .bind(2, req.fingerprint)
            .bind(3, json_text(answer))
            .bind(4, req.device_id)
            .run();
        tx.commit();
        return {ExchangeOutcome::ok, answer};
    });
}

}  // namespace omadm_backend
