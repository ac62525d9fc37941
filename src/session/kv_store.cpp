#include "session/kv_store.hpp"

#include <new>

namespace omadm {

namespace {

// The store calls back into C++ from C: never let an exception through.
struct sink_buffer {
    std::string value;
    bool failed = false;
};

void sink(void *ctx, const char *val, size_t len)
{
    auto *b = static_cast<sink_buffer *>(ctx);
    try {
        b->value.assign(val, len);
    } catch (...) {
        b->failed = true;
    }
}

std::string key_of(const char *prefix, std::string_view a, std::string_view b)
{
    std::string k;
    k.reserve(std::char_traits<char>::length(prefix) + a.size() + 1
              + b.size());
    k.append(prefix).append(a).append(1, '\n').append(b);
    return k;
}

}  // namespace

std::optional<std::string> kv_store::get(const std::string &key) const
{
    sink_buffer buf;
    if (s_->get(s_->ctx, key.data(), key.size(), sink, &buf) != OMADM_OK)
        return {};
    if (buf.failed) throw std::bad_alloc();
    return std::move(buf.value);
}

bool kv_store::put(const std::string &key, std::string_view val,
                   unsigned ttl) const
{
    return s_->put(s_->ctx, key.data(), key.size(), val.data(), val.size(), ttl)
           == OMADM_OK;
}

void kv_store::remove(const std::string &key) const
{
    s_->remove(s_->ctx, key.data(), key.size());
}

void kv_store::touch(const std::string &key, unsigned ttl) const
{
    if (s_->touch) s_->touch(s_->ctx, key.data(), key.size(), ttl);
}

std::string session_key(std::string_view device_id, std::string_view session_id)
{
    return key_of("s:", device_id, session_id);
}

std::string failures_key(std::string_view device_id, std::string_view peer)
{
    return key_of("f:", device_id, peer);
}

std::string object_key(std::string_view device_id, std::string_view session_id)
{
    return key_of("o:", device_id, session_id);
}

}  // namespace omadm
