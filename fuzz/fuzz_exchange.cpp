// libFuzzer: the session engine, through the C ABI the nginx glue uses, fed
// a SEQUENCE of device messages with an in-memory store and a backend that
// answers plausibly (as docs/backend-api.md says) unless the input says
// otherwise.
//
// Input: chunks separated by NUL bytes (XML never contains one).  A chunk
// is a device message, except these control chunks:
//   #B[a|n|e|o]<3 digits><body>  the next backend call (the next "auth",
//                       "nonce", "exchange" or "object" one with a, n, e,
//                       o) gets this
//                       status and body (000 = backend unreachable)
//   #T<digits>          the clock moves on by that many seconds
//   #S                  the next message goes without the session token
//   #H<value>           the next message has this x-syncml-hmac header;
//                       #H alone: a correct one for dev1 over its bytes,
//                       with the NextNonce of the 212 that authenticated
//                       the session of the token sent, else the backend's
//   #C<flags>           configuration from now on: b = accept Basic only,
//                       m = accept MD5 only, c = challenge Basic,
//                       1 = one command per message, n = no throttling,
//                       s = a store that holds only 4 entries,
//                       w = WBXML (each message chunk that is XML is
//                       transcoded first; other bytes go as they are),
//                       x = XML again, h = accept HMAC too,
//                       H = challenge HMAC
// The plausible backend knows dev1/secret, always reports the nonce of
// vector B (so an MD5 Cred of "TQMT1Y62qXyh7tF3TZ5l7Q==" authenticates) and
// hands out Get/Replace/Exec commands with ids 1, 2, 3, ..., and now and
// then a large Replace: inline, or by data_size (pieces through "object").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "omadm.h"

namespace {

const char server[] = "https://dm.example.com/omadm";
const char inner[] = "5JCaBwg5UOKeo+yimuXGew==";    // dev1:secret
const char nonce0[] = "00qRAH8Q7kJbLIgZwP8zpw==";

[[noreturn]] void die(const char *what, const std::string &detail = "")
{
    std::fprintf(stderr, "fuzz_exchange: %s\n%s\n", what, detail.c_str());
    std::abort();
}

// ---- in-memory store with expiry and an optional size bound -------------

struct mem_store {
    struct entry {
        std::string val;
        time_t      expires;
    };
    std::map<std::string, entry> map;
    time_t                       now = 0;
    size_t                       max_entries = 256;

    static int get(void *ctx, const char *key, size_t key_len,
                   omadm_sink_pt sink, void *sink_ctx)
    {
        auto *s = static_cast<mem_store *>(ctx);
        auto  it = s->map.find(std::string(key, key_len));
        if (it == s->map.end() || it->second.expires <= s->now)
            return OMADM_NOT_FOUND;
        sink(sink_ctx, it->second.val.data(), it->second.val.size());
        return OMADM_OK;
    }

    static int put(void *ctx, const char *key, size_t key_len,
                   const char *val, size_t val_len, unsigned ttl)
    {
        auto       *s = static_cast<mem_store *>(ctx);
        std::string k(key, key_len);
        if (s->map.count(k) == 0 && s->map.size() >= s->max_entries)
            return OMADM_ERROR;
        s->map[k] = entry{std::string(val, val_len), s->now + time_t(ttl)};
        return OMADM_OK;
    }

    static int touch(void *ctx, const char *key, size_t key_len,
                     unsigned ttl)
    {
        auto *s = static_cast<mem_store *>(ctx);
        auto  it = s->map.find(std::string(key, key_len));
        if (it == s->map.end() || it->second.expires <= s->now)
            return OMADM_NOT_FOUND;
        it->second.expires = s->now + time_t(ttl);
        return OMADM_OK;
    }

    static int remove(void *ctx, const char *key, size_t key_len)
    {
        auto *s = static_cast<mem_store *>(ctx);
        return s->map.erase(std::string(key, key_len)) ? OMADM_OK
                                                        : OMADM_NOT_FOUND;
    }
};

// ---- the backend ---------------------------------------------------------

struct backend {
    bool        override = false;
    char        override_op = 0;    // 0: any
    int         status = 0;
    std::string body;
    unsigned    next_id = 1;
    unsigned    exchanges = 0;

    std::string command(const char *verb, const char *target,
                        const char *extra)
    {
        return std::string("{\"id\":\"") + std::to_string(next_id++)
               + "\",\"verb\":\"" + verb + "\",\"target\":\"" + target
               + "\"" + extra + "}";
    }

    void answer(std::string_view op, std::string_view req, int &st,
                std::string &out)
    {
        if (override && (override_op == 0 || override_op == op[0])) {
            override = false;
            st = status;
            out = body;
            return;
        }
        st = 200;
        if (op == "nonce") {
            out = "{}";
        } else if (op == "auth") {
            out = std::string("{\"username\":\"dev1\",\"inner\":\"") + inner
                  + "\",\"nonce\":\"" + nonce0 + "\"}";
        } else if (op == "exchange") {
            bool start = req.find("\"session_start\":true") != req.npos;
            out = "{\"commands\":[";
            if (start || exchanges % 3 == 0) {
                // one statement each: ids in order
                out += command("Get", "./DevDetail/SwV", "") + ",";
                out += command("Replace", "./Vendor/X",
                               ",\"data\":\"6\",\"format\":\"int\"");
                out += ",";
                out += command("Exec", "./FwUpdate/Pkg1/Update",
                               ",\"correlator\":\"job-1\"");
            } else if (exchanges % 3 == 1) {
                out += command("Delete", "./Vendor/Y", "");
            } else if (exchanges % 6 == 2) {
                out += command("Replace", "./Big/Fetched",
                               (",\"data_size\":" + std::to_string(k_large))
                                   .c_str());
                out += ",";
                out += command("Replace", "./Big/Inline",
                               (",\"data\":\"" + large_value(0, 3000) + "\"")
                                   .c_str());
            }
            out += "]}";
            exchanges++;
        } else if (op == "object") {
            unsigned long long off = number_after(req, "\"offset\":");
            unsigned long long len = number_after(req, "\"length\":");
            if (off > k_large) die("object offset past the value", "");
            out = "{\"data\":\"" + large_value(off, len)
                  + "\",\"size\":" + std::to_string(k_large) + "}";
        } else {
            die("unknown backend op", std::string(op));
        }
    }

    static constexpr unsigned long long k_large = 5000;

    // ASCII, with characters XML escapes: any cut is a character boundary
    static std::string large_value(unsigned long long off,
                                   unsigned long long len)
    {
        static const char pattern[] = "0123456789<&>abcdef";
        std::string v;
        for (unsigned long long i = off; i < k_large && i < off + len; i++)
            v.push_back(pattern[i % (sizeof(pattern) - 1)]);
        return v;
    }

    static unsigned long long number_after(std::string_view s,
                                           std::string_view key)
    {
        size_t p = s.find(key);
        if (p == s.npos) die("object request without", std::string(key));
        return std::strtoull(std::string(s.substr(p + key.size())).c_str(),
                             nullptr, 10);
    }
};

struct harness {
    omadm_config_t cf{};
    mem_store      mem;
    omadm_store_t  store{};
    backend        be;
    time_t         now = 1700000000;
    std::string    token;
    bool           drop_token = false;
    bool           hmac_next = false;
    std::string    hmac_value;          // "" with hmac_next: compute it
    std::map<std::string, std::string> session_nonce;   // token -> b64
    int            encoding = OMADM_ENC_XML;
    // Tokens of sessions that may be authenticated: seen on a message that
    // asked both "auth" and "exchange" (an over-estimate, never an under-).
    std::set<std::string> authed_tokens;
    // The tokens answers to such messages minted, and what those messages
    // were (decoded, with the token and x-syncml-hmac they came with): the
    // only ways to a 212 or a management command (see message()).
    std::set<std::string> minted_tokens;
    std::set<std::string> proven_messages;

    harness()
    {
        cf.auth_accept = OMADM_AUTH_MD5 | OMADM_AUTH_BASIC;
        cf.auth_challenge = OMADM_AUTH_MD5;
        cf.session_ttl = 300;
        cf.max_auth_failures = 3;
        cf.auth_failure_window = 60;
        cf.max_commands = 50;
        cf.max_object_size = 4096;
        cf.limits = omadm_limits_t{16, 2000, 4096};
        cf.server_id = server;
        cf.server_id_len = sizeof(server) - 1;
        cf.resp_uri = server;
        cf.resp_uri_len = sizeof(server) - 1;
        store.ctx = &mem;
        store.get = mem_store::get;
        store.put = mem_store::put;
        store.remove = mem_store::remove;
        store.touch = mem_store::touch;
    }

    void configure(std::string_view flags)
    {
        for (char c : flags) {
            switch (c) {
            case 'b': cf.auth_accept = OMADM_AUTH_BASIC; break;
            case 'm': cf.auth_accept = OMADM_AUTH_MD5; break;
            case 'c':
                cf.auth_accept |= OMADM_AUTH_BASIC;
                cf.auth_challenge = OMADM_AUTH_BASIC;
                break;
            case '1': cf.max_commands = 1; break;
            case 'n': cf.max_auth_failures = 0; break;
            case 's': mem.max_entries = 4; break;
            case 'w': encoding = OMADM_ENC_WBXML; break;
            case 'x': encoding = OMADM_ENC_XML; break;
            case 'h': cf.auth_accept |= OMADM_AUTH_HMAC; break;
            case 'H':
                cf.auth_accept |= OMADM_AUTH_HMAC;
                cf.auth_challenge = OMADM_AUTH_HMAC;
                break;
            default: break;
            }
        }
    }

    // The only place the exchange is created (its signature may grow).
    omadm_exchange_t *create(std::string_view msg, std::string_view tok)
    {
        omadm_exchange_t *ex = nullptr;
        if (omadm_exchange_create(&cf, &store, msg.data(), msg.size(),
                                  encoding, tok.data(), tok.size(), now, &ex)
                != OMADM_OK
            || ex == nullptr) {
            die("omadm_exchange_create failed");
        }
        return ex;
    }

    // In WBXML mode, the device message as WBXML when it is usable XML.
    std::string device_bytes(std::string_view msg) const
    {
        std::string out(msg);
        if (encoding != OMADM_ENC_WBXML) return out;
        char  *w = nullptr, *why = nullptr;
        size_t len = 0;
        if (omadm_syncml_transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, msg.data(),
                                   msg.size(), &cf.limits, &w, &len, &why)
            == OMADM_OK) {
            out.assign(w, len);
        }
        omadm_free(w);
        omadm_free(why);
        return out;
    }

    // What dev1 would send (see #H above).
    std::string good_hmac(std::string_view body, std::string_view tok) const
    {
        auto        it = session_nonce.find(std::string(tok));
        std::string nonce = it == session_nonce.end() ? nonce0 : it->second;
        char        mac[64];
        size_t      len = 0;
        if (omadm_auth_hmac_mac(inner, sizeof(inner) - 1, nonce.data(),
                                nonce.size(), body.data(), body.size(), mac,
                                sizeof(mac), &len)
            != OMADM_OK) {
            die("omadm_auth_hmac_mac failed");
        }
        return "algorithm=MD5, username=\"dev1\", mac=" + std::string(mac, len);
    }

    void message(std::string_view text)
    {
        std::string bytes = device_bytes(text);
        std::string_view msg = bytes;
        mem.now = now;
        std::string_view  tok = drop_token ? std::string_view() : token;
        omadm_exchange_t *ex = create(msg, tok);
        drop_token = false;
        std::string proof = as_xml(encoding, msg) + '\0' + std::string(tok);
        if (hmac_next) {
            std::string h =
                hmac_value.empty() ? good_hmac(msg, tok) : hmac_value;
            omadm_exchange_set_hmac(ex, h.data(), h.size());
            hmac_next = false;
            proof += '\0' + h;
        }

        omadm_action_t act;
        int            calls = 0;
        bool           asked_auth = false, asked_exchange = false;
        for (;;) {
            if (omadm_exchange_run(ex, &act) != OMADM_OK)
                die("run failed", std::string(msg));
            if (act.kind == OMADM_ACT_RESPOND) break;
            if (act.kind != OMADM_ACT_BACKEND) die("unknown action");
            if (++calls > 8) die("more than 8 backend calls in one message");
            int              st = 0;
            std::string      out;
            std::string_view op(act.op, act.op_len);
            asked_auth = asked_auth || op == "auth";
            asked_exchange = asked_exchange || op == "exchange";
            be.answer(op, std::string_view(act.body, act.body_len), st, out);
            if (omadm_exchange_backend_done(ex, st, out.data(), out.size())
                != OMADM_OK)
                die("backend_done refused");
        }
        // The backend hears about a device's messages only once it proved
        // itself: with credentials now, or with the token of a session
        // that did earlier.
        std::string used(tok);
        if (asked_exchange && !asked_auth && authed_tokens.count(used) == 0)
            die("exchange asked for an unauthenticated message", bytes);
        std::string before = token;
        std::string answer = check_response(ex, act);
        omadm_exchange_destroy(ex);
        // A login that ended stale or in a nonce race asked both too: only
        // its 212 proves it.
        bool proved = asked_auth && asked_exchange
                      && (answer.find("<Data>212</Data>") != std::string::npos
                          || (!used.empty() && minted_tokens.count(used)));
        // Session fixation: a 212 or a management command goes only to a
        // message that authenticated, to the token minted when one did, or
        // to a repeat of such a message (the same message, token and MAC).
        if (grants_session(answer) && !proved
            && !(!used.empty() && minted_tokens.count(used))
            && !proven_messages.count(proof))
            die("a 212 or a command for a message that did not "
                "authenticate", bytes);
        if (proved) {
            authed_tokens.insert(used);
            authed_tokens.insert(token);
            proven_messages.insert(proof);
            if (token != before) minted_tokens.insert(token);
        }
    }

    static bool grants_session(const std::string &xml)
    {
        static const char *const marks[] = {
            "<Data>212</Data>", "<Get>", "<Replace>", "<Add>", "<Delete>",
            "<Exec>", "<Copy>", "<Atomic>", "<Sequence>", "<Alert>"};
        for (const char *m : marks)
            if (xml.find(m) != std::string::npos) return true;
        return false;
    }

    // A message in enc decoded and written as XML; false with why set when
    // it does not decode.
    static bool to_xml(int enc, std::string_view msg, std::string &out,
                       std::string &why)
    {
        const omadm_limits_t loose = {1000, 1000000, 64 * 1024 * 1024};
        char  *xml = nullptr, *reason = nullptr;
        size_t xml_len = 0;
        if (omadm_syncml_transcode(enc, OMADM_ENC_XML, msg.data(), msg.size(),
                                   &loose, &xml, &xml_len, &reason)
            != OMADM_OK) {
            why = reason ? reason : "?";
            omadm_free(reason);
            return false;
        }
        out.assign(xml, xml_len);
        omadm_free(xml);
        return true;
    }

    static std::string as_xml(int enc, std::string_view msg)
    {
        std::string xml, why;
        return to_xml(enc, msg, xml, why) ? xml : std::string();
    }

    // The answer as XML ("" when it is not SyncML), after checking it.
    std::string check_response(omadm_exchange_t *ex, const omadm_action_t &act)
    {
        if (act.content_type == nullptr) die("no content type");
        std::string body(act.body, act.body_len);
        size_t      len = 0;
        const char *auth = omadm_exchange_var(ex, OMADM_VAR_AUTH, &len);
        static const char *const known[] = {
            "none",  "ok",        "session", "missing",  "failed",
            "stale", "throttled", "unknown", "undecided"};
        bool ok = auth == nullptr;
        for (const char *k : known) ok = ok || std::string(auth, len) == k;
        if (!ok) die("unexpected $omadm_auth", std::string(auth, len));
        for (int v = OMADM_VAR_DEVICE_ID; v <= OMADM_VAR_ERROR; v++)
            (void) omadm_exchange_var(ex, v, &len);
        // Our own x-syncml-hmac must be one our parser takes.
        const char *mac = omadm_exchange_var(ex, OMADM_VAR_RESPONSE_HMAC, &len);
        char        reason[1024];
        if (mac != nullptr
            && omadm_hmac_header_parse(mac, len, reason, sizeof(reason),
                                       nullptr)
                   != OMADM_OK)
            die("response x-syncml-hmac does not parse", std::string(mac, len));

        if (act.http_status != 200) {
            if (act.http_status < 400 || act.http_status > 599)
                die("odd HTTP status", std::to_string(act.http_status));
            return std::string();
        }
        // What we send a device must be SyncML we can read ourselves, in
        // the device's encoding; the token is read from its XML form.
        std::string xml, why;
        if (!to_xml(encoding, body, xml, why))
            die(("own answer does not decode: " + why).c_str(), body);
        body = std::move(xml);
        size_t at = body.find("?s=");
        if (at != std::string::npos) {
            size_t end = body.find('<', at);
            token = body.substr(at + 3, end == body.npos ? body.npos
                                                          : end - at - 3);
        }
        // A 212 with a NextNonce: the nonce of the session's later MACs.
        size_t nn = body.find("<NextNonce");
        if (nn != std::string::npos
            && body.find("<Data>212</Data>") != std::string::npos) {
            size_t from = body.find('>', nn);
            size_t to = body.find('<', from);
            if (from != body.npos && to != body.npos)
                session_nonce[token] = body.substr(from + 1, to - from - 1);
        }
        return body;
    }

    void chunk(std::string_view c)
    {
        if (c.size() >= 2 && c[0] == '#') {
            std::string_view arg = c.substr(2);
            switch (c[1]) {
            case 'B':
                be.override_op = 0;
                if (!arg.empty() && (arg[0] == 'a' || arg[0] == 'n'
                                     || arg[0] == 'e')) {
                    be.override_op = arg[0];
                    arg.remove_prefix(1);
                }
                if (arg.size() >= 3) {
                    be.override = true;
                    std::string code(arg.substr(0, 3));
                    be.status = std::atoi(code.c_str());
                    be.body.assign(arg.substr(3));
                }
                return;
            case 'T':
                now += std::strtol(std::string(arg.substr(0, 6)).c_str(),
                                   nullptr, 10);
                return;
            case 'S': drop_token = true; return;
            case 'H':
                hmac_next = true;
                hmac_value.assign(arg);
                return;
            case 'C': configure(arg); return;
            default: break;
            }
        }
        message(c);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    harness          h;
    int              messages = 0;
    while (!in.empty() && messages < 16) {
        size_t nul = in.find('\0');
        h.chunk(in.substr(0, nul));
        if (nul == std::string_view::npos) break;
        in.remove_prefix(nul + 1);
        messages++;
    }
    return 0;
}
