// The server side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) as mongod runs it: stored
// credentials derived from a password, and the conversation that checks a client's proof. Built on
// io/scram's shared primitives; the client half stays in io.
// Thread safety: free functions are reentrant; a ScramServer is a single-conversation object owned
// by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/scram.hpp"

namespace bsonpipe::minimongod {

// ---- message parsing ------------------------------------------------------------------------

struct ClientFirst {
  std::string gs2_header;  // "n,," (channel binding is not supported)
  std::string username;    // unescaped
  std::string nonce;
  std::string bare;  // client-first-message-bare, part of AuthMessage
};
Result<ClientFirst> parse_client_first(std::string_view msg);

struct ClientFinal {
  std::string channel_binding;  // base64 of the gs2 header: "biws"
  std::string nonce;
  formats::Bytes proof;
  std::string without_proof;  // part of AuthMessage
};
Result<ClientFinal> parse_client_final(std::string_view msg);

// ---- credentials and conversation -----------------------------------------------------------

// What a server stores per user and mechanism (never the password).
struct ScramCredentials {
  io::ScramMechanism mechanism = io::ScramMechanism::kSha256;
  formats::Bytes salt;
  std::uint32_t iterations = 15000;
  formats::Bytes stored_key;
  formats::Bytes server_key;
};
// Derives credentials from a plain password (prepared per mechanism). Empty salt = random 16/28.
Result<ScramCredentials> make_credentials(io::ScramMechanism m, std::string_view user, std::string_view password,
                                          formats::Bytes salt = {}, std::uint32_t iterations = 0);

// The server side of one exchange:
//   receive_client_first(msg) -> user name (caller looks up the credentials);
//   server_first(creds) -> reply payload; receive_client_final(msg) -> server-final payload, or an
//   authentication failure when the proof does not verify.
class ScramServer {
 public:
  explicit ScramServer(io::ScramMechanism m, std::string server_nonce = {});
  Result<std::string> receive_client_first(std::string_view msg);
  Result<std::string> server_first(const ScramCredentials& creds);
  Result<std::string> receive_client_final(std::string_view msg);
  bool done() const { return done_; }

 private:
  io::ScramMechanism mech_;
  std::string server_nonce_;
  ClientFirst client_first_;
  ScramCredentials creds_;
  std::string server_first_;
  std::string combined_nonce_;
  bool have_first_ = false;
  bool sent_first_ = false;
  bool done_ = false;
};

}  // namespace bsonpipe::minimongod
