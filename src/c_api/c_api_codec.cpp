// extern "C" building blocks of include/omadm.h: credential arithmetic and
// the SyncML decode/describe/re-encode helpers used by tests and tools.
//
// omadm_syncml_describe() format (stable; tests compare it):
//   one "path=value" line per non-empty field of the decoded message, in
//   the order of the message model (DTD order, not input order), e.g.
//     Version=1.2                  (1.1, 1.2 or unsupported)
//     SyncHdr/SessionID=42
//     SyncHdr/Source=IMEI:490154203237518     (a Target/Source is its LocURI)
//     SyncHdr/Source/LocName=dev1
//     SyncHdr/Cred/Meta/Type=syncml:auth-md5
//     SyncBody/Alert[1]/Data=1201
//     SyncBody/Replace[2]/Item[1]/Source=./DevInfo/DevId
//     SyncBody/Atomic[3]/Add[1]/Item[1]/Target=./A
//     SyncBody/Final=1
//   Commands are numbered by position among their siblings (1-based), items
//   within their command.  Flags (NoResp, MoreData, Final, Cred, Chal) are
//   written as "=1" when set.  A command or item without any field is
//   written as "path=" so it is still visible.  Values escape backslash as
//   \\, LF as \n, CR as \r, TAB as \t and other bytes below 0x20 as \xHH.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "auth/base64.hpp"
#include "auth/md5_auth.hpp"
#include "c_api/c_api_util.hpp"
#include "codec/syncml_codec.hpp"
#include "common/text.hpp"
#include "omadm.h"

using namespace omadm;

namespace {

const omadm_limits_t default_limits
    = {OMADM_DEFAULT_MAX_DEPTH, OMADM_DEFAULT_MAX_ELEMENTS,
       OMADM_DEFAULT_MAX_TEXT};

// malloc()ed copy for the caller to omadm_free()
char *dup_malloc(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

class describer {
public:
    std::string out;

    void line(const std::string &path, std::string_view value)
    {
        if (value.empty()) return;
        out += path;
        out += '=';
        for (char c : value) {
            unsigned char u = static_cast<unsigned char>(c);
            if (c == '\\')
                out += "\\\\";
            else if (c == '\n')
                out += "\\n";
            else if (c == '\r')
                out += "\\r";
            else if (c == '\t')
                out += "\\t";
            else if (u < 0x20) {
                out += "\\x";
                out += hex(std::string_view(&c, 1));
            } else {
                out += c;
            }
        }
        out += '\n';
        ++lines_;
    }

    void flag(const std::string &path, bool set)
    {
        if (set) line(path, "1");
    }

    void meta_lines(const std::string &p, const meta &m)
    {
        line(p + "/Format", m.format);
        line(p + "/Type", m.type);
        line(p + "/Mark", m.mark);
        line(p + "/Size", m.size);
        line(p + "/NextNonce", m.next_nonce);
        line(p + "/MaxMsgSize", m.max_msg_size);
        line(p + "/MaxObjSize", m.max_obj_size);
    }

    void item_lines(const std::string &p, const item &it)
    {
        size_t before = lines_;
        line(p + "/Target", it.target);
        line(p + "/Source", it.source);
        meta_lines(p + "/Meta", it.meta);
        line(p + "/Data", it.data);
        flag(p + "/MoreData", it.more_data);
        if (lines_ == before) empty_node(p);
    }

    void command_lines(const std::string &p, const command &c)
    {
        size_t before = lines_;
        line(p + "/CmdID", c.cmd_id);
        flag(p + "/NoResp", c.no_resp);
        line(p + "/MsgRef", c.msg_ref);
        line(p + "/CmdRef", c.cmd_ref);
        line(p + "/Cmd", c.cmd);
        meta_lines(p + "/Meta", c.meta);
        for (size_t i = 0; i < c.target_refs.size(); i++) {
            line(p + "/TargetRef[" + std::to_string(i + 1) + "]",
                 c.target_refs[i]);
        }
        for (size_t i = 0; i < c.source_refs.size(); i++) {
            line(p + "/SourceRef[" + std::to_string(i + 1) + "]",
                 c.source_refs[i]);
        }
        flag(p + "/Chal", c.has_chal);
        meta_lines(p + "/Chal/Meta", c.chal);
        line(p + "/Data", c.data);
        line(p + "/Correlator", c.correlator);
        for (size_t i = 0; i < c.items.size(); i++) {
            item_lines(p + "/Item[" + std::to_string(i + 1) + "]", c.items[i]);
        }
        commands(p, c.commands);
        if (lines_ == before) empty_node(p);
    }

    void commands(const std::string &p, const std::vector<command> &v)
    {
        for (size_t i = 0; i < v.size(); i++) {
            command_lines(
                p + "/" + v[i].name + "[" + std::to_string(i + 1) + "]", v[i]);
        }
    }

    void message_lines(const message &m)
    {
        const header &h = m.hdr;
        line("Version", m.version == syncml_version::v1_1   ? "1.1"
                        : m.version == syncml_version::v1_2 ? "1.2"
                                                            : "unsupported");
        line("SyncHdr/VerDTD", h.ver_dtd);
        line("SyncHdr/VerProto", h.ver_proto);
        line("SyncHdr/SessionID", h.session_id);
        line("SyncHdr/MsgID", h.msg_id);
        line("SyncHdr/Target", h.target);
        line("SyncHdr/Target/LocName", h.target_name);
        line("SyncHdr/Source", h.source);
        line("SyncHdr/Source/LocName", h.source_name);
        line("SyncHdr/RespURI", h.resp_uri);
        flag("SyncHdr/Cred", h.has_cred);
        meta_lines("SyncHdr/Cred/Meta", h.cred.meta);
        line("SyncHdr/Cred/Data", h.cred.data);
        meta_lines("SyncHdr/Meta", h.meta);
        commands("SyncBody", m.body);
        flag("SyncBody/Final", m.final);
    }

private:
    void empty_node(const std::string &p)
    {
        out += p;
        out += "=\n";
        ++lines_;
    }

    size_t lines_ = 0;
};

// Shared shape of describe/reencode: decode, then render with f.
template <class F>
int decode_and(int enc, const char *body, size_t len,
               const omadm_limits_t *limits, char **out, size_t *out_len,
               char **err, F &&render)
{
    if (out) *out = nullptr;
    if (err) *err = nullptr;
    encoding from;
    if (out == nullptr || !valid_input(body, len) || !to_encoding(enc, from))
        return OMADM_EINVAL;
    try {
        message m;
        parse_error pe;
        if (!decode_message(view(body, len), from,
                            limits ? *limits : default_limits, m, pe)) {
            if (err) *err = dup_malloc(pe.reason);
            return pe.too_big ? OMADM_ETOOBIG : OMADM_EINVAL;
        }
        std::string s = render(m);
        *out = dup_malloc(s);
        if (out_len) *out_len = s.size();
        return OMADM_OK;
    } catch (...) {
        if (err && *err) {
            std::free(*err);
            *err = nullptr;
        }
        return OMADM_ERROR;
    }
}

}  // namespace

extern "C" {

int omadm_auth_basic(const char *user, size_t user_len, const char *pass,
                     size_t pass_len, char *out, size_t out_size,
                     size_t *out_len) noexcept
{
    if (!valid_input(user, user_len) || !valid_input(pass, pass_len)) {
        return OMADM_EINVAL;
    }
    try {
        return put_out(
            basic_credential(view(user, user_len), view(pass, pass_len)), out,
            out_size, out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

int omadm_auth_md5_inner(const char *user, size_t user_len, const char *pass,
                         size_t pass_len, char *out, size_t out_size,
                         size_t *out_len) noexcept
{
    if (!valid_input(user, user_len) || !valid_input(pass, pass_len)) {
        return OMADM_EINVAL;
    }
    try {
        return put_out(md5_inner(view(user, user_len), view(pass, pass_len)),
                       out, out_size, out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

int omadm_auth_md5_digest(const char *inner, size_t inner_len,
                          const char *nonce_b64, size_t nonce_b64_len,
                          char *out, size_t out_size, size_t *out_len) noexcept
{
    if (!valid_input(inner, inner_len)
        || !valid_input(nonce_b64, nonce_b64_len)) {
        return OMADM_EINVAL;
    }
    try {
        std::string nonce;
        if (!base64_decode(view(nonce_b64, nonce_b64_len), nonce)) {
            return OMADM_EINVAL;
        }
        return put_out(md5_digest(view(inner, inner_len), nonce), out, out_size,
                       out_len);
    } catch (...) {
        return OMADM_ERROR;
    }
}

int omadm_syncml_describe(const char *body, size_t len,
                          const omadm_limits_t *limits, char **out,
                          size_t *out_len, char **err) noexcept
{
    return omadm_syncml_describe_as(OMADM_ENC_XML, body, len, limits, out,
                                    out_len, err);
}

int omadm_syncml_describe_as(int enc, const char *body, size_t len,
                             const omadm_limits_t *limits, char **out,
                             size_t *out_len, char **err) noexcept
{
    return decode_and(enc, body, len, limits, out, out_len, err,
                      [](const message &m) {
                          describer d;
                          d.message_lines(m);
                          return std::move(d.out);
                      });
}

int omadm_syncml_reencode(const char *body, size_t len,
                          const omadm_limits_t *limits, char **out,
                          size_t *out_len, char **err) noexcept
{
    return omadm_syncml_transcode(OMADM_ENC_XML, OMADM_ENC_XML, body, len,
                                  limits, out, out_len, err);
}

int omadm_syncml_transcode(int from, int to, const char *body, size_t len,
                           const omadm_limits_t *limits, char **out,
                           size_t *out_len, char **err) noexcept
{
    encoding enc;
    if (!to_encoding(to, enc)) {
        if (out) *out = nullptr;
        if (err) *err = nullptr;
        return OMADM_EINVAL;
    }
    return decode_and(
        from, body, len, limits, out, out_len, err,
        [enc](const message &m) { return encode_message(m, enc); });
}

void omadm_free(void *p) noexcept
{
    std::free(p);
}

}  // extern "C"
