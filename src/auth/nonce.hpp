// A nonce, made, encoded and used in one place.  It travels as base64 text
// (SyncML NextNonce, the backend contract, the session state), and digests
// are made over its bytes: MD5 Creds, syncml:auth-MAC and the server's own
// Cred.  The empty nonce is that of a device never issued one.
#pragma once

#include <string>
#include <string_view>

namespace omadm {

class nonce {
public:
    nonce() = default;

    // 16 bytes from RAND_bytes; throws std::runtime_error when the
    // generator fails.
    static nonce fresh();

    // As it was received or stored; it need not be valid base64 (a digest
    // over one that is not never matches).
    static nonce from_b64(std::string_view text);

    const std::string &b64() const { return b64_; }
    bool empty() const { return b64_.empty(); }

    // Whether `presented` is the MD5 digest B64(MD5(inner ":" bytes)) over
    // this nonce, compared in constant time.
    bool md5_proves(std::string_view inner, std::string_view presented) const;

    // Whether `mac` is the syncml:auth-MAC of body with inner over this
    // nonce, compared in constant time.
    bool mac_proves(std::string_view inner, std::string_view body,
                    std::string_view mac) const;

    // The digest and the MAC over this nonce, made by the server (its own
    // Cred, its signed answers); a nonce that is not base64 counts as the
    // empty one.
    std::string md5_digest(std::string_view inner) const;
    std::string mac(std::string_view inner, std::string_view body) const;

private:
    explicit nonce(std::string b64) : b64_(std::move(b64)) {}

    std::string b64_;
};

}  // namespace omadm
