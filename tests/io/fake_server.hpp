// A tiny loopback MongoDB server for io tests: answers the OP_QUERY handshake, SCRAM (minimongod's
// server half), and whatever a test's handler returns for each OP_MSG command, using our own wire
// codec.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/wire.hpp"
#include "tools/minimongod/scram_server.hpp"

namespace bsonpipe::io::test {

struct FakeResponse {
  enum class Kind { kReply, kClose, kStall };
  Kind kind = Kind::kReply;
  Bytes body;  // the reply's OP_MSG body
  static FakeResponse reply(Bytes b) { return {Kind::kReply, std::move(b)}; }
  static FakeResponse close() { return {Kind::kClose, {}}; }
  static FakeResponse stall() { return {Kind::kStall, {}}; }
};

struct FakeServerOptions {
  std::string set_name;  // empty: standalone
  bool secondary = false;
  std::vector<std::string> compressors = {"zlib", "zstd"};  // what the server supports
  std::optional<minimongod::ScramCredentials> credentials;  // enables saslStart/saslContinue
  std::string user;                                         // the user those credentials belong to
  bool never_answer_handshake = false;
};

struct SeenCommand {
  std::string name;
  Bytes body;
  bool compressed = false;
  bool checksum = false;
  std::vector<std::pair<std::string, std::size_t>> sequences;  // identifier, count
};

class FakeServer {
 public:
  using Handler = std::function<FakeResponse(const std::string& name, DocView body, const OpMsgView& msg)>;
  FakeServer(Handler handler, FakeServerOptions opts = {});
  ~FakeServer();
  std::uint16_t port() const { return port_; }
  std::vector<SeenCommand> seen() const;
  Bytes last_handshake() const;
  int connections_accepted() const { return accepted_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
};

// {ok: 1} plus whatever `extra` adds.
Bytes ok_reply(const std::function<void(formats::Builder&)>& extra = {});
// A cursor reply {cursor: {id, ns, firstBatch|nextBatch: docs}, ok: 1}.
Bytes cursor_reply(std::int64_t id, const std::string& ns, const std::vector<Bytes>& docs, bool first);

}  // namespace bsonpipe::io::test
