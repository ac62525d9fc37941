#include "soap_reader.hpp"

#include <expat.h>

#include <climits>
#include <cstring>
#include <memory>
#include <new>

namespace omadm_backend {

namespace {

// Separates namespace URI and local name in expat's names.  XML 1.0
// cannot contain U+0001, so no URI collides with it.
constexpr char ns_sep = '\x01';

void split_name(std::string_view qualified, std::string &ns, std::string &name)
{
    size_t sep = qualified.find(ns_sep);
    if (sep == std::string_view::npos) {
        ns.clear();
        name.assign(qualified);
    } else {
        ns.assign(qualified.substr(0, sep));
        name.assign(qualified.substr(sep + 1));
    }
}

// expat callbacks never throw: a failure is recorded and the parser
// stopped; events expat still delivers afterwards are ignored.
class TreeBuilder {
public:
    TreeBuilder(const XmlLimits &limits, XmlElement &root)
        : limits_(limits), root_(root)
    {}

    bool run(std::string_view body, XmlFailure &failure, std::string &reason);

private:
    static void XMLCALL on_start(void *ud, const XML_Char *name,
                                 const XML_Char **attrs);
    static void XMLCALL on_end(void *ud, const XML_Char *name);
    static void XMLCALL on_text(void *ud, const XML_Char *s, int len);
    static void XMLCALL on_doctype(void *ud, const XML_Char *, const XML_Char *,
                                   const XML_Char *, int);

    void start(const XML_Char *name, const XML_Char **attrs);
    void text(std::string_view s);
    void fail(XmlFailure kind, std::string reason);
    template <class F> void guarded(F &&f);

    const XmlLimits &limits_;
    XmlElement &root_;
    std::vector<XmlElement *> open_;  // the path to the current element
    size_t elements_ = 0;
    bool have_root_ = false;
    XML_Parser parser_ = nullptr;
    XmlFailure failure_ = XmlFailure::none;
    std::string reason_;
    bool oom_ = false;
};

void TreeBuilder::fail(XmlFailure kind, std::string reason)
{
    if (failure_ != XmlFailure::none) return;
    failure_ = kind;
    reason_ = std::move(reason);
    XML_StopParser(parser_, XML_FALSE);
}

template <class F> void TreeBuilder::guarded(F &&f)
{
    if (failure_ != XmlFailure::none) return;
    try {
        f();
    } catch (const std::bad_alloc &) {
        oom_ = true;
        fail(XmlFailure::too_large, "out of memory");
    } catch (...) {
        fail(XmlFailure::malformed, "internal error while reading XML");
    }
}

void XMLCALL TreeBuilder::on_start(void *ud, const XML_Char *name,
                                   const XML_Char **attrs)
{
    auto *b = static_cast<TreeBuilder *>(ud);
    b->guarded([&] { b->start(name, attrs); });
}

void XMLCALL TreeBuilder::on_end(void *ud, const XML_Char *)
{
    auto *b = static_cast<TreeBuilder *>(ud);
    b->guarded([&] { b->open_.pop_back(); });
}

void XMLCALL TreeBuilder::on_text(void *ud, const XML_Char *s, int len)
{
    auto *b = static_cast<TreeBuilder *>(ud);
    b->guarded([&] { b->text(std::string_view(s, size_t(len))); });
}

void XMLCALL TreeBuilder::on_doctype(void *ud, const XML_Char *,
                                     const XML_Char *, const XML_Char *, int)
{
    // A DTD is how entity bombs and external entities get in; SOAP
    // forbids a DOCTYPE anyway, so the parse ends before its subset.
    static_cast<TreeBuilder *>(ud)->fail(XmlFailure::malformed,
                                         "DOCTYPE not allowed");
}

void TreeBuilder::start(const XML_Char *name, const XML_Char **attrs)
{
    if (++elements_ > limits_.elements) {
        fail(XmlFailure::too_large, "more than "
                                        + std::to_string(limits_.elements)
                                        + " elements");
        return;
    }
    if (open_.size() >= limits_.depth) {
        fail(XmlFailure::too_large, "elements nested deeper than "
                                        + std::to_string(limits_.depth));
        return;
    }
    XmlElement *e;
    if (open_.empty()) {
        // expat reports a second root as malformed before calling us
        e = &root_;
        have_root_ = true;
    } else {
        open_.back()->children.emplace_back();
        e = &open_.back()->children.back();
    }
    split_name(name, e->ns, e->name);
    for (size_t i = 0; attrs[i]; i += 2) {
        size_t len = std::strlen(attrs[i + 1]);
        if (len > limits_.text) {
            fail(XmlFailure::too_large,
                 "attribute longer than " + std::to_string(limits_.text)
                     + " bytes");
            return;
        }
        XmlAttribute a;
        split_name(attrs[i], a.ns, a.name);
        a.value.assign(attrs[i + 1], len);
        e->attributes.push_back(std::move(a));
    }
    // Pointers into a parent's children stay valid: only the innermost
    // open element ever gains children.
    open_.push_back(e);
}

void TreeBuilder::text(std::string_view s)
{
    if (open_.empty()) return;  // expat reports text outside the root itself
    std::string &t = open_.back()->text;
    if (t.size() + s.size() > limits_.text) {
        fail(XmlFailure::too_large, "element text longer than "
                                        + std::to_string(limits_.text)
                                        + " bytes");
        return;
    }
    t.append(s);
}

bool TreeBuilder::run(std::string_view body, XmlFailure &failure,
                      std::string &reason)
{
    if (body.size() > size_t(INT_MAX)) {
        failure = XmlFailure::too_large;
        reason = "body too large";
        return false;
    }
    std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> p(
        XML_ParserCreateNS("UTF-8", ns_sep), XML_ParserFree);
    if (!p) throw std::bad_alloc();
    parser_ = p.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, on_start, on_end);
    XML_SetCharacterDataHandler(parser_, on_text);
    XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);

    XML_Status st = XML_Parse(parser_, body.data(), int(body.size()), 1);
    if (oom_) throw std::bad_alloc();
    if (failure_ != XmlFailure::none) {
        failure = failure_;
        reason = reason_;
        return false;
    }
    if (st != XML_STATUS_OK || !have_root_) {
        failure = XmlFailure::malformed;
        reason = std::string("malformed XML at line ")
                 + std::to_string(XML_GetCurrentLineNumber(parser_))
                 + ", column "
                 + std::to_string(XML_GetCurrentColumnNumber(parser_)) + ": "
                 + XML_ErrorString(XML_GetErrorCode(parser_));
        return false;
    }
    return true;
}

std::string trimmed(const std::string &s)
{
    const char *ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

const XmlElement *XmlElement::child(std::string_view want_ns,
                                    std::string_view want_name) const
{
    for (const XmlElement &c : children) {
        if (c.ns == want_ns && c.name == want_name) return &c;
    }
    return nullptr;
}

const std::string *XmlElement::attribute(std::string_view want_ns,
                                         std::string_view want_name) const
{
    for (const XmlAttribute &a : attributes) {
        if (a.ns == want_ns && a.name == want_name) return &a.value;
    }
    return nullptr;
}

std::string XmlElement::value() const { return trimmed(text); }

bool read_xml(std::string_view body, const XmlLimits &limits, XmlElement &root,
              XmlFailure &failure, std::string &reason)
{
    root = XmlElement{};
    failure = XmlFailure::none;
    reason.clear();
    TreeBuilder b(limits, root);
    return b.run(body, failure, reason);
}

const XmlElement *SoapRequest::header() const
{
    return envelope.child(ns::soap, "Header");
}

const XmlElement *SoapRequest::operation() const
{
    const XmlElement *body = envelope.child(ns::soap, "Body");
    return body && !body->children.empty() ? &body->children.front() : nullptr;
}

bool read_soap_request(std::string_view body, const XmlLimits &limits,
                       SoapRequest &out, XmlFailure &failure,
                       std::string &reason)
{
    out = SoapRequest{};
    if (!read_xml(body, limits, out.envelope, failure, reason)) return false;
    failure = XmlFailure::malformed;
    if (out.envelope.ns != ns::soap || out.envelope.name != "Envelope") {
        reason = "not a SOAP 1.2 Envelope (namespace "
                 + std::string(ns::soap) + ")";
        return false;
    }
    if (!out.operation()) {
        reason = "the SOAP Body holds no request";
        return false;
    }
    if (const XmlElement *h = out.header()) {
        if (const XmlElement *a = h->child(ns::addressing, "Action")) {
            out.action = a->value();
        }
        if (const XmlElement *m = h->child(ns::addressing, "MessageID")) {
            out.message_id = m->value();
        }
    }
    failure = XmlFailure::none;
    return true;
}

}  // namespace omadm_backend
