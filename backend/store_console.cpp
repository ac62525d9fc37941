// What the console shows beyond the plain records: a page of devices
// (keyset pagination over an index, search, sort), the fleet's aggregates
// and the check-ins they count (docs/backend-api.md, "Console").
#include "store.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

namespace omadm_backend {

namespace {

// ISO-8601 UTC at second precision plus ".000Z", the API's format.
std::string iso_at(std::time_t t)
{
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

// "2025-01-31T12:34:56.789Z" -> seconds since the epoch (UTC).
std::time_t parse_iso(const std::string &s)
{
    std::tm tm{};
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec)
        != 6) {
        return std::time(nullptr);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

// Check-ins older than this are pruned: the console looks back a week.
constexpr std::time_t checkin_keep_seconds = 8 * 24 * 3600;

// The sort key of each sort, as indexed below.
const char *sort_key(const std::string &sort)
{
    if (sort == "created_at") return "created_at";
    if (sort == "last_seen") return "COALESCE(last_seen, '')";
    return "device_id";
}

// The rows of a JSON array of strings bound as ?1, as a one-column table.
std::string ids_in(Dialect d)
{
    return d == Dialect::postgresql
               ? " IN (SELECT json_array_elements_text(?1::json))"
               : " IN (SELECT value FROM json_each(?1))";
}

// A case-insensitive substring test of `column` against ?1 (lowercase):
// SQLite's instr() is PostgreSQL's strpos().
std::string contains_q(Dialect d, const std::string &column)
{
    return (d == Dialect::postgresql ? "strpos(lower(" : "instr(lower(")
           + column + "), ?1) > 0";
}

// A DevInfo node from the devinfo column's JSON object, or ''.
std::string devinfo_node(Dialect d, const char *node)
{
    std::string value =
        d == Dialect::postgresql
            ? std::string("(devinfo::json ->> '") + node + "')"
            : std::string("json_extract(devinfo, '$.\"") + node + "\"')";
    return "COALESCE(" + value + ", '')";
}

// The state of each (device, profile) pair the profiles reach, from the
// recorded setting states: a setting without a row of its current revision
// is pending, and a profile takes the worst of its settings' states (failed,
// pending, verifying, verified; profile_state()).  `devices` is a JSON array
// of device ids bound as ?1, or every device when `all`.  Rows: device_id,
// state, number of profiles.
std::string pair_states_sql(Dialect d, bool all)
{
    std::string page = all ? "" : " WHERE d.device_id" + ids_in(d);
    std::string member = all ? "" : " AND m.device_id" + ids_in(d);
    return "WITH applicable(device_id, name) AS ("
           " SELECT d.device_id, d.profile_name FROM profile_device_assignments d"
           + page +
           " UNION SELECT m.device_id, a.profile_name FROM profile_group_assignments a"
           " JOIN group_members m ON m.group_name = a.group_name" + member + "),"
           " pairs(device_id, name, worst) AS ("
           " SELECT ap.device_id, ap.name, MAX(CASE"
           " WHEN r.setting_revision IS DISTINCT FROM s.revision THEN 2"
           " WHEN r.state = 'failed' THEN 3 WHEN r.state = 'pending' THEN 2"
           " WHEN r.state = 'verifying' THEN 1 ELSE 0 END)"
           " FROM applicable ap"
           " JOIN profile_settings s ON s.profile_name = ap.name"
           " LEFT JOIN device_setting_states r ON r.device_id = ap.device_id"
           " AND r.target = s.target AND r.profile_name = ap.name"
           " GROUP BY ap.device_id, ap.name)"
           " SELECT device_id, CASE worst WHEN 3 THEN 'failed' WHEN 2 THEN 'pending'"
           " WHEN 1 THEN 'verifying' ELSE 'verified' END, COUNT(*)"
           " FROM pairs GROUP BY 1, 2";
}

}  // namespace

void add_console_schema(Db &db)
{
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS checkins (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkins_by_time ON checkins (at);
CREATE INDEX IF NOT EXISTS devices_by_created ON devices (created_at, device_id);
CREATE INDEX IF NOT EXISTS devices_by_last_seen
    ON devices (COALESCE(last_seen, ''), device_id);
)sql");
}

// A session start: one check-in (the caller is inside the write call and its
// transaction of the exchange).
void Store::record_checkin(const std::string &device_id, const std::string &now)
{
    Stmt ins(db_, "INSERT INTO checkins (device_id, at) VALUES (?, ?)");
    ins.bind(1, device_id).bind(2, now).run();
    Stmt prune(db_, "DELETE FROM checkins WHERE at < ?");
    prune.bind(1, iso_at(parse_iso(now) - checkin_keep_seconds)).run();
}

DevicePage Store::device_page(const DevicePageQuery &q)
{
    std::string key = sort_key(q.sort);
    bool by_id = key == "device_id";
    return read([&]() -> DevicePage {
        Dialect dialect = db_.dialect();
        std::string sql = std::string("SELECT ") + device_json_columns() + ", "
                          + key + " FROM devices WHERE TRUE";
        if (!q.q.empty()) {
            // a scan, but one that stops after a page of matches
            sql += " AND (" + contains_q(dialect, "device_id") + " OR "
                   + contains_q(dialect, "username") + " OR "
                   + contains_q(dialect, devinfo_node(dialect, "./DevInfo/Mod"))
                   + " OR "
                   + contains_q(dialect, devinfo_node(dialect, "./DevInfo/Man"))
                   + ")";
        }
        const char *cmp = q.descending ? "<" : ">";
        if (q.after) {
            sql += by_id ? std::string(" AND device_id ") + cmp + " ?3"
                         : " AND (" + key + ", device_id) " + cmp + " (?2, ?3)";
        }
        const char *dir = q.descending ? " DESC" : "";
        sql += by_id ? std::string(" ORDER BY device_id") + dir
                     : " ORDER BY " + key + dir + ", device_id" + dir;
        sql += " LIMIT ?4";

        Stmt st(db_, sql.c_str());
        if (!q.q.empty()) {
            std::string lower = q.q;
            for (char &c : lower) {
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            }
            st.bind(1, lower);
        }
        if (q.after) {
            if (!by_id) st.bind(2, q.after->first);
            st.bind(3, q.after->second);
        }
        st.bind(4, static_cast<int64_t>(q.limit + 1));
        DevicePage page;
        std::pair<std::string, std::string> last;
        while (st.step()) {
            if (page.devices.size() == q.limit) {
                page.next = last;  // one more row exists
                break;
            }
            page.devices.push_back(device_json_row(st));
            last = {st.text(6), st.text(0)};
        }
        // Each row's enrollment and profile summary: two queries a page.
        json ids = json::array();
        std::map<std::string, json *> row_of;
        for (json &d : page.devices) {
            ids.push_back(d["device_id"]);
            d["enrollment"] = nullptr;
            d["profiles"] = json::object();
            row_of[d["device_id"].get<std::string>()] = &d;
        }
        if (ids.empty()) return page;
        std::string id_list = ids.dump();
        {
            std::string sql = std::string("SELECT device_id, ")
                              + enrollment_json_columns()
                              + " FROM enrollments WHERE device_id"
                              + ids_in(dialect);
            Stmt en(db_, sql.c_str());
            en.bind(1, id_list);
            while (en.step()) {
                auto it = row_of.find(en.text(0));
                if (it != row_of.end()) (*it->second)["enrollment"] = enrollment_json_row(en, 1);
            }
        }
        {
            std::string sql = pair_states_sql(dialect, false);
            Stmt ps(db_, sql.c_str());
            ps.bind(1, id_list);
            while (ps.step()) {
                auto it = row_of.find(ps.text(0));
                if (it != row_of.end()) (*it->second)["profiles"][ps.text(1)] = ps.integer(2);
            }
        }
        return page;
    });
}

json Store::stats(const std::string &now)
{
    std::time_t t = parse_iso(now);
    return read([&]() -> json {
        auto count = [this](const char *sql, const std::string &arg) -> int64_t {
            Stmt st(db_, sql);
            if (!arg.empty()) st.bind(1, arg);
            return st.step() ? st.integer(0) : 0;
        };
        json out;
        out["generated_at"] = now;
        out["devices"] = count("SELECT COUNT(*) FROM devices", "");
        out["never_seen"] =
            count("SELECT COUNT(*) FROM devices WHERE last_seen IS NULL", "");
        const char *seen_sql = "SELECT COUNT(*) FROM devices"
                               " WHERE COALESCE(last_seen, '') >= ?";
        out["seen"] = {{"hour", count(seen_sql, iso_at(t - 3600))},
                       {"day", count(seen_sql, iso_at(t - 24 * 3600))},
                       {"week", count(seen_sql, iso_at(t - 7 * 24 * 3600))}};

        json states = {{"queued", 0}, {"sent", 0}, {"done", 0}, {"failed", 0}};
        {
            Stmt st(db_, "SELECT state, COUNT(*) FROM commands"
                         " WHERE parent_id IS NULL GROUP BY state");
            while (st.step()) states[st.text(0)] = st.integer(1);
        }
        out["commands"] = states;

        json enrollment = {{"enrolled", 0}, {"unenrolled", 0}, {"none", 0}};
        {
            Stmt st(db_, "SELECT COALESCE(e.state, 'none'), COUNT(*) FROM devices d"
                         " LEFT JOIN enrollments e ON e.device_id = d.device_id"
                         " GROUP BY 1");
            while (st.step()) enrollment[st.text(0)] = st.integer(1);
        }
        out["enrollment"] = enrollment;

        json profiles = {{"pending", 0}, {"verifying", 0}, {"verified", 0},
                         {"failed", 0}};
        {
            std::string sql = pair_states_sql(db_.dialect(), true);
            Stmt st(db_, sql.c_str());
            while (st.step()) {
                profiles[st.text(1)] = profiles[st.text(1)].get<int64_t>() + st.integer(2);
            }
        }
        out["profiles"] = profiles;

        // 24 hourly buckets, the last one the current (partial) hour.
        std::time_t hour = t - t % 3600;
        std::time_t first = hour - 23 * 3600;
        json buckets = json::array();
        std::vector<int64_t> counts(24, 0);
        {
            Stmt st(db_, "SELECT substr(at, 1, 13), COUNT(*) FROM checkins"
                         " WHERE at >= ? GROUP BY 1");
            st.bind(1, iso_at(first));
            while (st.step()) {
                std::time_t h = parse_iso(st.text(0) + ":00:00");
                long i = static_cast<long>((h - first) / 3600);
                if (i >= 0 && i < 24) counts[i] += st.integer(1);
            }
        }
        for (int i = 0; i < 24; i++) {
            buckets.push_back({{"hour", iso_at(first + i * 3600)},
                               {"checkins", counts[i]}});
        }
        out["checkins_per_hour"] = buckets;
        return out;
    });
}

}  // namespace omadm_backend
