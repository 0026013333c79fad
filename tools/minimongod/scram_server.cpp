#include "tools/minimongod/scram_server.hpp"

#include <utility>

namespace bsonpipe::minimongod {

using formats::Bytes;
using io::as_bytes;
using io::ScramMechanism;

namespace {

// "=3D" -> "=", "=2C" -> "," (the inverse of io::escape_username).
Result<std::string> unescape_username(std::string_view user) {
  std::string out;
  for (std::size_t i = 0; i < user.size(); ++i) {
    if (user[i] == ',') return io::scram_bad_message("unescaped ',' in user name");
    if (user[i] != '=') {
      out += user[i];
      continue;
    }
    std::string_view esc = user.substr(i, 3);
    if (esc == "=3D")
      out += '=';
    else if (esc == "=2C")
      out += ',';
    else
      return io::scram_bad_message("bad escape in user name");
    i += 2;
  }
  return out;
}

}  // namespace

Result<ClientFirst> parse_client_first(std::string_view msg) {
  ClientFirst cf;
  // gs2-header: cbind-flag "," [authzid] ","
  std::size_t c1 = msg.find(',');
  if (c1 == std::string_view::npos) return io::scram_bad_message("client-first without a GS2 header");
  std::size_t c2 = msg.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return io::scram_bad_message("client-first without a GS2 header");
  std::string_view flag = msg.substr(0, c1);
  if (flag != "n" && flag != "y") {
    if (!flag.empty() && flag[0] == 'p') return io::scram_bad_message("channel binding is not supported");
    return io::scram_bad_message("bad GS2 channel-binding flag '" + std::string(flag) + "'");
  }
  cf.gs2_header = std::string(msg.substr(0, c2 + 1));
  cf.bare = std::string(msg.substr(c2 + 1));
  auto attrs = io::split_scram_attrs(cf.bare);
  if (!attrs) return attrs.status();
  if (attrs->size() < 2 || (*attrs)[0].name != 'n' || (*attrs)[1].name != 'r')
    return io::scram_bad_message("client-first must start with n=user,r=nonce");
  auto user = unescape_username((*attrs)[0].value);
  if (!user) return user.status();
  cf.username = std::move(*user);
  cf.nonce = std::string((*attrs)[1].value);
  if (cf.nonce.empty()) return io::scram_bad_message("empty client nonce");
  return cf;
}

Result<ClientFinal> parse_client_final(std::string_view msg) {
  std::size_t p = msg.rfind(",p=");
  if (p == std::string_view::npos) return io::scram_bad_message("client-final without a proof");
  ClientFinal cf;
  cf.without_proof = std::string(msg.substr(0, p));
  auto proof = io::base64_decode(msg.substr(p + 3));
  if (!proof) return proof.status();
  cf.proof = std::move(*proof);
  auto attrs = io::split_scram_attrs(cf.without_proof);
  if (!attrs) return attrs.status();
  for (const auto& a : *attrs) {
    if (a.name == 'c') cf.channel_binding = std::string(a.value);
    if (a.name == 'r') cf.nonce = std::string(a.value);
  }
  if (cf.channel_binding.empty() || cf.nonce.empty()) return io::scram_bad_message("client-final needs c= and r=");
  return cf;
}

Result<ScramCredentials> make_credentials(ScramMechanism m, std::string_view user, std::string_view password,
                                          Bytes salt, std::uint32_t iterations) {
  auto prepared = io::prepare_password(m, user, password);
  if (!prepared) return prepared.status();
  ScramCredentials c;
  c.mechanism = m;
  c.salt = salt.empty() ? io::random_bytes(m == ScramMechanism::kSha1 ? 16 : 28) : std::move(salt);
  c.iterations = iterations != 0 ? iterations : (m == ScramMechanism::kSha1 ? 10000 : 15000);
  io::ScramKeys k = io::derive_keys(m, *prepared, c.salt, c.iterations);
  c.stored_key = std::move(k.stored_key);
  c.server_key = std::move(k.server_key);
  return c;
}

ScramServer::ScramServer(ScramMechanism m, std::string server_nonce)
    : mech_(m), server_nonce_(std::move(server_nonce)) {
  if (server_nonce_.empty()) server_nonce_ = io::make_nonce();
}

Result<std::string> ScramServer::receive_client_first(std::string_view msg) {
  if (have_first_) return Status(ErrorCode::kInvalidArgument, "SCRAM server: client-first received twice");
  auto cf = parse_client_first(msg);
  if (!cf) return cf.status();
  client_first_ = std::move(*cf);
  have_first_ = true;
  return client_first_.username;
}

Result<std::string> ScramServer::server_first(const ScramCredentials& creds) {
  if (!have_first_ || sent_first_) return Status(ErrorCode::kInvalidArgument, "SCRAM server: out of order");
  if (creds.mechanism != mech_) return Status(ErrorCode::kInvalidArgument, "SCRAM server: credential mismatch");
  creds_ = creds;
  combined_nonce_ = client_first_.nonce + server_nonce_;
  server_first_ =
      "r=" + combined_nonce_ + ",s=" + io::base64_encode(creds_.salt) + ",i=" + std::to_string(creds_.iterations);
  sent_first_ = true;
  return server_first_;
}

Result<std::string> ScramServer::receive_client_final(std::string_view msg) {
  if (!sent_first_ || done_) return Status(ErrorCode::kInvalidArgument, "SCRAM server: out of order");
  auto cf = parse_client_final(msg);
  if (!cf) return cf.status();
  if (cf->channel_binding != io::base64_encode(as_bytes(client_first_.gs2_header)))
    return io::scram_auth_failed("channel binding mismatch");
  if (cf->nonce != combined_nonce_) return io::scram_auth_failed("nonce mismatch");
  std::string auth_message = client_first_.bare + "," + server_first_ + "," + cf->without_proof;
  Bytes signature = io::scram_hmac(mech_, creds_.stored_key, as_bytes(auth_message));
  if (cf->proof.size() != signature.size()) return io::scram_auth_failed("bad proof length");
  // ClientKey = ClientProof XOR ClientSignature; its hash must be the stored key.
  Bytes client_key = io::xor_bytes(cf->proof, signature);
  if (!io::constant_time_equal(io::scram_hash(mech_, client_key), creds_.stored_key))
    return io::scram_auth_failed("invalid proof");
  done_ = true;
  return "v=" + io::base64_encode(io::server_signature(mech_, creds_.server_key, auth_message));
}

}  // namespace bsonpipe::minimongod
