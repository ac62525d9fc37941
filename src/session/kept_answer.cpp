#include "session/kept_answer.hpp"

#include <zlib.h>

#include "common/byte_record.hpp"

namespace omadm {

namespace {

// What our answers say most often, the most frequent last (deflate finds
// near matches cheapest).  Changing it makes kept answers unreadable:
// change k_packed_deflate with it.
const char k_dictionary[]
    = "<Get><CmdID></CmdID><Item><Target><LocURI></LocURI></Target></Item>"
      "</Get><Replace><Exec><Add><Delete><Alert><Data>1222</Data><Meta>"
      "<Format xmlns=\"syncml:metinf\">chr</Format><Type xmlns=\"syncml:"
      "metinf\">text/plain</Type></Meta><Chal><Meta><Format xmlns=\"syncml:"
      "metinf\">b64</Format><Type xmlns=\"syncml:metinf\">syncml:auth-md5"
      "</Type><NextNonce xmlns=\"syncml:metinf\"></NextNonce></Meta></Chal>"
      "<Data>212</Data><?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
      "<VerProto>DM/1.2</VerProto><SessionID></SessionID><MsgID>1</MsgID>"
      "<Target><LocURI>IMEI:</LocURI></Target><Source><LocURI>https://"
      "</LocURI></Source><RespURI>?s=</RespURI></SyncHdr><SyncBody>"
      "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>"
      "SyncHdr</Cmd><TargetRef></TargetRef><SourceRef></SourceRef>"
      "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>"
      "Alert</Cmd><Data>200</Data></Status><Status><CmdID>3</CmdID><MsgRef>"
      "</MsgRef><CmdRef>2</CmdRef><Cmd>Replace</Cmd><Data>200</Data>"
      "</Status><Final/></SyncBody></SyncML>";

// the first byte of a packed answer
const char k_packed_raw = 'r';
const char k_packed_deflate = 'z';

// A small window and state: answers are a few KiB at most, and the
// defaults would allocate a quarter of a megabyte per message.
const int k_window_bits = 12;
const int k_mem_level = 5;

// One deflate and one inflate stream per thread, reset between answers
// (deflateReset is deflateEnd + deflateInit without freeing the state: the
// same bytes out, none of the five allocations; some 40 KiB kept with the
// small window below).  A stream that failed is ended and made anew next
// time.
class deflater {
public:
    ~deflater() { drop(); }

    z_stream *take()
    {
        if (ready_) {
            if (deflateReset(&z_) == Z_OK) return &z_;
            drop();
        }
        z_ = z_stream{};
        if (deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, -k_window_bits,
                         k_mem_level, Z_DEFAULT_STRATEGY)
            != Z_OK)
            return nullptr;
        ready_ = true;
        return &z_;
    }

    void drop()
    {
        if (ready_) deflateEnd(&z_);
        ready_ = false;
    }

private:
    z_stream z_{};
    bool ready_ = false;
};

class inflater {
public:
    ~inflater() { drop(); }

    z_stream *take()
    {
        if (ready_) {
            if (inflateReset(&z_) == Z_OK) return &z_;
            drop();
        }
        z_ = z_stream{};
        if (inflateInit2(&z_, -k_window_bits) != Z_OK) return nullptr;
        ready_ = true;
        return &z_;
    }

    void drop()
    {
        if (ready_) inflateEnd(&z_);
        ready_ = false;
    }

private:
    z_stream z_{};
    bool ready_ = false;
};

thread_local deflater t_deflater;
thread_local inflater t_inflater;

bool deflate_into(std::string_view in, std::string &out)
{
    z_stream *z = t_deflater.take();
    if (!z) return false;
    bool ok = deflateSetDictionary(z, (const Bytef *) k_dictionary,
                                   sizeof(k_dictionary) - 1)
              == Z_OK;
    size_t start = out.size();
    out.resize(start + deflateBound(z, in.size()));
    z->next_in = (Bytef *) in.data();
    z->avail_in = (uInt) in.size();
    z->next_out = (Bytef *) &out[start];
    z->avail_out = (uInt) (out.size() - start);
    ok = ok && deflate(z, Z_FINISH) == Z_STREAM_END;
    out.resize(start + z->total_out);
    if (!ok) t_deflater.drop();
    return ok;
}

}  // namespace

std::string pack_answer(std::string_view answer)
{
    record_writer w;
    w.raw(std::string_view(&k_packed_deflate, 1));
    w.number(answer.size());
    if (!deflate_into(answer, w.text()) || w.text().size() > answer.size()) {
        record_writer raw;
        raw.raw(std::string_view(&k_packed_raw, 1));
        raw.raw(answer);
        return std::move(raw.text());
    }
    return std::move(w.text());
}

std::optional<std::string> unpack_answer(std::string_view packed,
                                         size_t max_size)
{
    if (packed.empty()) return std::string();
    if (packed[0] == k_packed_raw) {
        if (packed.size() - 1 > max_size) return {};
        return std::string(packed.substr(1));
    }
    record_reader r(packed);
    uint64_t size;
    if (!r.prefix(std::string_view(&k_packed_deflate, 1)) || !r.number(size)
        || size > max_size)
        return {};
    std::string_view stream = r.rest();
    std::string out(size, '\0');
    z_stream *z = t_inflater.take();
    if (!z) return {};
    z->next_in = (Bytef *) stream.data();
    z->avail_in = (uInt) stream.size();
    z->next_out = (Bytef *) out.data();
    z->avail_out = (uInt) out.size();
    bool ok = inflateSetDictionary(z, (const Bytef *) k_dictionary,
                                   sizeof(k_dictionary) - 1)
              == Z_OK;
    int rc = ok ? inflate(z, Z_FINISH) : Z_DATA_ERROR;
    // exactly the size announced, and nothing after the stream's end
    ok = rc == Z_STREAM_END && z->total_out == size && z->avail_in == 0;
    if (!ok) {
        t_inflater.drop();
        return {};
    }
    return out;
}

}  // namespace omadm
