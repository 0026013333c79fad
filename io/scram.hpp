// SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) as MongoDB uses them: the primitives both sides
// share and the client conversation. The server side lives in minimongod (scram_server.hpp).
// Thread safety: free functions are reentrant; a ScramClient is a single-conversation object owned
// by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;

enum class ScramMechanism : std::uint8_t { kSha1, kSha256 };

std::string_view mechanism_name(ScramMechanism m);  // "SCRAM-SHA-1" / "SCRAM-SHA-256"
Result<ScramMechanism> parse_mechanism(std::string_view name);

// Base64 (standard alphabet, padded), as SCRAM messages carry salts, proofs and signatures.
std::string base64_encode(ByteSpan data);
Result<Bytes> base64_decode(std::string_view text);

// SASLprep (RFC 4013) restricted to ASCII: printable ASCII passes unchanged; control characters
// are refused; any non-ASCII byte fails with a clear "not supported" error.
Result<std::string> saslprep(std::string_view s);

// MongoDB's SCRAM-SHA-1 password: hex MD5 of "user:mongo:password".
std::string mongo_password_digest(std::string_view user, std::string_view password);
// The string fed to PBKDF2: the digest for SHA-1, SASLprep(password) for SHA-256.
Result<std::string> prepare_password(ScramMechanism m, std::string_view user, std::string_view password);

// H(), HMAC() and Hi() of the RFC for the mechanism's hash.
Bytes scram_hash(ScramMechanism m, ByteSpan data);
Bytes scram_hmac(ScramMechanism m, ByteSpan key, ByteSpan data);
Bytes scram_hi(ScramMechanism m, std::string_view prepared_password, ByteSpan salt, std::uint32_t iterations);

inline ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct ScramKeys {
  Bytes salted_password;
  Bytes client_key;
  Bytes stored_key;
  Bytes server_key;
};
ScramKeys derive_keys(ScramMechanism m, std::string_view prepared_password, ByteSpan salt, std::uint32_t iterations);
// ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage).
Bytes client_proof(ScramMechanism m, const ScramKeys& keys, std::string_view auth_message);
// ServerSignature = HMAC(ServerKey, AuthMessage).
Bytes server_signature(ScramMechanism m, ByteSpan server_key, std::string_view auth_message);
// a XOR b (same length): ClientProof from ClientKey, and back.
Bytes xor_bytes(ByteSpan a, ByteSpan b);
// Equal length and contents, compared in constant time (proofs and signatures).
bool constant_time_equal(ByteSpan a, ByteSpan b);

// "=" -> "=3D", "," -> "=2C".
std::string escape_username(std::string_view user);

// `n` bytes from OpenSSL's generator (salts); a fresh random nonce (printable, no ',').
Bytes random_bytes(std::size_t n);
std::string make_nonce();

// ---- message parsing ------------------------------------------------------------------------

// The errors of an exchange: a malformed message (kInvalidArgument), a failed authentication
// (kServer, "Authentication failed: ...").
Status scram_bad_message(std::string what);
Status scram_auth_failed(std::string what);

// Splits "a=x,b=y" into (letter, value) pairs. Values may contain '=' but not ','.
struct ScramAttr {
  char name;
  std::string_view value;
};
Result<std::vector<ScramAttr>> split_scram_attrs(std::string_view msg);

struct ServerFirst {
  std::string nonce;  // client nonce + server nonce
  Bytes salt;
  std::uint32_t iterations = 0;
  std::string text;  // the whole message, part of AuthMessage
};
Result<ServerFirst> parse_server_first(std::string_view msg);

struct ServerFinal {
  Bytes verifier;     // from "v="
  std::string error;  // from "e=", empty if none
};
Result<ServerFinal> parse_server_final(std::string_view msg);

// ---- client conversation --------------------------------------------------------------------

// The client side of one SCRAM exchange:
//   first_message() -> saslStart payload; handle_server_first(reply) -> saslContinue payload;
//   handle_server_final(reply) verifies the server's signature (mutual authentication).
class ScramClient {
 public:
  // What `password` holds: the user's plain password (prepared per mechanism: MongoDB's digest for
  // SHA-1, SASLprep for SHA-256), or the string fed to PBKDF2 as it is (the RFC 5802 vectors use
  // "pencil" with SHA-1 directly).
  enum class PasswordForm : std::uint8_t { kPlain, kPrepared };

  // `client_nonce` empty = random (tests pass the RFC's). A bad plain password (non-ASCII)
  // surfaces from first_message().
  ScramClient(ScramMechanism m, std::string user, std::string password, std::string client_nonce = {},
              PasswordForm form = PasswordForm::kPlain);

  Result<std::string> first_message();
  Result<std::string> handle_server_first(std::string_view server_first);
  Status handle_server_final(std::string_view server_final);
  bool done() const { return state_ == State::kDone; }
  ScramMechanism mechanism() const { return mech_; }

 private:
  enum class State : std::uint8_t { kStart, kSentFirst, kSentFinal, kDone, kFailed };
  ScramMechanism mech_;
  std::string user_;
  std::string password_;
  std::string nonce_;
  PasswordForm form_;
  std::string client_first_bare_;
  std::string auth_message_;
  Bytes server_key_;
  State state_ = State::kStart;
};

}  // namespace bsonpipe::io
