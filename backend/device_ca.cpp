#include "device_ca.hpp"

#include "crypto.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <climits>
#include <stdexcept>

namespace omadm_backend {

namespace {

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using CmsPtr =
    std::unique_ptr<CMS_ContentInfo, OpenSslFree<CMS_ContentInfo_free>>;

// How far back a certificate's validity starts: a device whose clock is a
// little behind must not find its new certificate not yet valid.
constexpr long backdate_seconds = 5 * 60;

BioPtr memory_bio(std::string_view data)
{
    if (data.size() > size_t(INT_MAX)) return nullptr;
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string read_file_or_throw(const std::string &file, const char *what)
{
    BioPtr bio(BIO_new_file(file.c_str(), "r"));
    if (!bio) {
        throw std::runtime_error(std::string("cannot read ") + what + " \""
                                 + file + "\"");
    }
    std::string out;
    char buf[4096];
    int n;
    while ((n = BIO_read(bio.get(), buf, sizeof(buf))) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

X509Ptr load_certificate(const std::string &file, const char *what)
{
    X509Ptr cert = read_pem_certificate(read_file_or_throw(file, what));
    if (!cert) {
        throw std::runtime_error(std::string(what) + " \"" + file
                                 + "\" holds no PEM certificate");
    }
    return cert;
}

void add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
    if (!ext || X509_add_ext(cert, ext, -1) != 1) {
        X509_EXTENSION_free(ext);
        throw std::runtime_error("cannot add a certificate extension");
    }
    X509_EXTENSION_free(ext);
}

// 16 random bytes, the top bit clear so the INTEGER stays positive.
std::string random_serial(X509 *cert)
{
    std::string bytes = random_bytes(16);
    bytes[0] = static_cast<char>(bytes[0] & 0x7f);
    BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char *>(bytes.data()),
                       static_cast<int>(bytes.size()), nullptr));
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
        throw std::runtime_error("cannot set a certificate serial number");
    }
    char *hex = BN_bn2hex(bn.get());
    if (!hex) throw std::bad_alloc();
    std::string out(hex);
    OPENSSL_free(hex);
    return out;
}

}  // namespace

X509Ptr read_pem_certificate(std::string_view pem)
{
    BioPtr bio = memory_bio(pem);
    if (!bio) return nullptr;
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string certificate_der(X509 *cert)
{
    unsigned char *buf = nullptr;
    int n = i2d_X509(cert, &buf);
    if (n <= 0) return {};
    std::string out(reinterpret_cast<char *>(buf), static_cast<size_t>(n));
    OPENSSL_free(buf);
    return out;
}

std::string certificate_thumbprint(std::string_view der)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(der.data(), der.size(), md, &len, EVP_sha1(), nullptr)
        != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    return hex_encode(std::string_view(reinterpret_cast<char *>(md), len),
                      true);
}

std::optional<CertificateRequest> read_certificate_request(
    std::string_view der, std::string &reason)
{
    if (der.size() > size_t(INT_MAX)) {
        reason = "the certificate request is too large";
        return std::nullopt;
    }
    const auto *p = reinterpret_cast<const unsigned char *>(der.data());
    X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
    if (!req || p != reinterpret_cast<const unsigned char *>(der.data())
                         + der.size()) {
        ERR_clear_error();
        reason = "the BinarySecurityToken is not a DER PKCS#10 certificate"
                 " request";
        return std::nullopt;
    }
    EVP_PKEY *key = X509_REQ_get0_pubkey(req.get());
    if (!key) {
        ERR_clear_error();
        reason = "the certificate request's public key cannot be read";
        return std::nullopt;
    }
    // Proof of possession: the request is signed with the key it carries.
    if (X509_REQ_verify(req.get(), key) != 1) {
        ERR_clear_error();
        reason = "the certificate request's signature does not verify";
        return std::nullopt;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA
        || EVP_PKEY_get_bits(key) < min_rsa_bits) {
        reason = "the certificate request's key is "
                 + std::string(EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
                                   ? "RSA " + std::to_string(
                                         EVP_PKEY_get_bits(key))
                                         + " bits"
                                   : "not RSA")
                 + "; the policy asks for RSA of at least "
                 + std::to_string(min_rsa_bits) + " bits";
        return std::nullopt;
    }
    unsigned char *spki = nullptr;
    int n = i2d_PUBKEY(key, &spki);
    if (n <= 0) {
        ERR_clear_error();
        reason = "the certificate request's public key cannot be encoded";
        return std::nullopt;
    }
    CertificateRequest out;
    out.public_key_der.assign(reinterpret_cast<char *>(spki),
                              static_cast<size_t>(n));
    OPENSSL_free(spki);
    out.req = std::move(req);
    return out;
}

DeviceCa::DeviceCa(const std::string &cert_file, const std::string &key_file,
                   const std::string &root_file)
{
    ca_ = load_certificate(cert_file, "device CA certificate");
    root_ = load_certificate(root_file, "root CA certificate");
    std::string key_pem = read_file_or_throw(key_file, "device CA key");
    BioPtr bio = memory_bio(key_pem);
    key_.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                             nullptr)
                   : nullptr);
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    if (!key_) {
        throw std::runtime_error("device CA key \"" + key_file
                                 + "\" holds no unencrypted PEM private key");
    }
    if (X509_check_private_key(ca_.get(), key_.get()) != 1) {
        throw std::runtime_error("device CA key \"" + key_file
                                 + "\" is not the key of \"" + cert_file
                                 + "\"");
    }
    if (X509_check_ca(ca_.get()) == 0) {
        throw std::runtime_error("\"" + cert_file
                                 + "\" is not a CA certificate");
    }
    EVP_PKEY *root_key = X509_get0_pubkey(root_.get());
    if (!root_key || X509_verify(ca_.get(), root_key) != 1) {
        throw std::runtime_error("device CA \"" + cert_file
                                 + "\" is not signed by the root \""
                                 + root_file + "\"");
    }
    ERR_clear_error();
    ca_der_ = certificate_der(ca_.get());
    root_der_ = certificate_der(root_.get());
}

IssuedCertificate DeviceCa::issue(const CertificateRequest &csr,
                                  const std::string &device_id, int days) const
{
    X509Ptr cert(X509_new());
    if (!cert) throw std::bad_alloc();
    IssuedCertificate out;
    std::time_t now = std::time(nullptr);
    out.not_after = now + std::time_t(days) * 86400;
    X509_NAME *subject = X509_get_subject_name(cert.get());
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1
        || X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_.get()))
               != 1
        || X509_NAME_add_entry_by_txt(
               subject, "CN", MBSTRING_UTF8,
               reinterpret_cast<const unsigned char *>(device_id.c_str()), -1,
               -1, 0)
               != 1
        || !X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0,
                             -backdate_seconds, &now)
        || !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &now)
        || X509_set_pubkey(cert.get(), X509_REQ_get0_pubkey(csr.req.get()))
               != 1) {
        throw std::runtime_error("cannot build the device certificate");
    }
    out.serial = random_serial(cert.get());
    add_extension(cert.get(), ca_.get(), NID_basic_constraints,
                  "critical,CA:FALSE");
    add_extension(cert.get(), ca_.get(), NID_key_usage,
                  "critical,digitalSignature,keyEncipherment");
    add_extension(cert.get(), ca_.get(), NID_ext_key_usage, "clientAuth");
    add_extension(cert.get(), ca_.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), ca_.get(), NID_authority_key_identifier,
                  "keyid:always");
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0) {
        throw std::runtime_error("cannot sign the device certificate");
    }
    out.der = certificate_der(cert.get());
    out.thumbprint = certificate_thumbprint(out.der);
    return out;
}

bool DeviceCa::issued(X509 *cert) const
{
    EVP_PKEY *ca_key = X509_get0_pubkey(ca_.get());
    bool ok = ca_key && X509_verify(cert, ca_key) == 1
              && X509_cmp_current_time(X509_get0_notBefore(cert)) < 0
              && X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
    ERR_clear_error();
    return ok;
}

std::optional<std::string> renewal_request(std::string_view pkcs7_der,
                                           X509 *signer, std::string &reason)
{
    BioPtr in = memory_bio(pkcs7_der);
    CmsPtr cms(in ? d2i_CMS_bio(in.get(), nullptr) : nullptr);
    if (!cms) {
        ERR_clear_error();
        reason = "the renewal token is not a DER PKCS#7 SignedData";
        return std::nullopt;
    }
    // The signer is the device's current certificate, which is checked
    // here against the one its TLS connection presented, not against a
    // store: it may be embedded or not.
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs || !sk_X509_push(certs, signer)) {
        sk_X509_free(certs);
        throw std::bad_alloc();
    }
    BioPtr out(BIO_new(BIO_s_mem()));
    if (!out) {
        sk_X509_free(certs);
        throw std::bad_alloc();
    }
    int ok = CMS_verify(cms.get(), certs, nullptr, nullptr, out.get(),
                        CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY);
    sk_X509_free(certs);
    if (ok != 1) {
        ERR_clear_error();
        reason = "the renewal token's signature does not verify with the"
                 " certificate the device presented";
        return std::nullopt;
    }
    STACK_OF(X509) *signers = CMS_get0_signers(cms.get());
    bool by_signer = sk_X509_num(signers) == 1
                     && X509_cmp(sk_X509_value(signers, 0), signer) == 0;
    sk_X509_free(signers);
    if (!by_signer) {
        reason = "the renewal token is not signed by the certificate the"
                 " device presented";
        return std::nullopt;
    }
    char *data = nullptr;
    long n = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<size_t>(n > 0 ? n : 0));
}

}  // namespace omadm_backend
