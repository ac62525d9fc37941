#include "session/object_segments.hpp"

namespace omadm {

object_segments::object_segments(const exchange_context &ctx,
                                 const omadm_store_t &store)
    : ctx_(ctx), store_(store)
{
}

std::string object_segments::key(way w, unsigned serial, unsigned n) const
{
    return object_key(ctx_.device_id(), ctx_.session_id())
           + (w == way::in ? "\ni" : "\no") + std::to_string(serial) + ":"
           + std::to_string(n);
}

std::optional<std::string> object_segments::get(way w, unsigned serial,
                                                unsigned n) const
{
    return store_.get(key(w, serial, n));
}

bool object_segments::put(way w, unsigned serial, unsigned n,
                          std::string_view val) const
{
    return store_.put(key(w, serial, n), val, ctx_.cf.session_ttl);
}

void object_segments::drop(way w, unsigned serial, unsigned count)
{
    for (unsigned n = 0; n < count; n++) drops_.push_back(key(w, serial, n));
}

void object_segments::keep_alive(const session_state &st) const
{
    if (!store_.can_touch()) return;
    auto touch = [&](way w, unsigned serial, unsigned count) {
        for (unsigned n = 0; n < count; n++)
            store_.touch(key(w, serial, n), ctx_.cf.session_ttl);
    };
    if (st.receiving) touch(way::in, st.incoming.serial, st.incoming.segments);
    if (st.sending && !st.outgoing.fetch)
        touch(way::out, st.outgoing.serial, segments_of(st.outgoing.size));
}

void object_segments::flush()
{
    for (const auto &k : drops_) store_.remove(k);
    drops_.clear();
}

}  // namespace omadm
