#include "profile_syncml.hpp"

#include "contract_command.hpp"

#include <expat.h>

#include <map>
#include <memory>
#include <new>
#include <set>

namespace omadm_backend {

namespace {

constexpr char ns_separator = '\x01';

// Like the module's decoder (omadm_xml_limits): nesting and elements.
constexpr size_t max_depth = 32;
constexpr size_t max_elements = 20000;

// The upload is a sequence of commands, not a document: expat gets it
// inside this root, opened on the same line so that its line numbers are
// the user's.
constexpr const char *root_open = "<profile>";
constexpr const char *root_close = "</profile>";

const std::set<std::string> setting_verbs = {"Replace", "Add", "Exec",
                                             "Delete"};

// What may stand inside what; "" is the profile's top level.  Elements that
// hold a value have no entry.
const std::map<std::string, std::set<std::string>> allowed_children = {
    {"", {"Replace", "Add", "Exec", "Delete", "Atomic"}},
    {"Atomic", {"CmdID", "Replace", "Add", "Exec", "Delete"}},
    {"Replace", {"CmdID", "Meta", "Item"}},
    {"Add", {"CmdID", "Meta", "Item"}},
    {"Exec", {"CmdID", "Meta", "Item"}},
    {"Delete", {"CmdID", "Meta", "Item"}},
    {"Item", {"Target", "Meta", "Data"}},
    {"Target", {"LocURI"}},
    {"Meta", {"Format", "Type"}},
};

const std::set<std::string> syncml_namespaces = {
    "syncml:syncml1.1", "syncml:syncml1.2", "syncml:metinf"};

std::string lower(std::string s)
{
    for (char &c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) {
        return std::string();
    }
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool blank(const char *s, int len)
{
    for (int i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return false;
        }
    }
    return true;
}

// An XML declaration cannot stand inside our root: it is blanked, newlines
// kept, so that a pasted file still parses with its own line numbers.
std::string without_xml_declaration(std::string text)
{
    size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos || text.compare(start, 5, "<?xml") != 0) {
        return text;
    }
    size_t end = text.find("?>", start);
    if (end == std::string::npos) {
        return text;
    }
    for (size_t i = start; i < end + 2; i++) {
        if (text[i] != '\n') {
            text[i] = ' ';
        }
    }
    return text;
}

struct Element {
    std::string name;  // local name
    int64_t line;
    std::string text;  // for elements that hold a value
};

// A command being read: its Meta and its Items.
struct OpenCommand {
    std::string verb;
    int64_t line = 0;
    std::optional<std::string> format, type;
    std::vector<ProfileSetting> items;
};

class ProfileReader {
public:
    ProfileReader(std::vector<ProfileSetting> &out, ProfileError &err)
        : out_(out), err_(err)
    {
    }

    bool parse(const std::string &text)
    {
        std::string doc = root_open + without_xml_declaration(text)
                          + root_close;
        std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> p(
            XML_ParserCreateNS("UTF-8", ns_separator), XML_ParserFree);
        if (!p) {
            throw std::bad_alloc();
        }
        parser_ = p.get();
        XML_SetUserData(parser_, this);
        XML_SetElementHandler(parser_, on_start, on_end);
        XML_SetCharacterDataHandler(parser_, on_text);
        XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
        XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
        XML_Status st =
            XML_Parse(parser_, doc.data(), static_cast<int>(doc.size()), 1);
        if (failed_) {
            return false;
        }
        if (st != XML_STATUS_OK) {
            // expat points into the markup it could not read
            XML_Index at = XML_GetCurrentByteIndex(parser_);
            size_t lt = at >= 0 ? doc.rfind('<', static_cast<size_t>(at))
                                : std::string::npos;
            bool doctype = lt != std::string::npos
                           && doc.compare(lt, 9, "<!DOCTYPE") == 0;
            err_ = {doctype ? std::string("a DOCTYPE is not allowed")
                            : std::string("not well-formed XML: ")
                                  + XML_ErrorString(XML_GetErrorCode(parser_)),
                    static_cast<int64_t>(XML_GetCurrentLineNumber(parser_))};
            return false;
        }
        if (out_.empty()) {
            err_ = {"the SyncML holds no command", 1};
            return false;
        }
        return true;
    }

private:
    static void XMLCALL on_start(void *ud, const XML_Char *name,
                                 const XML_Char **attrs)
    {
        static_cast<ProfileReader *>(ud)->start(name, attrs);
    }
    static void XMLCALL on_end(void *ud, const XML_Char *)
    {
        static_cast<ProfileReader *>(ud)->end();
    }
    static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
    {
        static_cast<ProfileReader *>(ud)->add_text(s, len);
    }
    static void XMLCALL on_doctype(void *ud, const XML_Char *,
                                   const XML_Char *, const XML_Char *, int)
    {
        static_cast<ProfileReader *>(ud)->fail("a DOCTYPE is not allowed");
    }

    int64_t line() const
    {
        return static_cast<int64_t>(XML_GetCurrentLineNumber(parser_));
    }

    void fail(const std::string &why, int64_t at = 0)
    {
        if (!failed_) {
            failed_ = true;
            err_ = {why, at ? at : line()};
        }
        XML_StopParser(parser_, XML_FALSE);
    }

    void start(const std::string &qname, const XML_Char **attrs)
    {
        if (failed_) {
            return;
        }
        if (stack_.empty()) {  // our own root
            stack_.push_back({"", line(), ""});
            return;
        }
        std::string name = qname;
        size_t sep = qname.find(ns_separator);
        if (sep != std::string::npos) {
            name = qname.substr(sep + 1);
            std::string ns = qname.substr(0, sep);
            if (!syncml_namespaces.count(lower(ns))) {
                fail("<" + name + "> is in namespace \"" + ns
                     + "\", not SyncML's");
                return;
            }
        }
        if (attrs && attrs[0]) {
            fail("<" + name + "> has attributes: SyncML uses none");
            return;
        }
        if (++elements_ > max_elements || stack_.size() > max_depth) {
            fail("more than " + std::to_string(max_elements)
                 + " elements or " + std::to_string(max_depth)
                 + " levels of nesting");
            return;
        }
        if (!child_allowed(name)) {
            return;
        }
        stack_.push_back({name, line(), ""});
        if (setting_verbs.count(name)) {
            command_ = OpenCommand{name, line(), {}, {}, {}};
        } else if (name == "Atomic") {
            atomic_ = ++atomics_;
            atomic_line_ = line();
            atomic_commands_ = 0;
        } else if (name == "Item") {
            item_ = ProfileSetting{};
            item_.verb = command_.verb;
            item_.atomic = atomic_;
            item_.line = line();
            item_locuri_ = false;
        }
    }

    bool child_allowed(const std::string &name)
    {
        const std::string &parent = stack_.back().name;
        auto allowed = allowed_children.find(parent);
        if (allowed == allowed_children.end()) {
            if (parent == "Data") {
                fail("<Data> holds XML (<" + name
                     + ">): escape it (&lt;" + name
                     + "&gt;…) or wrap it in <![CDATA[…]]>");
            } else {
                fail("<" + parent + "> holds a value, not <" + name + ">");
            }
            return false;
        }
        if (allowed->second.count(name)) {
            return true;
        }
        if (parent.empty()) {
            fail("only Add, Replace, Exec, Delete and Atomic may be at the"
                 " top level of a profile, not <" + name + ">");
        } else if (parent == "Atomic") {
            fail("an <Atomic> in a profile holds only Add, Replace, Exec and"
                 " Delete, not <" + name + ">");
        } else {
            fail("<" + name + "> is not expected in <" + parent + ">");
        }
        return false;
    }

    void add_text(const XML_Char *s, int len)
    {
        if (failed_ || stack_.empty()) {
            return;
        }
        Element &e = stack_.back();
        if (allowed_children.count(e.name)) {  // not a value
            if (!blank(s, len)) {
                fail(e.name.empty() ? "text outside any command"
                                    : "text directly inside <" + e.name
                                          + ">");
            }
            return;
        }
        size_t limit = e.name == "Data" ? max_object_bytes : max_target_bytes;
        if (e.text.size() + static_cast<size_t>(len) > limit) {
            fail("<" + e.name + "> is longer than " + std::to_string(limit)
                 + " bytes");
            return;
        }
        e.text.append(s, static_cast<size_t>(len));
    }

    void end()
    {
        if (failed_ || stack_.empty()) {
            return;
        }
        Element e = std::move(stack_.back());
        stack_.pop_back();
        if (e.name.empty()) {
            return;
        }
        // Meta belongs to the Item or command around it.
        const std::string &grandparent =
            stack_.size() >= 2 ? stack_[stack_.size() - 2].name : "";
        if (e.name == "LocURI") {
            item_.target = trim(e.text);
            item_locuri_ = true;
        } else if (e.name == "Data") {
            item_.data = trim(e.text);
        } else if (e.name == "Format" || e.name == "Type") {
            auto &field = grandparent == "Item"
                              ? (e.name == "Format" ? item_.format
                                                    : item_.type)
                              : (e.name == "Format" ? command_.format
                                                    : command_.type);
            field = trim(e.text);
        } else if (e.name == "Item") {
            if (item_.target.empty() && item_locuri_) {
                fail("<" + command_.verb
                         + "> has an empty Target: <LocURI> must name a node"
                           " such as ./Device/Vendor/MSFT/…",
                     e.line);
                return;
            }
            if (item_.target.empty()) {
                fail("<" + command_.verb
                         + "> has no Target: every command needs"
                           " <Target><LocURI>./…</LocURI></Target>",
                     e.line);
                return;
            }
            command_.items.push_back(std::move(item_));
        } else if (setting_verbs.count(e.name)) {
            end_command(e.line);
        } else if (e.name == "Atomic") {
            if (atomic_commands_ == 0) {
                fail("<Atomic> holds no command", atomic_line_);
            }
            atomic_ = 0;
        }
    }

    void end_command(int64_t at)
    {
        if (command_.items.empty()) {
            fail("<" + command_.verb + "> has no Target: every command needs"
                 " <Item><Target><LocURI>./…</LocURI></Target></Item>", at);
            return;
        }
        for (ProfileSetting &s : command_.items) {
            // An Item's own Meta wins over its command's.
            if (!s.format) {
                s.format = command_.format;
            }
            if (!s.type) {
                s.type = command_.type;
            }
            out_.push_back(std::move(s));
        }
        if (atomic_) {
            atomic_commands_++;
        }
    }

    std::vector<ProfileSetting> &out_;
    ProfileError &err_;
    XML_Parser parser_ = nullptr;
    bool failed_ = false;
    size_t elements_ = 0;
    std::vector<Element> stack_;
    OpenCommand command_;
    ProfileSetting item_;
    bool item_locuri_ = false;  // the Item has a LocURI (maybe empty)
    int64_t atomic_ = 0, atomics_ = 0, atomic_line_ = 0;
    size_t atomic_commands_ = 0;
};

}  // namespace

bool parse_profile_syncml(const std::string &text,
                          std::vector<ProfileSetting> &out, ProfileError &err)
{
    out.clear();
    return ProfileReader(out, err).parse(text);
}

}  // namespace omadm_backend
