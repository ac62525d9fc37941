// HTTP/1.1 for the device side: a POST request as bytes, and an
// incremental response parser (Content-Length, chunked, or until close).
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace sim {

struct http_response {
    int                                status = 0;
    std::map<std::string, std::string> headers;   // names lower-cased
    std::string                        body;
    bool                               keep_alive = true;

    // the header's value, "" when absent
    std::string header(const std::string &lower_name) const;
};

// extra_headers: complete "Name: value\r\n" lines, or "".
std::string format_post(const std::string &target, const std::string &host,
                        const std::string &content_type,
                        const std::string &body,
                        const std::string &extra_headers = "");

class response_parser {
public:
    enum result { need_more, done, bad };

    void reset();
    // Appends bytes; `done` once one whole response is in.
    result feed(const char *data, size_t len);
    // The peer closed: a body delimited by the close is then complete.
    result finish_eof();
    bool started() const { return !buf_.empty() || head_done_; }
    http_response &response() { return resp_; }

private:
    result parse_head();
    result parse_body();

    std::string   buf_;
    size_t        pos_ = 0;        // parsed up to here in buf_
    bool          head_done_ = false;
    bool          chunked_ = false;
    bool          until_close_ = false;
    size_t        length_ = 0;
    http_response resp_;
};

}  // namespace sim
