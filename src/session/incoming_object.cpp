#include "session/incoming_object.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace omadm {

namespace {

using way = object_segments::way;

void drop_statuses(std::vector<status_report> &v, const std::string &id)
{
    v.erase(std::remove_if(
                v.begin(), v.end(),
                [&](const status_report &s) { return s.command_id == id; }),
            v.end());
}

}  // namespace

incoming_objects::incoming_objects(exchange_context &ctx,
                                   object_segments &segments,
                                   device_answers &answers)
    : ctx_(ctx), segments_(segments), answers_(answers)
{
}

// Our Status for the Results: 213 for a chunk kept, 200 for the object
// complete, else why it failed.
void incoming_objects::receive(const command &c, const item &it,
                               const std::string *get_id, exchange_request &r)
{
    session_state &st = ctx_.st;
    const unsigned long long max_size = ctx_.cf.max_object_size;
    std::string &code = answers_.codes[c.cmd_id];
    if (st.receiving && st.incoming.source != it.source)
        fail(424);  // a new object before the last one ended

    if (!st.receiving) {
        if (get_id == nullptr) {  // answers nothing of ours: ignored
            answers_.codes.erase(c.cmd_id);
            return;
        }
        const meta &cm = c.meta;
        st.receiving = true;
        st.incoming = incoming_object{};
        st.incoming.command_id = *get_id;
        st.incoming.source = it.source;
        st.incoming.format
            = it.meta.format.empty() ? cm.format : it.meta.format;
        st.incoming.type = it.meta.type.empty() ? cm.type : it.meta.type;
        st.incoming.serial = ++st.object_serial;
        const std::string &size = it.meta.size.empty() ? cm.size : it.meta.size;
        unsigned long long declared = 0;
        if (!size.empty()
            && (!parse_decimal(size, 18, declared) || declared > max_size)) {
            code = "416";
            fail(416);
            return;
        }
        st.incoming.declared = declared;
    }

    incoming_object &o = st.incoming;
    unsigned long long total = o.received + it.data.size();
    if (o.declared && total > o.declared) {
        code = "424";
        fail(424);
        return;
    }
    if (total > max_size) {
        code = "413";
        fail(413);
        return;
    }
    if (it.more_data) {
        // One chunk per message: more would each rewrite the last segment.
        int stored = chunk_stored_ ? 400 : store_chunk(it.data);
        chunk_stored_ = true;
        code = std::to_string(stored);
        if (stored != 213) fail(stored);
        return;
    }
    if (o.declared && total != o.declared) {
        code = "424";
        fail(424);
        return;
    }
    std::string value;
    if (!load(value)) {
        code = "500";  // expired or evicted meanwhile
        fail(500);
        return;
    }
    value += it.data;
    r.results.push_back(
        {o.command_id, o.source, o.format, o.type, std::move(value)});
    outcomes_.push_back({o.command_id, 200, o.get_status});
    segments_.drop(way::in, o.serial, o.segments);
    st.receiving = false;
    code = "200";
}

// A chunk goes into the last segment, or starts one when that is full.
// The segment is cut back first to what the session acknowledged.  213,
// or 420 when the object zone is full, 500 when it lost the segment.
int incoming_objects::store_chunk(const std::string &data)
{
    incoming_object &o = ctx_.st.incoming;
    if (data.empty()) return 213;
    if (o.segments > 0 && o.tail < k_segment) {
        auto buf = segments_.get(way::in, o.serial, o.segments - 1);
        if (!buf || buf->size() < o.tail) return 500;
        buf->resize(o.tail);
        *buf += data;
        if (!segments_.put(way::in, o.serial, o.segments - 1, *buf)) return 420;
        o.tail = buf->size();
    } else {
        if (!segments_.put(way::in, o.serial, o.segments, data)) return 420;
        o.segments++;
        o.tail = data.size();
    }
    o.received += data.size();
    return 213;
}

bool incoming_objects::load(std::string &out) const
{
    const incoming_object &o = ctx_.st.incoming;
    out.clear();
    out.reserve(o.received);
    for (unsigned n = 0; n < o.segments; n++) {
        auto seg = segments_.get(way::in, o.serial, n);
        if (!seg) return false;
        if (n + 1 == o.segments) {
            if (seg->size() < o.tail) return false;
            seg->resize(o.tail);
        }
        out += *seg;
    }
    return out.size() == o.received;
}

void incoming_objects::fail(int code)
{
    session_state &st = ctx_.st;
    outcomes_.push_back({st.incoming.command_id, code, st.incoming.get_status});
    // segments written by this message, beyond those acknowledged, too
    segments_.drop(way::in, st.incoming.serial, st.incoming.segments + 1);
    st.receiving = false;
}

// The backend takes a command's first Status only.
void incoming_objects::settle(exchange_request &r)
{
    session_state &st = ctx_.st;
    if (st.receiving) {
        for (const auto &s : r.statuses) {
            if (s.command_id == st.incoming.command_id)
                st.incoming.get_status = s.status;
        }
        drop_statuses(r.statuses, st.incoming.command_id);
    }
    for (const auto &o : outcomes_) {
        if (o.code != 200) forget_held(o.command_id);
        bool reported = std::any_of(r.statuses.begin(), r.statuses.end(),
                                    [&](const status_report &s) {
                                        return s.command_id == o.command_id;
                                    });
        if (o.code == 200) {
            if (!reported && o.held_status)
                r.statuses.push_back({o.command_id, o.held_status, {}});
            continue;
        }
        drop_statuses(r.statuses, o.command_id);
        r.statuses.push_back({o.command_id, o.code, {}});
    }
}

// A failed object is the Get's outcome: its own Status, held until the
// package's end, is not reported after it.
void incoming_objects::forget_held(const std::string &command_id)
{
    session_state &st = ctx_.st;
    for (auto h = st.held.begin(); h != st.held.end();) {
        auto found = st.outstanding.find(h->first);
        if (found != st.outstanding.end() && found->second == command_id) {
            answers_.answered.insert(h->first);
            h = st.held.erase(h);
        } else {
            ++h;
        }
    }
}

}  // namespace omadm
