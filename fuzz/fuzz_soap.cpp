// libFuzzer: the SOAP reader of the enrollment services
// (backend/soap_reader.cpp) and the escaper they write with
// (backend/xml_escape.cpp), both compiled into this binary.  Refusals carry
// a reason; what is read obeys the limits; a tree written back with
// xml_escape reads back as the same tree (so nothing the services echo,
// such as a MessageID, can change the XML around it); an accepted SOAP
// request has a Body operation and trimmed header values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "soap_reader.hpp"
#include "xml_escape.hpp"

using namespace omadm_backend;

namespace {

// Small enough that the fuzzer reaches every limit.
const XmlLimits fuzz_limits = {8, 200, 1024};
const XmlLimits loose_limits = {64, 100000, 1 << 24};

constexpr std::string_view xml_ns = "http://www.w3.org/XML/1998/namespace";

[[noreturn]] void die(const char *what, const std::string &detail = "")
{
    std::fprintf(stderr, "fuzz_soap: %s\n%s\n", what, detail.c_str());
    std::abort();
}

void check_limits(const XmlElement &e, size_t depth, size_t &count)
{
    if (depth > fuzz_limits.depth) die("depth limit not enforced");
    if (++count > fuzz_limits.elements) die("element limit not enforced");
    if (e.text.size() > fuzz_limits.text) die("text limit not enforced");
    for (const XmlAttribute &a : e.attributes) {
        if (a.value.size() > fuzz_limits.text) die("attribute limit");
    }
    for (const XmlElement &c : e.children) check_limits(c, depth + 1, count);
}

// Every namespace gets a prefix of its own, declared where it is used; no
// default namespace, so an unprefixed name has none.
std::string qualified(std::string_view ns, const std::string &name,
                      const std::string &prefix, std::string &decls)
{
    if (ns.empty()) return name;
    if (ns == xml_ns) return "xml:" + name;  // predeclared, never rebound
    decls += " xmlns:" + prefix + "=\"" + xml_escape(ns) + "\"";
    return prefix + ":" + name;
}

std::string write(const XmlElement &e)
{
    std::string decls;
    std::string tag = qualified(e.ns, e.name, "e", decls);
    std::string attrs;
    for (size_t i = 0; i < e.attributes.size(); i++) {
        const XmlAttribute &a = e.attributes[i];
        attrs += " " + qualified(a.ns, a.name, "a" + std::to_string(i), decls)
                 + "=\"" + xml_escape(a.value) + "\"";
    }
    std::string out = "<" + tag + decls + attrs + ">" + xml_escape(e.text);
    for (const XmlElement &c : e.children) out += write(c);
    return out + "</" + tag + ">";
}

bool same(const XmlElement &a, const XmlElement &b)
{
    if (a.ns != b.ns || a.name != b.name || a.text != b.text
        || a.attributes.size() != b.attributes.size()
        || a.children.size() != b.children.size()) {
        return false;
    }
    for (size_t i = 0; i < a.attributes.size(); i++) {
        const XmlAttribute &x = a.attributes[i];
        const std::string *v = b.attribute(x.ns, x.name);
        if (!v || *v != x.value) return false;
    }
    for (size_t i = 0; i < a.children.size(); i++) {
        if (!same(a.children[i], b.children[i])) return false;
    }
    return true;
}

bool trimmed(const std::string &s)
{
    auto ws = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    };
    return s.empty() || (!ws(s.front()) && !ws(s.back()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);

    XmlElement root;
    XmlFailure failure;
    std::string reason;
    if (!read_xml(in, fuzz_limits, root, failure, reason)) {
        if (reason.empty() || failure == XmlFailure::none) {
            die("refused without a reason");
        }
    } else {
        size_t count = 0;
        check_limits(root, 1, count);
        std::string text = write(root);
        XmlElement again;
        if (!read_xml(text, loose_limits, again, failure, reason)) {
            die(("own writing does not read: " + reason).c_str(), text);
        }
        if (!same(root, again)) die("writing changed the tree", text);
    }

    SoapRequest req;
    if (!read_soap_request(in, fuzz_limits, req, failure, reason)) {
        if (reason.empty()) die("SOAP request refused without a reason");
        return 0;
    }
    if (!req.operation()) die("accepted without an operation");
    if (!trimmed(req.action) || !trimmed(req.message_id)) {
        die("header values not trimmed");
    }
    return 0;
}
