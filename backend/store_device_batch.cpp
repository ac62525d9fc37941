// POST /api/v1/devices:batch: many device records in one transaction.
#include "store.hpp"

#include "clock.hpp"

namespace omadm_backend {

// One write call (a savepoint of the writer's group) and one prepared INSERT
// for the whole batch: one commit (one fsync of the WAL) instead of one per
// device.  If the process dies
// before the commit nothing of the batch is stored and nothing of it was
// acknowledged; after it, all of it is durable.
std::vector<bool> Store::create_devices(const std::vector<NewDevice> &devices)
{
    std::vector<bool> created;
    created.reserve(devices.size());
    std::string now = now_iso8601();
    write([&] {
        created.clear();  // a run again after a conflict starts over
        Transaction tx(db_);
        Stmt ins(db_, insert_device_sql);
        for (const NewDevice &d : devices) {
            bind_new_device(ins, d, now).run();
            created.push_back(db_.changes() > 0);  // 0: the id exists
            ins.reset();
        }
        tx.commit();
    });
    return created;
}

}  // namespace omadm_backend
