// The network side of minimongod: a loopback TCP listener (optionally TLS) speaking the MongoDB
// wire protocol (OP_QUERY handshake, OP_MSG, OP_COMPRESSED zstd/zlib) over an Engine, one thread
// per connection (commands of a connection run in order; connections run in parallel), with
// fault injection for tests. Client certificates (server.hpp ServerOptions::tls_ca_file) give a
// session the certificate subject that MONGODB-X509 authenticates as.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "formats/status.hpp"
#include "tools/minimongod/engine.hpp"

namespace bsonpipe::minimongod {

struct ServerOptions {
  // Loopback only: 127.0.0.1 (default) or ::1.
  std::string bind = "127.0.0.1";
  // 0 = an ephemeral port (read it back with port()).
  std::uint16_t port = 0;
  // PEM file holding the certificate chain and the private key; empty = plain TCP.
  std::string tls_certificate_key_file;
  // CA certificates (PEM) that sign acceptable client certificates. A client certificate, when
  // presented, must verify against them; its subject becomes the session's X.509 identity
  // (MONGODB-X509). Empty = client certificates are neither asked for nor accepted.
  std::string tls_ca_file;
  // Refuse (at the TLS handshake) a client that presents no certificate. Needs tls_ca_file.
  bool tls_require_client_cert = false;
  // Close a connection after it sent this many replies (0 = never).
  int fault_close_after = 0;
  // Sleep this long before running each command (0 = none).
  int fault_delay_ms = 0;
  // Only commands of this name (e.g. "insert") are delayed; empty = every command.
  std::string fault_delay_command;
  // Replies to this command (e.g. "find") whose cursor batch holds a document get that first
  // document's length set to run past the reply: a malformed reply, as a hostile server could
  // send. Empty = none.
  std::string fault_corrupt;
  // Refuse (BadValue) every insert whose writeConcern.w is not this ("majority", "1", ...; a
  // missing writeConcern counts as ""): lets a test see the write concern a client sends.
  // Empty = any.
  std::string require_write_concern;
  // Accept the test-only faultGate command (see fault_gate.hpp): a sync point for tests.
  bool fault_gate = false;
  // Connections served at once; more are closed at accept (bounded threads).
  std::size_t max_connections = 1024;
};

class Server {
 public:
  Server(Engine& engine, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting on a background thread. Sets the engine's host to bind:port.
  Status start();
  std::uint16_t port() const { return port_; }
  // Stops accepting, closes every connection and joins all threads. Idempotent.
  void stop();

 private:
  struct Impl;
  Engine& engine_;
  ServerOptions opts_;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace bsonpipe::minimongod
