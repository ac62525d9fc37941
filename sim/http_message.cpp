#include "http_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sim {

namespace {

const size_t max_head = 64 * 1024;
const size_t max_body = 64 * 1024 * 1024;

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t");
    size_t e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string http_response::header(const std::string &lower_name) const
{
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
}

std::string format_post(const std::string &target, const std::string &host,
                        const std::string &content_type,
                        const std::string &body,
                        const std::string &extra_headers)
{
    std::string r;
    r.reserve(body.size() + 256);
    r += "POST " + target + " HTTP/1.1\r\nHost: " + host
         + "\r\nUser-Agent: omadm-sim\r\nAccept: " + content_type
         + "\r\nContent-Type: " + content_type + "; charset=utf-8"
         + "\r\nContent-Length: " + std::to_string(body.size())
         + "\r\n" + extra_headers + "\r\n";
    r += body;
    return r;
}

void response_parser::reset()
{
    buf_.clear();
    pos_ = 0;
    head_done_ = chunked_ = until_close_ = false;
    length_ = 0;
    resp_ = http_response{};
}

response_parser::result response_parser::feed(const char *data, size_t len)
{
    buf_.append(data, len);
    if (!head_done_) {
        result r = parse_head();
        if (r != done) {
            return r;
        }
    }
    return parse_body();
}

response_parser::result response_parser::finish_eof()
{
    if (head_done_ && until_close_) {
        resp_.body.append(buf_, pos_, std::string::npos);
        resp_.keep_alive = false;
        return done;
    }
    return bad;
}

response_parser::result response_parser::parse_head()
{
    size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
        return buf_.size() > max_head ? bad : need_more;
    }
    size_t line_end = buf_.find("\r\n");
    std::string status_line = buf_.substr(0, line_end);
    // "HTTP/1.x NNN reason"
    if (status_line.compare(0, 7, "HTTP/1.") != 0 || status_line.size() < 12) {
        return bad;
    }
    bool http10 = status_line[7] == '0';
    resp_.status = std::atoi(status_line.c_str() + 9);
    if (resp_.status < 100 || resp_.status > 999) {
        return bad;
    }
    size_t p = line_end + 2;
    while (p < end) {
        size_t e = buf_.find("\r\n", p);
        std::string line = buf_.substr(p, e - p);
        p = e + 2;
        size_t colon = line.find(':');
        if (colon == std::string::npos) {
            return bad;
        }
        resp_.headers[lower(trim(line.substr(0, colon)))] =
            trim(line.substr(colon + 1));
    }
    pos_ = end + 4;
    head_done_ = true;

    std::string conn = lower(resp_.header("connection"));
    resp_.keep_alive = http10 ? conn == "keep-alive" : conn != "close";
    if (lower(resp_.header("transfer-encoding")).find("chunked")
        != std::string::npos)
    {
        chunked_ = true;
    } else if (resp_.headers.count("content-length")) {
        char *e = nullptr;
        std::string v = resp_.header("content-length");
        unsigned long long n = std::strtoull(v.c_str(), &e, 10);
        if (v.empty() || *e != '\0' || n > max_body) {
            return bad;
        }
        length_ = size_t(n);
    } else if (resp_.status == 204 || resp_.status == 304
               || resp_.status < 200) {
        length_ = 0;
    } else {
        until_close_ = true;
    }
    return done;
}

response_parser::result response_parser::parse_body()
{
    if (until_close_) {
        return buf_.size() - pos_ > max_body ? bad : need_more;
    }
    if (!chunked_) {
        if (buf_.size() - pos_ < length_) {
            return need_more;
        }
        resp_.body.assign(buf_, pos_, length_);
        return done;
    }
    // chunked: decode whole chunks as they complete
    for (;;) {
        size_t e = buf_.find("\r\n", pos_);
        if (e == std::string::npos) {
            return buf_.size() - pos_ > 1024 ? bad : need_more;
        }
        char *end = nullptr;
        std::string size_text = buf_.substr(pos_, e - pos_);
        unsigned long long n = std::strtoull(size_text.c_str(), &end, 16);
        if (end == size_text.c_str() || n > max_body) {
            return bad;
        }
        if (n == 0) {
            // trailers end with an empty line
            return buf_.find("\r\n\r\n", e) == std::string::npos
                   ? need_more : done;
        }
        if (buf_.size() < e + 2 + n + 2) {
            return need_more;
        }
        resp_.body.append(buf_, e + 2, size_t(n));
        if (resp_.body.size() > max_body) {
            return bad;
        }
        pos_ = e + 2 + size_t(n) + 2;
    }
}

}  // namespace sim
