// SCRAM: the RFC 5802 (SHA-1) and RFC 7677 (SHA-256) exchanges, MongoDB's SHA-1 password digest,
// SASLprep limits, message parsing, and a client against our own server side (minimongod's).
#include "io/scram.hpp"

#include <gtest/gtest.h>

#include "tools/minimongod/scram_server.hpp"

namespace bsonpipe::io {
namespace {

using minimongod::make_credentials;
using minimongod::parse_client_final;
using minimongod::parse_client_first;
using minimongod::ScramServer;

TEST(ScramTest, Base64RoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string enc = base64_encode(as_bytes(s));
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(std::string(dec->begin(), dec->end()), s);
  }
  EXPECT_EQ(base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(as_bytes("fo")), "Zm8=");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab=c"));
  EXPECT_FALSE(base64_decode("a*bc"));
}

TEST(ScramTest, Rfc5802Sha1Exchange) {
  // RFC 5802 section 5 uses the plain password "pencil" (no MongoDB digest).
  ScramClient c(ScramMechanism::kSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL",
                ScramClient::PasswordForm::kPrepared);
  auto first = c.first_message();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  auto final_msg = c.handle_server_first("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
  ASSERT_TRUE(final_msg) << final_msg.status().to_string();
  EXPECT_EQ(*final_msg, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  EXPECT_FALSE(c.done());
  Status s = c.handle_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
  EXPECT_TRUE(s) << s.to_string();
  EXPECT_TRUE(c.done());
}

TEST(ScramTest, Rfc7677Sha256Exchange) {
  ScramClient c(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  auto first = c.first_message();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto final_msg =
      c.handle_server_first("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  ASSERT_TRUE(final_msg) << final_msg.status().to_string();
  EXPECT_EQ(
      *final_msg,
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  Status s = c.handle_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_TRUE(s) << s.to_string();
  EXPECT_TRUE(c.done());
}

TEST(ScramTest, Rfc7677ServerSide) {
  // Our server side reproduces the RFC's server messages from the same salt and nonces.
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt);
  auto creds = make_credentials(ScramMechanism::kSha256, "user", "pencil", *salt, 4096);
  ASSERT_TRUE(creds);
  ScramServer srv(ScramMechanism::kSha256, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto user = srv.receive_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(user);
  EXPECT_EQ(*user, "user");
  auto sf = srv.server_first(*creds);
  ASSERT_TRUE(sf);
  EXPECT_EQ(*sf, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto fin = srv.receive_client_final(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_TRUE(fin) << fin.status().to_string();
  EXPECT_EQ(*fin, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_TRUE(srv.done());
}

TEST(ScramTest, ServerRejectsWrongProof) {
  auto creds = make_credentials(ScramMechanism::kSha256, "user", "pencil", {}, 4096);
  ASSERT_TRUE(creds);
  ScramClient c(ScramMechanism::kSha256, "user", "wrong");
  ScramServer srv(ScramMechanism::kSha256);
  auto f = c.first_message();
  ASSERT_TRUE(f);
  ASSERT_TRUE(srv.receive_client_first(*f));
  auto sf = srv.server_first(*creds);
  ASSERT_TRUE(sf);
  auto cf = c.handle_server_first(*sf);
  ASSERT_TRUE(cf);
  auto fin = srv.receive_client_final(*cf);
  ASSERT_FALSE(fin);
  EXPECT_NE(fin.status().message().find("Authentication failed"), std::string::npos);
}

class ScramMechTest : public ::testing::TestWithParam<ScramMechanism> {};

TEST_P(ScramMechTest, ClientAndServerAgree) {
  const ScramMechanism m = GetParam();
  // User names with ',' and '=' are escaped on the wire.
  const std::string user = "a,b=c";
  auto creds = make_credentials(m, user, "s3cret!", {}, 4096);
  ASSERT_TRUE(creds);
  ScramClient c(m, user, "s3cret!");
  ScramServer srv(m);
  auto f = c.first_message();
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("n=a=2Cb=3Dc"), std::string::npos);
  auto u = srv.receive_client_first(*f);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, user);
  auto sf = srv.server_first(*creds);
  ASSERT_TRUE(sf);
  auto cf = c.handle_server_first(*sf);
  ASSERT_TRUE(cf);
  auto fin = srv.receive_client_final(*cf);
  ASSERT_TRUE(fin) << fin.status().to_string();
  EXPECT_TRUE(c.handle_server_final(*fin));
  EXPECT_TRUE(c.done());
}

TEST_P(ScramMechTest, ClientRejectsForgedServerSignature) {
  const ScramMechanism m = GetParam();
  auto creds = make_credentials(m, "u", "p", {}, 4096);
  ASSERT_TRUE(creds);
  ScramClient c(m, "u", "p");
  ScramServer srv(m);
  auto f = c.first_message();
  ASSERT_TRUE(srv.receive_client_first(*f));
  auto cf = c.handle_server_first(*srv.server_first(*creds));
  ASSERT_TRUE(cf);
  Bytes forged(m == ScramMechanism::kSha1 ? 20 : 32, 0xAB);
  Status s = c.handle_server_final("v=" + base64_encode(forged));
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("signature"), std::string::npos);
  EXPECT_FALSE(c.done());
}

INSTANTIATE_TEST_SUITE_P(Mechs, ScramMechTest, ::testing::Values(ScramMechanism::kSha1, ScramMechanism::kSha256),
                         [](const auto& info) { return info.param == ScramMechanism::kSha1 ? "sha1" : "sha256"; });

TEST(ScramTest, MongoSha1PasswordDigest) {
  // hex(MD5("user:mongo:pencil")), the value MongoDB feeds to SCRAM-SHA-1's PBKDF2.
  EXPECT_EQ(mongo_password_digest("user", "pencil"), "1c33006ec1ffd90f9cadcbcc0e118200");
  auto p = prepare_password(ScramMechanism::kSha1, "user", "pencil");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "1c33006ec1ffd90f9cadcbcc0e118200");
  auto q = prepare_password(ScramMechanism::kSha256, "user", "pencil");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, "pencil");
}

TEST(ScramTest, SaslprepAsciiOnly) {
  EXPECT_EQ(*saslprep("I-am a p@ssw0rd~"), "I-am a p@ssw0rd~");
  auto na = saslprep("p\xC3\xA4ss");
  ASSERT_FALSE(na);
  EXPECT_NE(na.status().message().find("non-ASCII"), std::string::npos);
  EXPECT_FALSE(
      saslprep(std::string("a\x07"
                           "b")));
  EXPECT_FALSE(saslprep("a\x7f"));
  // The error surfaces from the client's first step, before any round trip.
  ScramClient c(ScramMechanism::kSha256, "u", "p\xC3\xA4ss");
  EXPECT_FALSE(c.first_message());
  // SHA-1 hashes the password first, so non-ASCII is fine there.
  ScramClient c1(ScramMechanism::kSha1, "u", "p\xC3\xA4ss");
  EXPECT_TRUE(c1.first_message());
}

TEST(ScramTest, ParsingRejectsMalformedMessages) {
  EXPECT_FALSE(parse_client_first("n=user,r=abc"));
  EXPECT_FALSE(parse_client_first("p=tls-unique,,n=user,r=abc"));
  EXPECT_FALSE(parse_client_first("n,,r=abc,n=user"));
  EXPECT_FALSE(parse_client_first("n,,n=us=5Cer,r=abc"));
  auto ok = parse_client_first("n,,n=user,r=abc");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->bare, "n=user,r=abc");
  EXPECT_EQ(ok->gs2_header, "n,,");

  EXPECT_FALSE(parse_server_first("r=abc,s=QSXCR+Q6sek8bf92"));
  EXPECT_FALSE(parse_server_first("m=ext,r=abc,s=QSXCR+Q6sek8bf92,i=4096"));
  EXPECT_FALSE(parse_server_first("r=abc,s=QSXCR+Q6sek8bf92,i=40x6"));
  EXPECT_FALSE(parse_server_first("r=abc,s=***,i=4096"));

  EXPECT_FALSE(parse_client_final("c=biws,r=abc"));
  EXPECT_FALSE(parse_server_final("x=1"));
  auto e = parse_server_final("e=invalid-proof");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "invalid-proof");
}

TEST(ScramTest, ClientChecksNonceAndIterations) {
  {
    ScramClient c(ScramMechanism::kSha256, "user", "pencil", "clientnonce");
    ASSERT_TRUE(c.first_message());
    auto r = c.handle_server_first("r=othernonce123,s=QSXCR+Q6sek8bf92,i=4096");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("nonce"), std::string::npos);
  }
  {
    ScramClient c(ScramMechanism::kSha256, "user", "pencil", "clientnonce");
    ASSERT_TRUE(c.first_message());
    auto r = c.handle_server_first("r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=100");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("iteration"), std::string::npos);
  }
  {  // Out-of-order calls.
    ScramClient c(ScramMechanism::kSha256, "user", "pencil");
    EXPECT_FALSE(c.handle_server_first("r=a,s=QSXCR+Q6sek8bf92,i=4096"));
    EXPECT_FALSE(c.handle_server_final("v=abcd"));
  }
  auto m = parse_mechanism("SCRAM-SHA-256");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, ScramMechanism::kSha256);
  EXPECT_FALSE(parse_mechanism("PLAIN"));
  EXPECT_EQ(mechanism_name(ScramMechanism::kSha1), "SCRAM-SHA-1");
}

}  // namespace
}  // namespace bsonpipe::io
