// The device-issuing CA of the Windows enrollment: an intermediate under
// the enterprise root, whose key the backend holds (the root's own key
// never reaches it).  It checks certificate requests and signs the
// devices' client certificates (OpenSSL 3).
#pragma once

#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace omadm_backend {

// An OpenSSL object owned by a unique_ptr, freed with its own function.
template <auto free_fn> struct OpenSslFree {
    template <class T> void operator()(T *p) const { free_fn(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslFree<X509_REQ_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;

// Smallest RSA key a device may enroll with (the policy service asks for
// it; MS-XCEP minimalKeyLength).
constexpr int min_rsa_bits = 2048;

// A PKCS#10 request whose signature verified with its own key, an RSA
// key of at least min_rsa_bits.
struct CertificateRequest {
    X509ReqPtr req;
    std::string public_key_der;  // SubjectPublicKeyInfo
};

// nullopt with a reason a person can act on: not DER, a bad signature, a
// key that is not RSA or too short.  SHA-1 signed requests (what Windows
// sends when the policy names no hash, OID 1.3.14.3.2.29 included) are
// accepted: the issued certificate is signed with SHA-256 anyway.
std::optional<CertificateRequest> read_certificate_request(
    std::string_view der, std::string &reason);

struct IssuedCertificate {
    std::string der;
    std::string serial;      // hex, upper case
    std::string thumbprint;  // SHA-1 of the DER, hex, upper case
    std::time_t not_after = 0;
};

// SHA-1 of a DER certificate, hex upper case: the name Windows' stores
// (CertificateStore CSP) and the provisioning document use for it.
std::string certificate_thumbprint(std::string_view der);

// The certificate's DER, or "" when it cannot be encoded.
std::string certificate_der(X509 *cert);

// A certificate from PEM text, nullptr when there is none.
X509Ptr read_pem_certificate(std::string_view pem);

class DeviceCa {
public:
    // Throws std::runtime_error saying which file is wrong: unreadable,
    // not a CA, the key not the certificate's, the CA not signed by root.
    DeviceCa(const std::string &cert_file, const std::string &key_file,
             const std::string &root_file);

    // A client certificate for device_id (the subject is CN=device_id,
    // never the request's own subject), valid from a few minutes ago for
    // `days`, signed with SHA-256.
    IssuedCertificate issue(const CertificateRequest &csr,
                            const std::string &device_id, int days) const;

    // Whether this CA signed `cert` and it is valid now.
    bool issued(X509 *cert) const;

    const std::string &ca_der() const { return ca_der_; }
    const std::string &root_der() const { return root_der_; }
    X509 *ca() const { return ca_.get(); }

private:
    X509Ptr ca_;
    EvpPkeyPtr key_;
    X509Ptr root_;
    std::string ca_der_, root_der_;
};

// The PKCS#10 inside a renewal token (MS-MDE2 3.5: a PKCS#7 SignedData
// signed with the device's current certificate), once its signature
// verified and its signer is `signer`; nullopt with a reason otherwise.
std::optional<std::string> renewal_request(std::string_view pkcs7_der,
                                           X509 *signer, std::string &reason);

}  // namespace omadm_backend
