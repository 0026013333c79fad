#include "io/auth_x509.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

namespace bsonpipe::io {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Hands OpenSSL the password; an empty one fails the decryption instead of prompting on a terminal.
int password_callback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pw = static_cast<const std::string*>(user);
  if (pw == nullptr || pw->empty() || size <= 0) return 0;
  const int n = static_cast<int>(std::min<std::size_t>(pw->size(), static_cast<std::size_t>(size)));
  std::memcpy(buf, pw->data(), static_cast<std::size_t>(n));
  return n;
}

// The newest OpenSSL reason on this thread's queue (the queue is left empty).
std::string openssl_reason() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown error";
  const char* r = ERR_reason_error_string(last);
  return r != nullptr ? r : "error " + std::to_string(last);
}

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

Status bad(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "can't load client certificate " + path + ": " + what);
}

}  // namespace

bool pem_has_encrypted_key(std::string_view pem) {
  return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

Status use_client_certificate(SSL_CTX* ctx, const std::string& path, const std::string& password) {
  std::string data;
  {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return bad(path, std::strerror(errno != 0 ? errno : ENOENT));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return bad(path, "read error");
  }
  ERR_clear_error();
  auto done = [](Status s) {
    ERR_clear_error();  // nothing stale for the TLS handshake to report later
    return s;
  };

  // The first certificate is the client's own; any further ones are its chain.
  BioPtr certs = memory_bio(data);
  if (!certs) return done(bad(path, "out of memory"));
  X509Ptr leaf(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
  if (!leaf) return done(bad(path, "no PEM certificate in the file"));
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return done(bad(path, "certificate: " + openssl_reason()));
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return done(bad(path, "chain certificate: " + openssl_reason()));
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"

  const bool encrypted = pem_has_encrypted_key(data);
  if (encrypted && password.empty())
    return done(bad(path, "the private key is encrypted and no password was given (--tlsCertificateKeyFilePassword)"));
  BioPtr keys = memory_bio(data);
  if (!keys) return done(bad(path, "out of memory"));
  PkeyPtr key(PEM_read_bio_PrivateKey(keys.get(), nullptr, password_callback, const_cast<std::string*>(&password)));
  if (!key) {
    if (encrypted) return done(bad(path, "cannot decrypt the private key: wrong password (" + openssl_reason() + ")"));
    return done(bad(path, "no usable PEM private key in the file (" + openssl_reason() + ")"));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return done(bad(path, "the private key does not match the certificate (" + openssl_reason() + ")"));
  return done(Status::ok());
}

formats::Bytes make_x509_authenticate_command(std::string_view user) {
  formats::Builder b;
  b.append_int32("authenticate", 1);
  b.append_string("mechanism", kX509Mechanism);
  if (!user.empty()) b.append_string("user", user);
  return b.finish();
}

}  // namespace bsonpipe::io
