// TLS client certificates and MONGODB-X509 authentication through the real binary, against a
// minimongod that requires a client certificate signed by a test CA. Every certificate is made at
// test time with the openssl CLI in a temporary directory.
//
// mongodump/mongorestore 100.x: --tlsCertificateKeyFile/--sslPEMKeyFile,
// --tlsCertificateKeyFilePassword/--sslPEMKeyPassword, --authenticationMechanism MONGODB-X509
// (user name optional; the authentication database defaults to $external), and the URI options
// tlsCertificateKeyFile, tlsCertificateKeyFilePassword, authMechanism=MONGODB-X509
// (common/options/options.go, common/db/db.go).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using test::show;

constexpr const char* kAdmin = "admin";
constexpr const char* kAdminPassword = "adminPw-913";
constexpr const char* kKeyPassword = "keyPass-5517";
// The client certificate's subject, as the server names the user (RFC 2253: most specific first).
constexpr const char* kClientDn = "CN=client,OU=tests,O=bsonpipe,C=US";

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// Percent-encodes what a URI's user name may not hold as it is.
std::string test_percent(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '=')
      out += "%3D";
    else if (c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

// A test CA, a server certificate for localhost/127.0.0.1, a client certificate (plain key and a
// copy with its key encrypted under kKeyPassword) and a client certificate from an unrelated CA.
struct Certs {
  fs::path dir;
  fs::path ca;            // CA certificate
  fs::path server;        // server certificate + key
  fs::path client;        // client certificate + key
  fs::path client_enc;    // client certificate + encrypted key
  fs::path stranger;      // client certificate + key signed by another CA
  fs::path unknown_user;  // client certificate + key (CN=nobody) signed by the test CA
};

const Certs& certs() {
  static const Certs c = [] {
    Certs k;
    k.dir = test::temp_dir("x509");
    k.ca = k.dir / "ca.pem";
    k.server = k.dir / "server.pem";
    k.client = k.dir / "client.pem";
    k.client_enc = k.dir / "client_enc.pem";
    k.stranger = k.dir / "stranger.pem";
    k.unknown_user = k.dir / "nobody.pem";
    const std::string script = R"(set -e
ca() {  # ca NAME SUBJECT
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "$2" -keyout $1.key -out $1.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() {  # leaf NAME SUBJECT CA EXTFILE
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout $1.key -out $1.csr 2>/dev/null
  openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 2 -extfile $4 -out $1.crt 2>/dev/null
  cat $1.crt $1.key > $1.pem
}
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
ca ca /CN=bsonpipe-test-ca
ca otherca /CN=unrelated-ca
leaf server /CN=localhost ca server.ext
leaf client /C=US/O=bsonpipe/OU=tests/CN=client ca client.ext
leaf stranger /C=US/O=bsonpipe/OU=tests/CN=client otherca client.ext
leaf nobody /C=US/O=bsonpipe/OU=tests/CN=nobody ca client.ext
openssl pkey -in client.key -aes256 -passout pass:)" +
                               std::string(kKeyPassword) +
                               R"( -out client_enc.key
cat client.crt client_enc.key > client_enc.pem
)";
    auto r = test::run_shell("cd " + quote(k.dir.string()) + " && " + script);
    EXPECT_EQ(r.exit_code, 0) << "making certificates failed:\n" << show(r);
    return k;
  }();
  return c;
}

// minimongod with SCRAM login for kAdmin, TLS, and a client certificate signed by the test CA
// required on every connection; kClientDn is a user of $external.
class X509 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Certs& k = certs();
    server_ = new test::MiniMongod({"--user", kAdmin, "--password", kAdminPassword, "--tlsCertificateKeyFile",
                                    k.server.string(), "--tlsCAFile", k.ca.string(), "--tlsRequireClientCert",
                                    "--generate", "x509.data:40:200"});
    auto c = test::connect(admin_uri());
    ASSERT_TRUE(c);
    Builder b;
    b.append_string("createUser", kClientDn).open_array("roles");
    b.open_document("0").append_string("role", "root").append_string("db", "admin").close();
    b.close();
    Bytes cmd = b.finish();
    auto r = c->run_command("$external", DocView(cmd));
    ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string host() { return "localhost:" + std::to_string(server_->port()); }
  static std::string tls_options() {
    return "tls=true&tlsCAFile=" + certs().ca.string() + "&tlsCertificateKeyFile=" + certs().client.string();
  }
  // SCRAM login as kAdmin over TLS with the client certificate.
  static std::string admin_uri() {
    return "mongodb://" + std::string(kAdmin) + ":" + kAdminPassword + "@" + host() + "/?authSource=admin&" +
           tls_options();
  }
  // The flags a dump or restore needs to reach the server over TLS as the certificate's user.
  static std::vector<std::string> x509_flags(const fs::path& cert) {
    return {"--host",
            host(),
            "--tls",
            "--tlsCAFile",
            certs().ca.string(),
            "--tlsCertificateKeyFile",
            cert.string(),
            "--authenticationMechanism",
            "MONGODB-X509"};
  }
  static std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  static fs::path out_dir(const std::string& name) { return test::temp_dir("x509_" + name); }
  static test::MiniMongod* server_;
};
test::MiniMongod* X509::server_ = nullptr;

// The last non-empty line of stderr, and how many non-empty lines there are.
std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto nl = s.find('\n', pos);
    std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty()) out.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

TEST_F(X509, DumpAndRestoreWithClientCertificate) {
  fs::path out = out_dir("roundtrip") / "dump";
  auto d = test::bsonpipe(cat({"dump"}, cat(x509_flags(certs().client), {"--db", "x509", "--out", out.string()})));
  ASSERT_EQ(d.exit_code, 0) << show(d);
  ASSERT_TRUE(fs::exists(out / "x509" / "data.bson")) << show(d);
  auto r = test::bsonpipe(
      cat({"restore"}, cat(x509_flags(certs().client), {"--nsFrom", "x509.*", "--nsTo", "x509copy.*", out.string()})));
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = test::connect(admin_uri());
  ASSERT_TRUE(c);
  auto want = test::server_digest(*c, "x509", "data");
  EXPECT_EQ(test::server_documents(*c, "x509copy", "data").size(), 40u);
  EXPECT_TRUE(test::server_digest(*c, "x509copy", "data") == want);
}

TEST_F(X509, UserNameGivenExplicitlyMustMatchTheCertificate) {
  fs::path out = out_dir("named") / "dump";
  auto ok = test::bsonpipe(
      cat({"dump"}, cat(x509_flags(certs().client), {"-u", kClientDn, "--db", "x509", "--out", out.string()})));
  EXPECT_EQ(ok.exit_code, 0) << show(ok);
  EXPECT_TRUE(fs::exists(out / "x509" / "data.bson")) << show(ok);
  fs::path out2 = out_dir("named") / "dump2";
  auto bad = test::bsonpipe(cat(
      {"dump"}, cat(x509_flags(certs().client), {"-u", "CN=someone-else", "--db", "x509", "--out", out2.string()})));
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
  EXPECT_NE(bad.err.find("uthentication failed"), std::string::npos) << show(bad);
  EXPECT_FALSE(fs::exists(out2 / "x509" / "data.bson"));
}

TEST_F(X509, CertificateWithoutAUserIsRefused) {
  fs::path out = out_dir("nobody") / "dump";
  auto r =
      test::bsonpipe(cat({"dump"}, cat(x509_flags(certs().unknown_user), {"--db", "x509", "--out", out.string()})));
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("uthentication failed"), std::string::npos) << show(r);
  EXPECT_FALSE(fs::exists(out / "x509" / "data.bson"));
}

TEST_F(X509, ClientWithoutCertificateIsRefused) {
  fs::path out = out_dir("nocert") / "dump";
  auto r = test::bsonpipe(
      {"dump", "--host", host(), "--tls", "--tlsCAFile", certs().ca.string(), "--db", "x509", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 1u) << show(r);
  EXPECT_NE(l[0].find("certificate"), std::string::npos) << show(r);
  EXPECT_FALSE(fs::exists(out / "x509" / "data.bson"));
}

TEST_F(X509, CertificateFromAnotherCaIsRefused) {
  fs::path out = out_dir("stranger") / "dump";
  auto r = test::bsonpipe(cat({"dump"}, cat(x509_flags(certs().stranger), {"--db", "x509", "--out", out.string()})));
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(lines(r.err).size(), 1u) << show(r);
  EXPECT_FALSE(fs::exists(out / "x509" / "data.bson"));
}

TEST_F(X509, EncryptedKeyWithItsPassword) {
  fs::path out = out_dir("enc") / "dump";
  auto r =
      test::bsonpipe(cat({"dump"}, cat(x509_flags(certs().client_enc), {"--tlsCertificateKeyFilePassword", kKeyPassword,
                                                                        "--db", "x509", "--out", out.string()})));
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(out / "x509" / "data.bson")) << show(r);
  EXPECT_EQ(r.err.find(kKeyPassword), std::string::npos) << show(r);
  // mongo-tools' older spelling of the same flags.
  fs::path out2 = out_dir("enc") / "dump2";
  auto r2 = test::bsonpipe({"dump", "--host", host(), "--ssl", "--sslCAFile", certs().ca.string(), "--sslPEMKeyFile",
                            certs().client_enc.string(), "--sslPEMKeyPassword", kKeyPassword,
                            "--authenticationMechanism", "MONGODB-X509", "--db", "x509", "--out", out2.string()});
  EXPECT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_TRUE(fs::exists(out2 / "x509" / "data.bson")) << show(r2);
}

TEST_F(X509, WrongKeyPasswordNamesTheFile) {
  for (const std::vector<std::string>& pw :
       {std::vector<std::string>{"--tlsCertificateKeyFilePassword", "not-the-password"}, std::vector<std::string>{}}) {
    fs::path out = out_dir("wrongpw") / "dump";
    auto r = test::bsonpipe(
        cat({"dump"}, cat(x509_flags(certs().client_enc), cat(pw, {"--db", "x509", "--out", out.string()}))));
    EXPECT_EQ(r.exit_code, 1) << show(r);
    auto l = lines(r.err);
    ASSERT_EQ(l.size(), 1u) << show(r);
    EXPECT_NE(l[0].find(certs().client_enc.string()), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("not-the-password"), std::string::npos) << show(r);
    EXPECT_FALSE(fs::exists(out / "x509" / "data.bson"));
  }
}

TEST_F(X509, MissingCertificateFileNamesTheFile) {
  fs::path missing = out_dir("missing") / "no-such.pem";
  fs::path out = out_dir("missing") / "dump";
  auto r = test::bsonpipe(cat({"dump"}, cat(x509_flags(missing), {"--db", "x509", "--out", out.string()})));
  EXPECT_EQ(r.exit_code, 1) << show(r);
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 1u) << show(r);
  EXPECT_NE(l[0].find(missing.string()), std::string::npos) << show(r);
}

TEST_F(X509, CertificateThroughUriOptions) {
  fs::path out = out_dir("uri") / "dump";
  std::string uri = "mongodb://" + host() + "/?tls=true&tlsCAFile=" + certs().ca.string() +
                    "&tlsCertificateKeyFile=" + certs().client_enc.string() +
                    "&tlsCertificateKeyFilePassword=" + kKeyPassword + "&authMechanism=MONGODB-X509";
  auto r = test::bsonpipe({"dump", "--uri", uri, "--db", "x509", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(out / "x509" / "data.bson")) << show(r);
  EXPECT_EQ(r.err.find(kKeyPassword), std::string::npos) << show(r);
  // The user name in the URI is the certificate's subject, percent-encoded.
  fs::path out2 = out_dir("uri") / "dump2";
  std::string named = "mongodb://" + test_percent(kClientDn) + "@" + host() + "/?" + tls_options() +
                      "&authMechanism=MONGODB-X509&authSource=$external";
  auto r2 = test::bsonpipe({"dump", "--uri", named, "--db", "x509", "--out", out2.string()});
  EXPECT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_TRUE(fs::exists(out2 / "x509" / "data.bson")) << show(r2);
}

// An official driver (Debian's pymongo, for /usr/bin/python3) logs in the same way against minimongod.
TEST_F(X509, PymongoAuthenticatesWithTheCertificate) {
  const std::string script = R"(
import sys, pymongo
host, port, ca, cert = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = pymongo.MongoClient(host, port, tls=True, tlsCAFile=ca, tlsCertificateKeyFile=cert,
                        authMechanism="MONGODB-X509", serverSelectionTimeoutMS=30000)
print("count", c.x509.data.count_documents({}))
users = c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"]
print("users", ";".join(u["user"] + "@" + u["db"] for u in users))
)";
  auto r = test::run({"/usr/bin/python3", "-c", script, "localhost", std::to_string(server_->port()),
                      certs().ca.string(), certs().client.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("count 40\n"), std::string::npos) << show(r);
  EXPECT_NE(r.out.find("users " + std::string(kClientDn) + "@$external\n"), std::string::npos) << show(r);
}

}  // namespace
}  // namespace bsonpipe
