// Streaming decode with expat: element events go to the shared
// syncml_builder, which maps them onto the message model.  What is left
// here is XML: namespaces, DOCTYPE refusal, attribute lengths, and the
// raw inner XML of a Data holding markup.
#include "codec/xml_decoder.hpp"

#include <climits>
#include <cstring>
#include <memory>
#include <new>

#include <expat.h>
#include <sys/random.h>

#include "codec/syncml_builder.hpp"
#include "common/block_recycler.hpp"
#include "common/text.hpp"

namespace omadm {

namespace {

// Separates namespace URI and local name in expat's element names.  XML 1.0
// cannot contain U+0001, so no URI collides with it.
constexpr char ns_sep = '\x01';

using parser_ptr = std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)>;

// One parser per thread, reset between messages: a fresh one costs some
// fifty allocations before the first byte, a reset one keeps its pools.
// Taken out of its slot while in use; one that parsed a large message is
// not kept, so that its pools do not stay.
constexpr size_t k_keep_parser_below = 64 * 1024;
thread_local parser_ptr t_spare_parser(nullptr, XML_ParserFree);

// A reset parser still frees and rebuilds its DTD tables (a malloc per
// element name): its blocks are recycled on this thread instead.
const XML_Memory_Handling_Suite k_recycled_memory = {
    block_recycler::allocate, block_recycler::reallocate,
    block_recycler::release};

// The key of expat's SipHash-keyed tables (what keeps colliding element
// names from being chosen), random once per parser instead of a getrandom
// call on every message; 0 (getrandom failed) leaves it to expat.
thread_local unsigned long t_hash_salt;

unsigned long random_salt()
{
    unsigned long salt = 0;
    if (getrandom(&salt, sizeof salt, GRND_NONBLOCK) != ssize_t(sizeof salt))
        return 0;
    return salt;
}

parser_ptr take_parser()
{
    block_recycler::outlive_what_follows();  // the parser is freed first
    parser_ptr p = std::move(t_spare_parser);
    if (!p || !XML_ParserReset(p.get(), "UTF-8")) {
        const XML_Char sep[] = {ns_sep, 0};
        p.reset(XML_ParserCreate_MM("UTF-8", &k_recycled_memory, sep));
        if (!p) throw std::bad_alloc();
        t_hash_salt = random_salt();
    }
    if (t_hash_salt) XML_SetHashSalt(p.get(), t_hash_salt);
    return p;
}

void give_back_parser(parser_ptr p, size_t parsed)
{
    if (parsed < k_keep_parser_below) t_spare_parser = std::move(p);
}

class decoder {
public:
    decoder(std::string_view body, const omadm_limits_t &limits, message &out)
        : body_(body), b_(limits, out)
    {
    }

    bool run(parse_error &err);

private:
    static void XMLCALL on_start(void *ud, const XML_Char *name,
                                 const XML_Char **attrs);
    static void XMLCALL on_end(void *ud, const XML_Char *name);
    static void XMLCALL on_text(void *ud, const XML_Char *s, int len);
    static void XMLCALL on_doctype(void *ud, const XML_Char *, const XML_Char *,
                                   const XML_Char *, int);
    static void XMLCALL on_entity(void *ud, const XML_Char *, int,
                                  const XML_Char *, int, const XML_Char *,
                                  const XML_Char *, const XML_Char *,
                                  const XML_Char *);

    void start(std::string_view uri, std::string_view local,
               const XML_Char **attrs);
    void end();

    void fail(std::string reason, bool too_big = false);
    void stop_if_failed();
    template <class F> void guarded(F &&f);

    std::string_view body_;
    syncml_builder b_;
    XML_Parser parser_ = nullptr;
    std::vector<XML_Index> raw_starts_;  // per open Data: content start
    bool oom_ = false;
};

void decoder::fail(std::string reason, bool too_big)
{
    b_.fail(std::move(reason), too_big);
    stop_if_failed();
}

void decoder::stop_if_failed()
{
    if (b_.failed()) XML_StopParser(parser_, XML_FALSE);
}

// expat callbacks must not throw: record the failure and stop the parser.
template <class F> void decoder::guarded(F &&f)
{
    if (b_.failed()) return;  // expat may deliver a few events after a stop
    try {
        f();
    } catch (const std::bad_alloc &) {
        oom_ = true;
        fail("out of memory");
    } catch (...) {
        fail("internal error while decoding");
    }
    stop_if_failed();
}

void XMLCALL decoder::on_start(void *ud, const XML_Char *name,
                               const XML_Char **attrs)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] {
        std::string_view n(name);
        size_t sep = n.find(ns_sep);
        if (sep == std::string_view::npos) {
            d->start({}, n, attrs);
        } else {
            d->start(n.substr(0, sep), n.substr(sep + 1), attrs);
        }
    });
}

void XMLCALL decoder::on_end(void *ud, const XML_Char *)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] { d->end(); });
}

void XMLCALL decoder::on_text(void *ud, const XML_Char *s, int len)
{
    auto *d = static_cast<decoder *>(ud);
    d->guarded([&] { d->b_.text(std::string_view(s, size_t(len))); });
}

void XMLCALL decoder::on_doctype(void *ud, const XML_Char *, const XML_Char *,
                                 const XML_Char *, int)
{
    // A DTD is how entity bombs and external entities get in; SyncML DM
    // needs none, so any DOCTYPE ends the parse before its subset is read.
    static_cast<decoder *>(ud)->fail("DOCTYPE not allowed");
}

void XMLCALL decoder::on_entity(void *ud, const XML_Char *, int,
                                const XML_Char *, int, const XML_Char *,
                                const XML_Char *, const XML_Char *,
                                const XML_Char *)
{
    static_cast<decoder *>(ud)->fail("entity declarations not allowed");
}

void decoder::start(std::string_view uri, std::string_view local,
                    const XML_Char **attrs)
{
    if (!b_.start(uri, local)) return;
    for (size_t i = 0; attrs[i]; i += 2) {
        if (std::strlen(attrs[i + 1]) > b_.max_text()) {
            fail("attribute longer than " + std::to_string(b_.max_text())
                     + " bytes",
                 true);
            return;
        }
    }
    if (b_.opened_data()) {
        raw_starts_.push_back(XML_GetCurrentByteIndex(parser_)
                              + XML_GetCurrentByteCount(parser_));
    }
}

void decoder::end()
{
    std::string_view raw;
    bool data = b_.opened_data();
    if (b_.closing_data_with_children()) {
        // The element had markup inside: hand over its inner XML as written.
        XML_Index from = raw_starts_.back();
        XML_Index to = XML_GetCurrentByteIndex(parser_);
        raw = body_.substr(size_t(from), size_t(to - from));
    }
    if (b_.end(raw) && data) raw_starts_.pop_back();
}

bool decoder::run(parse_error &err)
{
    if (trim(body_).empty()) {
        err = {"empty body", false};
        return false;
    }
    if (body_.size() > size_t(INT_MAX)) {
        err = {"message too large", true};
        return false;
    }
    // UTF-8 is forced: DM uses nothing else, and raw Data slices are bytes
    // of the input.
    parser_ptr p = take_parser();
    parser_ = p.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, on_start, on_end);
    XML_SetCharacterDataHandler(parser_, on_text);
    XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
    XML_SetEntityDeclHandler(parser_, on_entity);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);

    XML_Status st = XML_Parse(parser_, body_.data(), int(body_.size()), 1);
    bool ok = st == XML_STATUS_OK;
    if (!ok) {
        err = {std::string("malformed XML at line ")
                   + std::to_string(XML_GetCurrentLineNumber(parser_))
                   + ", column "
                   + std::to_string(XML_GetCurrentColumnNumber(parser_)) + ": "
                   + XML_ErrorString(XML_GetErrorCode(parser_)),
               false};
    }
    parser_ = nullptr;
    give_back_parser(std::move(p), body_.size());
    if (oom_) throw std::bad_alloc();
    if (b_.failed()) {
        err = b_.error();
        return false;
    }
    if (!ok) return false;
    return b_.finish(err);
}

}  // namespace

bool parse_syncml(std::string_view body, const omadm_limits_t &limits,
                  message &out, parse_error &err)
{
    return run_decoder<decoder>(body, limits, out, err);
}

}  // namespace omadm
