// A device's large object (§3.3): the Items of its Results that carry
// MoreData, kept chunk by chunk in the object store until the last one,
// which hands the whole value to the backend as one result.  Each chunk
// is answered 213; a size over what was declared or allowed, a chunk that
// does not fit, an object left unfinished fail it (416, 413, 424, 420,
// 500), and the Get it answers is reported to the backend with that code.
#pragma once

#include <string>
#include <vector>

#include "backend/contract.hpp"
#include "session/answers.hpp"
#include "session/context.hpp"
#include "session/object_segments.hpp"

namespace omadm {

class incoming_objects {
public:
    incoming_objects(exchange_context &ctx, object_segments &segments,
                     device_answers &answers);

    // An Item of a Results that is a chunk (MoreData) or ends the object
    // being received.  get_id: backend id of the Get answered, nullptr
    // when unknown.
    void receive(const command &c, const item &it, const std::string *get_id,
                 exchange_request &r);
    // The object being received will not be finished (package or session
    // over): 424.
    void fail(int code);
    // The Get's own Status waits for its object; a failed object is
    // reported as the Get's failure.
    void settle(exchange_request &r);

private:
    struct outcome {
        std::string command_id;  // the Get's backend id
        int code;                // 200: delivered; else the failure
        int held_status;         // the Get's own Status, 0: none
    };

    int store_chunk(const std::string &data);
    bool load(std::string &out) const;
    void forget_held(const std::string &command_id);

    exchange_context &ctx_;
    object_segments &segments_;
    device_answers &answers_;
    std::vector<outcome> outcomes_;
    bool chunk_stored_ = false;  // one per message
};

}  // namespace omadm
