// The contract's `object`: the module reads a command's large data piece by
// piece while it sends it in chunks (docs/backend-api.md, "object").
#include "store.hpp"

namespace omadm_backend {

std::optional<StoredRange> Store::object_range(const std::string &device_id,
                                               const std::string &command_id,
                                               size_t offset, size_t max_bytes)
{
    std::optional<int64_t> id = parse_row_id(command_id);
    if (!id) {
        return std::nullopt;
    }
    return read([&]() -> std::optional<StoredRange> {
        // Only while the command is out with the module: once answered (or
        // queued again) nobody is sending it.
        Stmt st(db_, "SELECT data IS NOT NULL FROM commands WHERE id = ?"
                     " AND device_id = ? AND state = 'sent'");
        st.bind(1, *id).bind(2, device_id);
        if (!st.step()) {
            return std::nullopt;
        }
        StoredRange out;
        if (st.integer(0) != 0) {
            // Up to 16 MiB: read only the bytes asked, not the whole value.
            ValueReader data(db_, "commands", "data", *id);
            out.size = data.size();
            out.bytes = data.read(offset, max_bytes);
        }
        return out;
    });
}

}  // namespace omadm_backend
