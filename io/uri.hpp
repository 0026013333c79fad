// The MongoDB connection string: `mongodb://[user:pass@]host1[:port1][,host2...]/[db][?options]`,
// parsed strictly (unknown options and bad values are errors, not warnings).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/status.hpp"
#include "io/wire.hpp"

namespace bsonpipe::io {

struct HostPort {
  std::string host;  // lower-cased; IPv6 without brackets
  std::uint16_t port = 27017;
  std::string to_string() const;  // "host:port", "[::1]:port"
  bool operator==(const HostPort&) const = default;
};

enum class ReadPreferenceMode : std::uint8_t {
  kPrimary,
  kPrimaryPreferred,
  kSecondary,
  kSecondaryPreferred,
  kNearest,
};
std::string_view read_preference_name(ReadPreferenceMode m);  // "primary", "secondaryPreferred", ...
Result<ReadPreferenceMode> parse_read_preference(std::string_view s);

struct TlsOptions {
  bool enabled = false;                     // tls=true / ssl=true
  std::string ca_file;                      // tlsCAFile; empty = system default trust store
  std::string certificate_key_file;         // tlsCertificateKeyFile (PEM: certificate + key)
  std::string certificate_key_password;     // tlsCertificateKeyFilePassword
  bool allow_invalid_certificates = false;  // tlsAllowInvalidCertificates (also via tlsInsecure)
  bool allow_invalid_hostnames = false;     // tlsAllowInvalidHostnames (also via tlsInsecure)
};

struct Uri {
  std::vector<HostPort> hosts;
  bool has_credentials = false;
  std::string username;  // percent-decoded
  std::string password;  // percent-decoded; never printed (see redacted())
  std::string database;  // the path's database, empty if none

  std::string auth_source;     // authSource; empty = database, else "admin"
  std::string auth_mechanism;  // authMechanism; empty = negotiated (SCRAM-SHA-256, else SCRAM-SHA-1)
  std::string replica_set;     // replicaSet
  ReadPreferenceMode read_preference = ReadPreferenceMode::kPrimary;  // readPreference
  std::optional<bool> direct_connection;                              // directConnection
  TlsOptions tls;
  std::vector<CompressorId> compressors;                       // compressors, in preference order
  int zlib_compression_level = -1;                             // zlibCompressionLevel (-1 = library default)
  std::chrono::milliseconds connect_timeout{10'000};           // connectTimeoutMS (0 = none)
  std::chrono::milliseconds socket_timeout{0};                 // socketTimeoutMS (0 = none)
  std::chrono::milliseconds server_selection_timeout{30'000};  // serverSelectionTimeoutMS
  std::string app_name;                                        // appName (≤ 128 bytes)
  std::size_t max_pool_size = 100;                             // maxPoolSize (0 = unbounded → 100)
  std::optional<bool> retry_writes;                            // retryWrites (accepted, recorded)
  std::optional<bool> retry_reads;                             // retryReads
  std::string write_concern_w;                                 // w: "majority", "1", ... empty = default
  std::optional<bool> journal;                                 // journal
  std::chrono::milliseconds wtimeout{0};                       // wTimeoutMS
  std::string read_concern_level;                              // readConcernLevel

  // The database that holds the credentials.
  std::string auth_database() const;
  // The URI with the password replaced by "***" and options in canonical spelling; safe to log.
  std::string redacted() const;
};

// Parses and validates a connection string. mongodb+srv:// is refused with a clear message
// (no DNS SRV resolution here); unknown options and invalid values are errors.
Result<Uri> parse_uri(std::string_view text);

// The connection and namespace flags mongodump/mongorestore take beside --uri
// (common/options/options.go). Empty strings and false mean "not given".
struct CommandLineConnection {
  std::string host;  // --host: host[:port][,host...], or setName/host1[,host2...]
  std::string port;  // --port
  std::string username;
  std::string password;
  std::string auth_source;     // --authenticationDatabase
  std::string auth_mechanism;  // --authenticationMechanism
  std::string compressors;     // --compressors
  bool tls = false;            // --tls/--ssl
  std::string tls_ca_file;
  bool tls_insecure = false;
  std::string tls_certificate_key_file;
  std::string tls_certificate_key_password;
  std::string db;  // --db: set from the URI's database when not given
};

// Combines a connection string ("" = one built from --host and --port) with the flags as
// mongo-tools does: a flag the URI also sets must agree with it (else mongo-tools' "Invalid
// Options: Cannot specify different ..." error), a flag the URI lacks is added to it, and an
// empty `flags.db` takes the URI's database. --db never goes into the URI (the authentication
// database stays the URI's). Returns the combined connection string, not yet validated further
// than parse_uri does.
Result<std::string> merge_command_line(std::string_view uri, CommandLineConnection& flags);

// Percent-decoding (no '+' to space: that is form encoding, not URI encoding).
Result<std::string> percent_decode(std::string_view s);

}  // namespace bsonpipe::io
