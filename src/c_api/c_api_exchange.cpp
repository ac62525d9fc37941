// The exchange half of the C ABI (include/omadm.h): thin noexcept
// wrappers that turn every exception into a result code.
#include <exception>
#include <new>
#include <string_view>

#include "omadm.h"
#include "session/exchange.hpp"

struct omadm_exchange_s {
    omadm::exchange impl;
};

namespace {

// A text given to the exchange before its first run: checked, then handed
// to one of its setters.
template <class Setter>
int give_text(omadm_exchange_t *ex, const char *p, size_t len,
              Setter set) noexcept
{
    if (ex == nullptr || (p == nullptr && len != 0)) return OMADM_EINVAL;
    try {
        return set(ex->impl, std::string_view(p ? p : "", len));
    } catch (...) {
        return OMADM_ERROR;
    }
}

}  // namespace

extern "C" {

int omadm_exchange_create(const omadm_config_t *cf, const omadm_store_t *store,
                          const char *body, size_t len, int encoding,
                          const char *token, size_t token_len, time_t now,
                          omadm_exchange_t **ex) noexcept
{
    if (ex == nullptr) return OMADM_EINVAL;
    *ex = nullptr;
    omadm::encoding enc;
    if (!omadm::to_encoding(encoding, enc)) return OMADM_EINVAL;
    if (cf == nullptr || store == nullptr || store->get == nullptr
        || store->put == nullptr || store->remove == nullptr
        || (body == nullptr && len != 0)
        || (token == nullptr && token_len != 0)) {
        return OMADM_EINVAL;
    }
    try {
        *ex = new omadm_exchange_s{omadm::exchange(
            *cf, *store, std::string_view(body ? body : "", len), enc,
            std::string_view(token ? token : "", token_len), now)};
    } catch (...) {
        return OMADM_ERROR;
    }
    return OMADM_OK;
}

int omadm_exchange_set_hmac(omadm_exchange_t *ex, const char *value,
                            size_t len) noexcept
{
    if (ex != nullptr && value == nullptr && len == 0) return OMADM_OK;
    return give_text(ex, value, len,
                     [](auto &x, std::string_view v) { return x.set_hmac(v); });
}

int omadm_exchange_set_peer(omadm_exchange_t *ex, const char *addr,
                            size_t len) noexcept
{
    return give_text(ex, addr, len,
                     [](auto &x, std::string_view v) { return x.set_peer(v); });
}

int omadm_exchange_set_server_id(omadm_exchange_t *ex, const char *id,
                                 size_t len) noexcept
{
    return give_text(ex, id, len, [](auto &x, std::string_view v) {
        return x.set_server_id(v);
    });
}

int omadm_exchange_run(omadm_exchange_t *ex, omadm_action_t *act) noexcept
{
    if (ex == nullptr || act == nullptr) return OMADM_EINVAL;
    try {
        return ex->impl.run(*act);
    } catch (const std::exception &e) {
        ex->impl.internal_error(e.what());
    } catch (...) {
        ex->impl.internal_error("unknown exception");
    }
    return OMADM_ERROR;
}

int omadm_exchange_backend_done(omadm_exchange_t *ex, int http_status,
                                const char *body, size_t len) noexcept
{
    if (ex == nullptr || (body == nullptr && len != 0)) return OMADM_EINVAL;
    try {
        return ex->impl.backend_done(http_status,
                                     std::string_view(body ? body : "", len));
    } catch (const std::exception &e) {
        ex->impl.internal_error(e.what());
    } catch (...) {
        ex->impl.internal_error("unknown exception");
    }
    return OMADM_ERROR;
}

const char *omadm_exchange_var(omadm_exchange_t *ex, int var,
                               size_t *len) noexcept
{
    if (ex == nullptr) return nullptr;
    std::string_view v = ex->impl.var(var);
    if (v.empty()) return nullptr;
    if (len != nullptr) *len = v.size();
    return v.data();  // NUL-terminated: a std::string or a static name
}

int omadm_exchange_outcome(omadm_exchange_t *ex, omadm_outcome_t *out) noexcept
{
    if (ex == nullptr || out == nullptr) return OMADM_EINVAL;
    *out = ex->impl.outcome();
    return OMADM_OK;
}

const char *omadm_verdict_name(int verdict, size_t *len) noexcept
{
    std::string_view v = omadm::verdict_name(omadm::verdict(verdict));
    if (v.empty()) return nullptr;
    if (len != nullptr) *len = v.size();
    return v.data();
}

void omadm_exchange_destroy(omadm_exchange_t *ex) noexcept
{
    delete ex;
}

}  // extern "C"
