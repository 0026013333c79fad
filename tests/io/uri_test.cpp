// Connection strings: valid forms, every supported option, and clear errors for invalid ones.
#include "io/uri.hpp"

#include <gtest/gtest.h>

namespace bsonpipe::io {
namespace {

Uri must_parse(std::string_view s) {
  auto u = parse_uri(s);
  EXPECT_TRUE(u) << s << ": " << u.status().to_string();
  return u ? std::move(*u) : Uri{};
}

TEST(UriTest, MinimalAndDefaults) {
  Uri u = must_parse("mongodb://localhost");
  ASSERT_EQ(u.hosts.size(), 1u);
  EXPECT_EQ(u.hosts[0].host, "localhost");
  EXPECT_EQ(u.hosts[0].port, 27017);
  EXPECT_FALSE(u.has_credentials);
  EXPECT_EQ(u.database, "");
  EXPECT_EQ(u.auth_database(), "admin");
  EXPECT_EQ(u.read_preference, ReadPreferenceMode::kPrimary);
  EXPECT_FALSE(u.tls.enabled);
  EXPECT_EQ(u.connect_timeout.count(), 10000);
  EXPECT_EQ(u.socket_timeout.count(), 0);
  EXPECT_TRUE(u.compressors.empty());
  must_parse("mongodb://localhost/");
  must_parse("mongodb://localhost/?");
}

TEST(UriTest, CredentialsHostsDatabase) {
  Uri u = must_parse("mongodb://us%40er:p%3Ass%2Fw%25rd@Host1.example:27018,host2,[::1]:27020/mydb");
  EXPECT_TRUE(u.has_credentials);
  EXPECT_EQ(u.username, "us@er");
  EXPECT_EQ(u.password, "p:ss/w%rd");
  ASSERT_EQ(u.hosts.size(), 3u);
  EXPECT_EQ(u.hosts[0], (HostPort{"host1.example", 27018}));
  EXPECT_EQ(u.hosts[1], (HostPort{"host2", 27017}));
  EXPECT_EQ(u.hosts[2], (HostPort{"::1", 27020}));
  EXPECT_EQ(u.hosts[2].to_string(), "[::1]:27020");
  EXPECT_EQ(u.database, "mydb");
  EXPECT_EQ(u.auth_database(), "mydb");
  Uri nopass = must_parse("mongodb://alice@127.0.0.1");
  EXPECT_TRUE(nopass.has_credentials);
  EXPECT_EQ(nopass.password, "");
}

TEST(UriTest, AllOptions) {
  Uri u = must_parse(
      "mongodb://u:p@h1,h2/db?authSource=admin&authMechanism=SCRAM-SHA-256&replicaSet=rs0"
      "&readPreference=secondaryPreferred&directConnection=false&tls=true&tlsCAFile=%2Fetc%2Fca.pem"
      "&tlsCertificateKeyFile=/etc/client.pem&tlsAllowInvalidCertificates=true&compressors=zstd,zlib"
      "&zlibCompressionLevel=6&connectTimeoutMS=2500&socketTimeoutMS=60000&appName=nightly%20dump"
      "&serverSelectionTimeoutMS=5000&maxPoolSize=8&retryWrites=false&w=majority&journal=true&wTimeoutMS=100"
      "&readConcernLevel=majority");
  EXPECT_EQ(u.auth_source, "admin");
  EXPECT_EQ(u.auth_database(), "admin");
  EXPECT_EQ(u.auth_mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(u.replica_set, "rs0");
  EXPECT_EQ(u.read_preference, ReadPreferenceMode::kSecondaryPreferred);
  ASSERT_TRUE(u.direct_connection.has_value());
  EXPECT_FALSE(*u.direct_connection);
  EXPECT_TRUE(u.tls.enabled);
  EXPECT_EQ(u.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(u.tls.certificate_key_file, "/etc/client.pem");
  EXPECT_TRUE(u.tls.allow_invalid_certificates);
  EXPECT_FALSE(u.tls.allow_invalid_hostnames);
  ASSERT_EQ(u.compressors.size(), 2u);
  EXPECT_EQ(u.compressors[0], CompressorId::kZstd);
  EXPECT_EQ(u.compressors[1], CompressorId::kZlib);
  EXPECT_EQ(u.zlib_compression_level, 6);
  EXPECT_EQ(u.connect_timeout.count(), 2500);
  EXPECT_EQ(u.socket_timeout.count(), 60000);
  EXPECT_EQ(u.server_selection_timeout.count(), 5000);
  EXPECT_EQ(u.app_name, "nightly dump");
  EXPECT_EQ(u.max_pool_size, 8u);
  EXPECT_EQ(u.retry_writes, false);
  EXPECT_EQ(u.write_concern_w, "majority");
  EXPECT_EQ(u.journal, true);
  EXPECT_EQ(u.wtimeout.count(), 100);
  EXPECT_EQ(u.read_concern_level, "majority");
}

TEST(UriTest, OptionNamesAreCaseInsensitiveAndSslIsAnAlias) {
  Uri u = must_parse("mongodb://h/?SSL=true&TLSINSECURE=true&ReplicaSet=x");
  EXPECT_TRUE(u.tls.enabled);
  EXPECT_TRUE(u.tls.allow_invalid_certificates);
  EXPECT_TRUE(u.tls.allow_invalid_hostnames);
  EXPECT_EQ(u.replica_set, "x");
  Uri d = must_parse("mongodb://h/?directConnection=true");
  EXPECT_EQ(d.direct_connection, true);
}

TEST(UriTest, InvalidUrisHaveClearErrors) {
  struct Case {
    const char* uri;
    const char* needle;
  };
  const Case cases[] = {
      {"mongodb+srv://cluster0.example.net/", "mongodb+srv"},
      {"http://localhost", "mongodb://"},
      {"mongodb://", "no host"},
      {"mongodb://h:0", "port"},
      {"mongodb://h:70000", "port"},
      {"mongodb://h:12x", "port"},
      {"mongodb://h:", "empty port"},
      {"mongodb://h1,,h2", "empty host"},
      {"mongodb://::1", "brackets"},
      {"mongodb://[::1", "IPv6"},
      {"mongodb://u:p@x@h", "%40"},
      {"mongodb://u:p:q@h", "%3A"},
      {"mongodb://:p@h", "user name"},
      {"mongodb://u:p%zz@h", "percent"},
      {"mongodb://h/?bogus=1", "unknown option 'bogus'"},
      {"mongodb://h/?tls=yes", "true or false"},
      {"mongodb://h/?readPreference=fastest", "readPreference"},
      {"mongodb://h/?authMechanism=PLAIN", "PLAIN"},
      {"mongodb://u@h/?authMechanism=GSSAPI", "GSSAPI"},
      {"mongodb://h/?authMechanism=SCRAM-SHA-1", "user name"},
      {"mongodb://h/?compressors=snappy", "snappy"},
      {"mongodb://h/?compressors=lz4", "lz4"},
      {"mongodb://h/?connectTimeoutMS=-1", "connectTimeoutMS"},
      {"mongodb://h/?socketTimeoutMS=abc", "socketTimeoutMS"},
      {"mongodb://h/?zlibCompressionLevel=10", "zlibCompressionLevel"},
      {"mongodb://h/?tlsCAFile=/ca.pem", "require tls=true"},
      {"mongodb://h/?tls=true&ssl=false", "disagree"},
      {"mongodb://h1,h2/?directConnection=true", "exactly one host"},
      {"mongodb://h/?appName", "no value"},
      {"mongodb://h/?w=lots", "majority"},
      {"mongodb://h?replicaSet=x", "'/'"},
      {"mongodb:///tmp/mongodb-27017.sock", "no host"},
      {"mongodb://%2Ftmp%2Fmongodb-27017.sock", "Unix domain"},
  };
  for (const auto& c : cases) {
    auto r = parse_uri(c.uri);
    ASSERT_FALSE(r) << c.uri;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << c.uri << " -> " << r.status().message();
  }
}

TEST(UriTest, RedactedNeverShowsThePassword) {
  Uri u = must_parse(
      "mongodb://admin:Sup3rS3cret%21@h1:27018,h2/db?replicaSet=rs&tls=true&tlsCertificateKeyFilePassword=pemSecret"
      "&compressors=zstd&appName=x");
  std::string r = u.redacted();
  EXPECT_EQ(r.find("Sup3rS3cret"), std::string::npos) << r;
  EXPECT_EQ(r.find("pemSecret"), std::string::npos) << r;
  EXPECT_NE(r.find("admin:***@h1:27018,h2:27017/db?"), std::string::npos) << r;
  EXPECT_NE(r.find("replicaSet=rs"), std::string::npos) << r;
  EXPECT_NE(r.find("compressors=zstd"), std::string::npos) << r;
  // The redacted form parses back to the same hosts and options.
  Uri back = must_parse(r);
  EXPECT_EQ(back.hosts, u.hosts);
  EXPECT_EQ(back.replica_set, "rs");
  EXPECT_EQ(back.password, "***");
  EXPECT_EQ(must_parse("mongodb://h").redacted(), "mongodb://h:27017/");
}

}  // namespace
}  // namespace bsonpipe::io
