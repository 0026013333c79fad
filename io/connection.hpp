// One client connection to a MongoDB server over Boost.Asio (TCP or TLS): connect, handshake,
// SCRAM or MONGODB-X509 authentication, compression, and synchronous command round trips with deadlines.
//
// Threading contract: a Connection is used by one thread at a time (a worker leases it from a
// Pool). Each Connection owns a private io_context that runs only inside its own calls, so no
// background thread exists. cancel() is the one exception: it may be called from any thread while
// the Connection is alive, and makes the in-flight (or next) operation fail with kCancelled.
// Nothing here throws: every failure is an Error value.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/errors.hpp"
#include "io/uri.hpp"
#include "io/wire.hpp"

namespace bsonpipe::io {

enum class TopologyKind : std::uint8_t {
  kStandalone,
  kReplicaSetPrimary,
  kReplicaSetSecondary,
  kReplicaSetOther,  // arbiter, recovering, hidden...
  kMongos,
};
std::string_view topology_kind_name(TopologyKind k);

// What the handshake learned about the server.
struct ServerInfo {
  std::size_t max_bson_object_size = kDefaultMaxBsonObjectSize;
  std::size_t max_message_size_bytes = kDefaultMaxMessageSize;
  std::size_t max_write_batch_size = kDefaultMaxWriteBatchSize;
  std::int32_t min_wire_version = 0;
  std::int32_t max_wire_version = 0;
  TopologyKind kind = TopologyKind::kStandalone;
  std::string set_name;  // replica-set members only
  std::string me;
  std::vector<std::string> hosts;  // replica-set members (hello's hosts)
  std::string primary;             // hello's primary, when known
  std::vector<std::string> sasl_supported_mechs;
  std::optional<CompressorId> compressor;  // negotiated, if any
  std::int64_t connection_id = 0;
  std::chrono::microseconds round_trip{0};  // of the handshake
  bool writable() const {
    return kind == TopologyKind::kStandalone || kind == TopologyKind::kReplicaSetPrimary ||
           kind == TopologyKind::kMongos;
  }
};

struct Credentials {
  std::string username;  // MONGODB-X509: optional (the server takes the certificate's subject)
  std::string password;
  std::string source = "admin";  // the authentication database ($external for MONGODB-X509)
  // Empty: SCRAM-SHA-256 when offered, else SCRAM-SHA-1. "MONGODB-X509": the `authenticate`
  // command, with the TLS client certificate (ConnectOptions::tls.certificate_key_file) as proof.
  std::string mechanism;
};

struct ConnectOptions {
  HostPort host;
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{10'000};  // resolve + connect + TLS + handshake + auth; 0 = none
  std::chrono::milliseconds socket_timeout{0};        // per command round trip; 0 = none
  std::string app_name;
  std::vector<CompressorId> compressors;  // offered in preference order
  int zlib_level = -1;
  std::optional<Credentials> credentials;
  bool checksum = false;  // add CRC-32C to outgoing OP_MSGs

  // Options for one host of a URI (credentials, TLS, timeouts, compressors, appName).
  static ConnectOptions from_uri(const Uri& uri, const HostPort& host);
};

// A command reply: the owned message and its OP_MSG body.
struct Reply {
  OwnedMessage message;
  DocView body() const;
};

struct CommandRequest {
  std::string_view db;  // becomes "$db"
  DocView command;      // the command document (without $db)
  std::vector<SequenceOut> sequences;
  // Per-call override of socket_timeout (0 = use the connection's).
  std::chrono::milliseconds timeout{0};
  bool expect_more_to_come = false;  // reserved: exhaust cursors are not used
};

class Connection {
 public:
  // Connects, runs the handshake (OP_QUERY isMaster with client metadata and compressors) and
  // authenticates when credentials are given. Network failures are retryable Errors.
  static Expected<std::unique_ptr<Connection>> open(const ConnectOptions& opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ServerInfo& server() const { return info_; }
  const HostPort& host() const { return opts_.host; }

  // Sends one OP_MSG command and reads its reply. ok:0 comes back as a server Error (with code,
  // codeName, labels). The command's document sequences are written straight from the caller's
  // buffers. After a network error, timeout or cancel the connection is broken (closed).
  Expected<Reply> run_command(const CommandRequest& req);
  // Shorthand: run `command` against `db`.
  Expected<Reply> run_command(std::string_view db, DocView command);
  // The two halves of run_command, for pipelining one request ahead (a cursor asks for its next
  // batch before it processes the current one): send returns the request id to pass to
  // receive_reply. At most one request may be outstanding.
  Expected<std::int32_t> send_command(const CommandRequest& req);
  Expected<Reply> receive_reply(std::int32_t request_id, std::chrono::milliseconds timeout = {});

  // Gives a finished reply's buffer back, so the next receive reuses it instead of allocating and
  // zero-filling a new one (at most two are kept).
  void recycle(Bytes&& buffer);

  // Any thread: abort the in-flight operation (or the next one) with kCancelled.
  void cancel();
  bool broken() const { return broken_; }

  // Low level, for tests and the handshake: send a prepared message / read the next message.
  Error send(const OutgoingMessage& msg, std::chrono::milliseconds timeout);
  Expected<OwnedMessage> receive(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit Connection(const ConnectOptions& opts);
  Error handshake();
  // A malformed reply body breaks the connection (network error naming the server and offset).
  Error check_reply(formats::DocView body);
  Error authenticate(const Credentials& c);
  std::chrono::milliseconds effective(std::chrono::milliseconds t) const;

  ConnectOptions opts_;
  ServerInfo info_;
  std::unique_ptr<Impl> impl_;
  bool broken_ = false;
  std::vector<Bytes> spare_;  // recycled receive buffers
};

// Parses a hello / isMaster reply into ServerInfo (exposed for server selection and tests).
ServerInfo parse_hello(DocView reply, const std::vector<CompressorId>& offered);

// Builds the handshake command (isMaster + helloOk + client metadata + compression, and
// saslSupportedMechs for `user_for_mechs` = "db.user" when not empty).
Bytes make_handshake_command(const ConnectOptions& opts, const std::string& user_for_mechs);

}  // namespace bsonpipe::io
