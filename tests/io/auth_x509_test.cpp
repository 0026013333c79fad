// io/auth_x509: loading a client certificate (errors name the file, never the password), the
// MONGODB-X509 authenticate command, and the URI rules for authMechanism=MONGODB-X509.
#include "io/auth_x509.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <string>

#include "io/uri.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::io {
namespace {

namespace fs = std::filesystem;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;
Ctx new_ctx() {
  return Ctx(SSL_CTX_new(TLS_client_method()));
}

constexpr const char* kPass = "Key-Pass-771";

// Self-signed certificates made with the openssl CLI: plain.pem (certificate + key),
// pkcs8_enc.pem (key encrypted, PKCS#8), legacy_enc.pem (key encrypted, "Proc-Type" PEM),
// mismatch.pem (a certificate with another certificate's key), cert_only.pem, key_only.pem.
const fs::path& dir() {
  static const fs::path d = [] {
    fs::path p = bsonpipe::test::temp_dir("auth_x509");
    std::string cmd = "cd '" + p.string() + R"(' && set -e
for n in a b; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=$n -keyout $n.key -out $n.crt 2>/dev/null
done
cat a.crt a.key > plain.pem
openssl pkey -in a.key -aes256 -passout pass:)" +
                      std::string(kPass) + R"( -out a8.key
cat a.crt a8.key > pkcs8_enc.pem
openssl rsa -in a.key -aes128 -traditional -passout pass:)" +
                      std::string(kPass) + R"( -out al.key 2>/dev/null
cat a.crt al.key > legacy_enc.pem
cat a.crt b.key > mismatch.pem
cp a.crt cert_only.pem
cp a.key key_only.pem
)";
    auto r = bsonpipe::test::run_shell(cmd);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return p;
  }();
  return d;
}

std::string path(const char* name) {
  return (dir() / name).string();
}

TEST(ClientCertificate, LoadsPlainAndEncryptedKeys) {
  for (auto [file, pw] : {std::pair{"plain.pem", ""}, {"pkcs8_enc.pem", kPass}, {"legacy_enc.pem", kPass}}) {
    auto ctx = new_ctx();
    Status s = use_client_certificate(ctx.get(), path(file), pw);
    EXPECT_TRUE(s.is_ok()) << file << ": " << s.to_string();
    EXPECT_NE(SSL_CTX_get0_certificate(ctx.get()), nullptr) << file;
    EXPECT_NE(SSL_CTX_get0_privatekey(ctx.get()), nullptr) << file;
  }
}

TEST(ClientCertificate, EveryFailureNamesTheFileAndNeverThePassword) {
  struct Case {
    const char* file;
    std::string password;
    const char* says;
  };
  const Case cases[] = {
      {"no-such-file.pem", "", "No such file"},
      {"pkcs8_enc.pem", "", "encrypted and no password"},
      {"legacy_enc.pem", "", "encrypted and no password"},
      {"pkcs8_enc.pem", "Wrong-Pass-1", "wrong password"},
      {"legacy_enc.pem", "Wrong-Pass-1", "wrong password"},
      {"mismatch.pem", "", "does not match"},
      {"cert_only.pem", "", "no usable PEM private key"},
      {"key_only.pem", "", "no PEM certificate"},
  };
  for (const Case& c : cases) {
    auto ctx = new_ctx();
    Status s = use_client_certificate(ctx.get(), path(c.file), c.password);
    ASSERT_FALSE(s.is_ok()) << c.file;
    const std::string m = s.to_string();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << m;
    EXPECT_NE(m.find(path(c.file)), std::string::npos) << m;
    EXPECT_NE(m.find(c.says), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    if (!c.password.empty()) {
      EXPECT_EQ(m.find(c.password), std::string::npos) << m;
    }
  }
}

TEST(ClientCertificate, EncryptedKeyDetection) {
  EXPECT_TRUE(pem_has_encrypted_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"));
  EXPECT_TRUE(pem_has_encrypted_key("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n"));
  EXPECT_FALSE(pem_has_encrypted_key("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
}

// The command as the MongoDB authentication spec gives it for MONGODB-X509.
TEST(X509Command, WithAndWithoutUser) {
  formats::Builder want1;
  want1.append_int32("authenticate", 1).append_string("mechanism", "MONGODB-X509");
  EXPECT_EQ(make_x509_authenticate_command(""), want1.finish());
  formats::Builder want2;
  want2.append_int32("authenticate", 1)
      .append_string("mechanism", "MONGODB-X509")
      .append_string("user", "CN=client,OU=tests,O=bsonpipe,C=US");
  EXPECT_EQ(make_x509_authenticate_command("CN=client,OU=tests,O=bsonpipe,C=US"), want2.finish());
}

// URI rules (the Go driver's connection-string validation, which mongo-tools uses).
TEST(X509Uri, UserOptionalSourceExternalNoPassword) {
  auto u = parse_uri("mongodb://h/?authMechanism=MONGODB-X509&tls=true&tlsCertificateKeyFile=/c.pem");
  ASSERT_TRUE(u.is_ok()) << u.status().to_string();
  EXPECT_FALSE(u->has_credentials);
  EXPECT_EQ(u->auth_database(), "$external");
  EXPECT_EQ(u->tls.certificate_key_file, "/c.pem");
  auto named = parse_uri("mongodb://CN%3Dc%2CO%3Do@h/db?authMechanism=MONGODB-X509");
  ASSERT_TRUE(named.is_ok()) << named.status().to_string();
  EXPECT_EQ(named->username, "CN=c,O=o");
  EXPECT_EQ(named->auth_database(), "$external");  // not the path's database
  EXPECT_TRUE(parse_uri("mongodb://h/?authMechanism=MONGODB-X509&authSource=$external").is_ok());
  EXPECT_FALSE(parse_uri("mongodb://h/?authMechanism=MONGODB-X509&authSource=admin").is_ok());
  EXPECT_FALSE(parse_uri("mongodb://u:p@h/?authMechanism=MONGODB-X509").is_ok());
  auto pw = parse_uri("mongodb://h/?tls=true&tlsCertificateKeyFile=/c.pem&tlsCertificateKeyFilePassword=s3cr%26t");
  ASSERT_TRUE(pw.is_ok()) << pw.status().to_string();
  EXPECT_EQ(pw->tls.certificate_key_password, "s3cr&t");
  EXPECT_EQ(pw->redacted().find("s3cr"), std::string::npos) << pw->redacted();
}

}  // namespace
}  // namespace bsonpipe::io
