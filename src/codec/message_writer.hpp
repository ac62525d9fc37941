// A message filled against a byte budget: its head encoded once, each
// command once as it is added, so the size is known as the message grows
// and whether one more command fits is known without encoding the whole
// message again.  The sizes are exactly those of encode_message().
#pragma once

#include <cstddef>
#include <memory>

#include "codec/syncml_codec.hpp"
#include "codec/syncml_encoder.hpp"
#include "codec/syncml_message.hpp"

namespace omadm {

class message_writer {
public:
    // m: the head and the commands already in its body; the size counts
    // its tail with Final when m.final.  limit 0: no limit.
    message_writer(const message &m, encoding enc, size_t limit = 0);

    // Encoded bytes of the message as it is, and with c added.
    size_t size() const { return w_->size_with(nullptr); }
    size_t size_with(const command &c) const { return w_->size_with(&c); }

    // Whether c fits within the limit after what is in.
    bool fits(const command &c) const
    {
        return limit_ == 0 || size_with(c) <= limit_;
    }
    size_t limit() const { return limit_; }

    void add(const command &c) { w_->add(c); }

private:
    std::unique_ptr<piece_writer> w_;
    size_t limit_;
};

}  // namespace omadm
