// Reconciliation (docs/backend-api.md, "Profiles"): at a session start the
// backend compares what the device should hold with what it last
// confirmed and queues what is missing, ahead of the operator's commands;
// every answer to one of those commands moves the settings it carries out.
// Callers run inside the exchange's write call and its transaction.
#include "store.hpp"

#include "clock.hpp"
#include "profile_state.hpp"
#include "setting_outcome.hpp"

#include <functional>
#include <set>

namespace omadm_backend {

namespace {

constexpr const char *cancelled_reason =
    "cancelled: no longer part of the device's desired state";

std::optional<CommandOutcome> command_outcome(Db &db,
                                              std::optional<int64_t> id)
{
    if (!id) {
        return std::nullopt;
    }
    CommandOutcome c;
    {
        Stmt st(db, "SELECT verb, state, status, reason, updated_at"
                    " FROM commands WHERE id = ?");
        st.bind(1, *id);
        if (!st.step()) {
            return std::nullopt;
        }
        c.verb = st.text(0);
        c.state = st.text(1);
        if (!st.is_null(2)) {
            c.status = st.integer(2);
        }
        c.reason = st.opt_text(3);
        c.updated_at = st.text(4);
    }
    Stmt res(db, "SELECT data FROM results WHERE command_id = ?"
                 " ORDER BY id LIMIT 1");
    res.bind(1, *id);
    if (res.step()) {
        c.value = res.text(0);
    }
    return c;
}

bool same_outcome(const SettingOutcome &a, const SettingOutcome &b)
{
    return a.state == b.state && a.status == b.status && a.reason == b.reason
           && a.checked_at == b.checked_at;
}

// Brings a row up to date with its commands' answers.
void settle_row(Db &db, const std::string &device_id, const SettingKey &key,
                SettingRow &row, const std::string &now)
{
    std::optional<std::string> format, data;
    bool secret = false;
    {
        Stmt st(db, "SELECT format, data, secret FROM profile_settings"
                    " WHERE profile_name = ? AND target = ?");
        st.bind(1, key.second).bind(2, key.first);
        if (!st.step()) {
            return;  // the setting is gone; reconciliation drops the row
        }
        format = st.opt_text(0);
        data = st.opt_text(1);
        secret = st.integer(2) != 0;
    }
    SettingOutcome o =
        settle(row.outcome, command_outcome(db, row.apply_id),
               command_outcome(db, row.verify_id), format.value_or("chr"),
               data.value_or(""), secret);
    if (same_outcome(o, row.outcome)) {
        return;
    }
    row.outcome = o;
    Stmt up(db, "UPDATE device_setting_states SET state = ?, status = ?,"
                " reason = ?, checked_at = ?, updated_at = ?"
                " WHERE device_id = ? AND target = ? AND profile_name = ?");
    up.bind(1, o.state);
    if (o.status) {
        up.bind(2, *o.status);
    } else {
        up.bind_null(2);
    }
    up.bind(3, o.reason)
        .bind(4, o.checked_at)
        .bind(5, now)
        .bind(6, device_id)
        .bind(7, key.first)
        .bind(8, key.second)
        .run();
}

void bind_id(Stmt &st, int i, std::optional<int64_t> id)
{
    if (id) {
        st.bind(i, *id);
    } else {
        st.bind_null(i);
    }
}

}  // namespace

NewCommand removal_command(Db &db, const std::string &profile,
                           const std::string &target)
{
    Stmt st(db, "SELECT remove_verb, remove_format, remove_type, remove_data"
                " FROM profile_settings WHERE profile_name = ? AND target = ?");
    st.bind(1, profile).bind(2, target);
    NewCommand c{"", target, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    if (st.step() && !st.is_null(0)) {
        c.verb = st.text(0);
        c.format = st.opt_text(1);
        c.type = st.opt_text(2);
        c.data = st.opt_text(3);
    }
    return c;
}

namespace {

// What a setting needs at this session start.  Ordered: of the profiles
// that share a target, the greatest need wins.
enum class Need { nothing, recheck, keep, apply };

using QueueCommand = std::function<std::vector<int64_t>(const NewCommand &,
                                                        const ProfileMark &)>;

// The Replace (and its read-back Get) that stand in for an Add answered
// 418, by the Add's id: profiles sharing a target share them.
using Retries = std::map<int64_t, std::pair<int64_t, std::optional<int64_t>>>;

// An Add answered 418 (the node already exists) is sent again as a
// Replace, with a new read-back: queued now, it goes out in this session
// when the message has room, else at the next.  Only a top-level Add: an
// Atomic that failed is applied whole again by reconciliation.
void retry_add_as_replace(Db &db, const std::string &device_id,
                          const SettingKey &key, const SettingRow &row,
                          Retries &retries, const std::string &now,
                          const QueueCommand &queue)
{
    if (!row.apply_id) {
        return;
    }
    ProfileMark mark{key.second, 0, key.first, "apply"};
    {
        Stmt st(db, "SELECT profile_revision FROM commands WHERE id = ?"
                    " AND verb = 'Add' AND status = 418"
                    " AND parent_id IS NULL");
        st.bind(1, *row.apply_id);
        if (!st.step()) {
            return;
        }
        mark.revision = st.integer(0);
    }
    auto it = retries.find(*row.apply_id);
    if (it == retries.end()) {
        NewCommand c{"Replace", key.first, {}, {}, {}, {}, {}, {}, {}, {}, {}};
        bool read_back = false;
        {
            Stmt st(db, "SELECT format, type, data, verify"
                        " FROM profile_settings"
                        " WHERE profile_name = ? AND target = ?");
            st.bind(1, key.second).bind(2, key.first);
            if (!st.step()) {
                return;
            }
            c.format = st.opt_text(0);
            c.type = st.opt_text(1);
            c.data = st.opt_text(2);
            read_back = st.integer(3) != 0
                        && verified_by_read_back("Replace", c.format);
        }
        if (c.format == std::string("node")) {
            return;  // an interior node that exists is as wanted
        }
        int64_t apply = queue(c, mark)[0];
        std::optional<int64_t> verify;
        if (read_back) {
            NewCommand get{"Get", key.first, {}, {}, {}, {}, {}, {}, {}, {}, {}};
            mark.purpose = "verify";
            verify = queue(get, mark)[0];
        }
        it = retries.emplace(*row.apply_id, std::make_pair(apply, verify))
                 .first;
    }
    Stmt up(db, "UPDATE device_setting_states SET state = 'pending',"
                " status = NULL, reason = NULL, apply_command_id = ?,"
                " verify_command_id = ?, updated_at = ?"
                " WHERE device_id = ? AND target = ? AND profile_name = ?");
    up.bind(1, it->second.first);
    bind_id(up, 2, it->second.second);
    up.bind(3, now).bind(4, device_id).bind(5, key.first).bind(6, key.second)
        .run();
}

class Reconciler {
public:
    Reconciler(Db &db, const std::string &device_id, const std::string &now,
               int recheck_hours, int recheck_sessions, QueueCommand queue)
        : db_(db), device_id_(device_id), now_(now), queue_(std::move(queue)),
          recheck_sessions_(recheck_sessions)
    {
        if (recheck_hours == 0) {
            recheck_before_ = "~";  // sorts after every timestamp: always due
            return;
        }
        recheck_before_ = iso8601_hours_before(now_, recheck_hours);
    }

    void run()
    {
        desired_ = desired_state(db_, device_id_);
        for (const DesiredSetting &s : desired_.settings) {
            setters_[s.target].push_back(&s);
        }
        rows_ = setting_rows(db_, device_id_);
        drop_and_settle_rows();
        count_session();
        decide();
        for (const DesiredSetting &s : desired_.settings) {
            carry_out(s);
        }
        cancel_unwanted();
    }

private:
    // Rows of settings that no longer apply go (a profile assigned again
    // later starts from pending); the others catch up with their commands
    // (some were queued again by this session start, or failed without a
    // Status).
    void drop_and_settle_rows()
    {
        std::set<SettingKey> applicable;
        for (const DesiredSetting &s : desired_.settings) {
            applicable.insert({s.target, s.profile});
        }
        Stmt del(db_, "DELETE FROM device_setting_states WHERE device_id = ?"
                      " AND target = ? AND profile_name = ?");
        for (auto it = rows_.begin(); it != rows_.end();) {
            if (applicable.count(it->first)) {
                settle_row(db_, device_id_, it->first, it->second, now_);
                ++it;
                continue;
            }
            send_removal(it->first, it->second);
            del.reset();
            del.bind(1, device_id_).bind(2, it->first.first)
                .bind(3, it->first.second).run();
            it = rows_.erase(it);
        }
    }

    // One more session for every verified setting; a read-back or apply
    // queued by it starts the count again.
    void count_session()
    {
        Stmt up(db_, "UPDATE device_setting_states"
                     " SET sessions_unchecked = sessions_unchecked + 1"
                     " WHERE device_id = ? AND state = 'verified'");
        up.bind(1, device_id_).run();
        for (auto &[key, row] : rows_) {
            if (row.outcome.state == "verified") {
                row.sessions_unchecked++;
            }
        }
    }

    // A setting that no longer applies and has a "remove": sent once when
    // the device had it applied and no other profile sets the target.
    void send_removal(const SettingKey &key, const SettingRow &row)
    {
        bool applied = row.outcome.state == "verified"
                       || row.outcome.state == "verifying"
                       || row.outcome.checked_at.has_value();
        if (!applied || setters_.count(key.first)) {
            return;
        }
        NewCommand c = removal_command(db_, key.second, key.first);
        if (c.verb.empty()) {
            return;
        }
        queue(c, {key.second, row.profile_revision, key.first, "remove"});
    }

    bool has_open_command(const SettingRow &row)
    {
        Stmt st(db_, "SELECT 1 FROM commands WHERE id IN (?, ?)"
                     " AND state IN ('queued', 'sent')");
        bind_id(st, 1, row.apply_id);
        bind_id(st, 2, row.verify_id);
        return st.step();
    }

    Need need_of(const DesiredSetting &s)
    {
        auto it = rows_.find({s.target, s.profile});
        if (it == rows_.end() || it->second.setting_revision != s.revision) {
            return Need::apply;  // never asked, or changed since
        }
        const SettingRow &row = it->second;
        if (has_open_command(row)) {
            return Need::keep;  // queued again from an earlier session
        }
        if (row.outcome.state != "verified") {
            return Need::apply;  // pending or failed: try again
        }
        if (!verified_by_read_back(s.verb, s.format, s.verify)) {
            return Need::nothing;  // an Exec or Delete is not run again
        }
        // Drift: read it back when the profile has a new revision, every
        // recheck_hours, and every recheck_sessions-th session.
        if (row.profile_revision != s.profile_revision
            || row.outcome.checked_at.value_or("") < recheck_before_
            || (recheck_sessions_ > 0
                && row.sessions_unchecked >= recheck_sessions_)) {
            return Need::recheck;
        }
        return Need::nothing;
    }

    void decide()
    {
        for (const DesiredSetting &s : desired_.settings) {
            if (desired_.waiting.count(s.target)) {
                continue;  // nothing goes out for it, nothing is kept
            }
            if (!desired_.blocked.count(s.target)) {
                Need &n = need_[s.target];
                n = std::max(n, need_of(s));
            }
        }
        // An Atomic goes whole: one member to apply sends them all.
        std::set<std::pair<std::string, int64_t>> atomics;
        for (const DesiredSetting &s : desired_.settings) {
            if (s.atomic && need_[s.target] == Need::apply) {
                atomics.insert({s.profile, s.atomic});
            }
        }
        for (const DesiredSetting &s : desired_.settings) {
            if (atomics.count({s.profile, s.atomic})) {
                need_[s.target] = Need::apply;
            }
        }
    }

    void carry_out(const DesiredSetting &s)
    {
        auto row = rows_.find({s.target, s.profile});
        if (desired_.blocked.count(s.target)) {
            // Nothing goes out for it; its old commands are cancelled.
            if (row != rows_.end()) {
                Stmt up(db_, "UPDATE device_setting_states SET"
                             " apply_command_id = NULL,"
                             " verify_command_id = NULL"
                             " WHERE device_id = ? AND target = ?"
                             " AND profile_name = ?");
                up.bind(1, device_id_).bind(2, s.target).bind(3, s.profile)
                    .run();
            }
            return;
        }
        Need n = need_[s.target];
        if (n == Need::keep && row != rows_.end()) {
            for (std::optional<int64_t> id :
                 {row->second.apply_id, row->second.verify_id}) {
                if (id) {
                    wanted_.insert(root_of(*id));
                }
            }
        }
        if (n != Need::apply && n != Need::recheck) {
            return;
        }
        if (!handled_.insert(s.target).second) {
            return;  // a target profiles share goes once
        }
        if (n == Need::apply && s.atomic) {
            apply_atomic(s);
        } else if (n == Need::apply) {
            NewCommand c = stored_command(s.profile, s.target);
            ProfileMark mark{s.profile, s.profile_revision, s.target, "apply"};
            int64_t apply = queue(c, mark)[0];
            record_apply(s.target, apply, read_back(s));
        } else {
            record_recheck(s.target, *read_back(s));
        }
    }

    // The profile's Atomic holding `first`, all members, then a read-back
    // of each.
    void apply_atomic(const DesiredSetting &first)
    {
        std::vector<const DesiredSetting *> members;
        NewCommand atomic{"Atomic", "", {}, {}, {}, {}, {}, {}, {}, {}, {}};
        for (const DesiredSetting &m : desired_.settings) {
            if (m.profile == first.profile && m.atomic == first.atomic) {
                members.push_back(&m);
                atomic.commands.push_back(stored_command(m.profile, m.target));
                handled_.insert(m.target);
            }
        }
        std::vector<int64_t> ids = queue(
            atomic, {first.profile, first.profile_revision, std::nullopt,
                     "apply"});
        for (size_t i = 0; i < members.size(); i++) {
            record_apply(members[i]->target, ids[i + 1],
                         read_back(*members[i]));
        }
    }

    std::optional<int64_t> read_back(const DesiredSetting &s)
    {
        if (!verified_by_read_back(s.verb, s.format, s.verify)) {
            return std::nullopt;
        }
        NewCommand get{"Get", s.target, {}, {}, {}, {}, {}, {}, {}, {}, {}};
        return queue(get, {s.profile, s.profile_revision, s.target,
                           "verify"})[0];
    }

    // Every profile that sets the target now waits for these commands.
    void record_apply(const std::string &target, int64_t apply,
                      std::optional<int64_t> verify)
    {
        Stmt up(db_,
                "INSERT INTO device_setting_states (device_id, target,"
                " profile_name, setting_revision, profile_revision, state,"
                " apply_command_id, verify_command_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)"
                " ON CONFLICT (device_id, target, profile_name) DO UPDATE SET"
                " setting_revision = excluded.setting_revision,"
                " profile_revision = excluded.profile_revision,"
                " state = 'pending', status = NULL, reason = NULL,"
                " sessions_unchecked = 0,"
                " apply_command_id = excluded.apply_command_id,"
                " verify_command_id = excluded.verify_command_id,"
                " updated_at = excluded.updated_at");
        for (const DesiredSetting *s : setters_[target]) {
            up.reset();
            up.bind(1, device_id_)
                .bind(2, target)
                .bind(3, s->profile)
                .bind(4, s->revision)
                .bind(5, s->profile_revision)
                .bind(6, apply);
            bind_id(up, 7, verify);
            up.bind(8, now_).run();
        }
    }

    // A verified setting read back again: it stays verified meanwhile.
    void record_recheck(const std::string &target, int64_t verify)
    {
        Stmt up(db_, "UPDATE device_setting_states SET"
                     " apply_command_id = NULL, verify_command_id = ?,"
                     " profile_revision = ?, updated_at = ?,"
                     " sessions_unchecked = 0"
                     " WHERE device_id = ? AND target = ?"
                     " AND profile_name = ?");
        for (const DesiredSetting *s : setters_[target]) {
            up.reset();
            up.bind(1, verify)
                .bind(2, s->profile_revision)
                .bind(3, now_)
                .bind(4, device_id_)
                .bind(5, target)
                .bind(6, s->profile)
                .run();
        }
    }

    NewCommand stored_command(const std::string &profile,
                              const std::string &target)
    {
        Stmt st(db_, "SELECT verb, format, type, data FROM profile_settings"
                     " WHERE profile_name = ? AND target = ?");
        st.bind(1, profile).bind(2, target);
        st.step();
        return NewCommand{st.text(0),     target, st.opt_text(3),
                          st.opt_text(1), st.opt_text(2), {},
                          {},             {},     {},
                          {},             {}};
    }

    std::vector<int64_t> queue(const NewCommand &c, const ProfileMark &mark)
    {
        std::vector<int64_t> ids = queue_(c, mark);
        wanted_.insert(ids[0]);
        return ids;
    }

    int64_t root_of(int64_t id)
    {
        for (int level = 0; level < 8; level++) {
            Stmt st(db_, "SELECT parent_id FROM commands WHERE id = ?");
            st.bind(1, id);
            if (!st.step() || st.is_null(0)) {
                break;
            }
            id = st.integer(0);
        }
        return id;
    }

    // Profile commands still queued that nothing waits for any more (their
    // profile was deleted, unassigned or changed, or is in conflict) do not
    // go out: they end failed with a reason, kept in the history.
    void cancel_unwanted()
    {
        std::vector<int64_t> unwanted;
        {
            Stmt st(db_, "SELECT id FROM commands WHERE device_id = ?"
                         " AND state = 'queued' AND parent_id IS NULL"
                         " AND profile_name IS NOT NULL"
                         " AND profile_purpose != 'remove'");
            st.bind(1, device_id_);
            while (st.step()) {
                if (!wanted_.count(st.integer(0))) {
                    unwanted.push_back(st.integer(0));
                }
            }
        }
        Stmt up(db_, "WITH RECURSIVE tree(id) AS (SELECT ? UNION ALL"
                     " SELECT c.id FROM commands c JOIN tree t"
                     " ON c.parent_id = t.id)"
                     " UPDATE commands SET state = 'failed', reason = ?,"
                     " updated_at = ? WHERE id IN (SELECT id FROM tree)"
                     " AND state = 'queued'");
        for (int64_t id : unwanted) {
            up.reset();
            up.bind(1, id).bind(2, std::string(cancelled_reason)).bind(3, now_).run();
        }
    }

    Db &db_;
    const std::string &device_id_;
    const std::string &now_;
    QueueCommand queue_;
    int recheck_sessions_;
    std::string recheck_before_;
    DesiredState desired_;
    std::map<SettingKey, SettingRow> rows_;
    std::map<std::string, std::vector<const DesiredSetting *>> setters_;
    std::map<std::string, Need> need_;
    std::set<std::string> handled_;
    std::set<int64_t> wanted_;  // top-level commands that still go out
};

}  // namespace

std::vector<int64_t> Store::queue_profile_command(const std::string &device_id,
                                                  const NewCommand &c,
                                                  const ProfileMark &mark,
                                                  const std::string &now)
{
    std::vector<int64_t> ids{insert_command(device_id, c, std::nullopt, now)};
    for (int64_t child : child_ids(ids[0])) {
        ids.push_back(child);
    }
    Stmt up(db_, "UPDATE commands SET profile_name = ?, profile_revision = ?,"
                 " profile_target = ?, profile_purpose = ? WHERE id = ?");
    for (size_t i = 0; i < ids.size(); i++) {
        // a nested command is marked with its own setting
        up.reset();
        up.bind(1, mark.profile)
            .bind(2, mark.revision)
            .bind(3, i == 0 ? mark.setting
                            : std::optional<std::string>(
                                c.commands[i - 1].target))
            .bind(4, mark.purpose)
            .bind(5, ids[i])
            .run();
    }
    mark_secret_commands(db_, ids);
    return ids;
}

void Store::settle_profile_commands(const ExchangeRequest &req,
                                    const std::string &now)
{
    std::vector<std::string> answered;
    for (const ExchangeStatus &s : req.statuses) {
        answered.push_back(s.command_id);
    }
    for (const ExchangeFailed &f : req.failed) {
        answered.push_back(f.command_id);
    }
    std::set<std::string> targets;
    Stmt st(db_, "SELECT profile_target FROM commands WHERE id = ?"
                 " AND device_id = ? AND profile_target IS NOT NULL");
    for (const std::string &s : answered) {
        std::optional<int64_t> id = parse_row_id(s);
        if (!id) {
            continue;
        }
        st.reset();
        st.bind(1, *id).bind(2, req.device_id);
        if (st.step()) {
            targets.insert(st.text(0));
        }
    }
    if (targets.empty()) {
        return;
    }
    std::map<SettingKey, SettingRow> rows = setting_rows(db_, req.device_id);
    Retries retries;
    for (auto &[key, row] : rows) {
        if (targets.count(key.first)) {
            settle_row(db_, req.device_id, key, row, now);
            retry_add_as_replace(
                db_, req.device_id, key, row, retries, now,
                [this, &req, &now](const NewCommand &c,
                                   const ProfileMark &mark) {
                    return queue_profile_command(req.device_id, c, mark, now);
                });
        }
    }
}

void Store::reconcile_profiles(const std::string &device_id,
                               const std::string &now)
{
    Reconciler(db_, device_id, now, profile_recheck_hours_,
               profile_recheck_sessions_,
               [this, &device_id, &now](const NewCommand &c,
                                        const ProfileMark &mark) {
                   return queue_profile_command(device_id, c, mark, now);
               })
        .run();
}

void Store::queue_removal(const std::string &device_id,
                          const ProfileMark &mark, const NewCommand &c,
                          const std::string &now)
{
    if (c.verb.empty()) {
        return;
    }
    for (const DesiredSetting &s : desired_state(db_, device_id).settings) {
        if (s.target == c.target && s.profile != mark.profile) {
            return;  // another profile still sets it
        }
    }
    queue_profile_command(device_id, c, mark, now);
}

void Store::set_profile_recheck_sessions(int sessions)
{
    profile_recheck_sessions_ = sessions;
}

void Store::set_profile_recheck_hours(int hours)
{
    profile_recheck_hours_ = hours;
}

}  // namespace omadm_backend
