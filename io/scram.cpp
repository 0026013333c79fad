#include "io/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <random>
#include <vector>

namespace bsonpipe::io {

namespace {

const EVP_MD* md_of(ScramMechanism m) {
  return m == ScramMechanism::kSha1 ? EVP_sha1() : EVP_sha256();
}

constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint32_t kMinIterations = 4096;

}  // namespace

Status scram_bad_message(std::string what) {
  return Status(ErrorCode::kInvalidArgument, "malformed SCRAM message: " + std::move(what));
}

Status scram_auth_failed(std::string what) {
  return Status(ErrorCode::kServer, "Authentication failed: " + std::move(what));
}

Result<std::vector<ScramAttr>> split_scram_attrs(std::string_view msg) {
  std::vector<ScramAttr> out;
  std::size_t pos = 0;
  while (pos <= msg.size()) {
    std::size_t comma = msg.find(',', pos);
    std::string_view part = msg.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (part.size() < 2 || part[1] != '=') return scram_bad_message("bad attribute '" + std::string(part) + "'");
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Bytes xor_bytes(ByteSpan a, ByteSpan b) {
  Bytes out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

bool constant_time_equal(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    // Only when OpenSSL's entropy source is unusable: the OS device still gives unique nonces.
    std::random_device rd;
    for (auto& b : out) b = static_cast<std::uint8_t>(rd());
  }
  return out;
}

std::string_view mechanism_name(ScramMechanism m) {
  return m == ScramMechanism::kSha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

Result<ScramMechanism> parse_mechanism(std::string_view name) {
  if (name == "SCRAM-SHA-1") return ScramMechanism::kSha1;
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  return Status(ErrorCode::kInvalidArgument, "unsupported authentication mechanism '" + std::string(name) +
                                                 "' (supported: SCRAM-SHA-1, SCRAM-SHA-256)");
}

std::string base64_encode(ByteSpan data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8) | data[i + 2];
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t(data[i]) << 16;
    if (rest == 2) v |= std::uint32_t(data[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return scram_bad_message("base64 length is not a multiple of 4");
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      std::uint32_t d = 0;
      if (c == '=') {
        if (i + 4 != text.size() || k < 2) return scram_bad_message("misplaced base64 padding");
        ++pad;
      } else {
        if (pad > 0) return scram_bad_message("misplaced base64 padding");
        auto p = kB64.find(c);
        if (p == std::string_view::npos) return scram_bad_message("invalid base64 character");
        d = static_cast<std::uint32_t>(p);
      }
      v = (v << 6) | d;
    }
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(v >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

Result<std::string> saslprep(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80)
      return Status(ErrorCode::kInvalidArgument, "SASLprep of non-ASCII passwords is not supported (byte " +
                                                     std::to_string(i) + "); use an ASCII password or SCRAM-SHA-1");
    if (c < 0x20 || c == 0x7F)
      return Status(ErrorCode::kInvalidArgument, "SASLprep: prohibited control character at byte " + std::to_string(i));
  }
  return std::string(s);
}

std::string mongo_password_digest(std::string_view user, std::string_view password) {
  std::string input = std::string(user) + ":mongo:" + std::string(password);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<std::string> prepare_password(ScramMechanism m, std::string_view user, std::string_view password) {
  if (m == ScramMechanism::kSha1) return mongo_password_digest(user, password);
  return saslprep(password);
}

Bytes scram_hash(ScramMechanism m, ByteSpan data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, md_of(m), nullptr);
  return Bytes(md, md + len);
}

Bytes scram_hmac(ScramMechanism m, ByteSpan key, ByteSpan data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md_of(m), key.data(), static_cast<int>(key.size()), data.data(), data.size(), md, &len);
  return Bytes(md, md + len);
}

Bytes scram_hi(ScramMechanism m, std::string_view prepared_password, ByteSpan salt, std::uint32_t iterations) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md_of(m))));
  PKCS5_PBKDF2_HMAC(prepared_password.data(), static_cast<int>(prepared_password.size()), salt.data(),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), md_of(m), static_cast<int>(out.size()),
                    out.data());
  return out;
}

ScramKeys derive_keys(ScramMechanism m, std::string_view prepared_password, ByteSpan salt, std::uint32_t iterations) {
  ScramKeys k;
  k.salted_password = scram_hi(m, prepared_password, salt, iterations);
  k.client_key = scram_hmac(m, k.salted_password, as_bytes("Client Key"));
  k.stored_key = scram_hash(m, k.client_key);
  k.server_key = scram_hmac(m, k.salted_password, as_bytes("Server Key"));
  return k;
}

Bytes client_proof(ScramMechanism m, const ScramKeys& keys, std::string_view auth_message) {
  return xor_bytes(keys.client_key, scram_hmac(m, keys.stored_key, as_bytes(auth_message)));
}

Bytes server_signature(ScramMechanism m, ByteSpan server_key, std::string_view auth_message) {
  return scram_hmac(m, server_key, as_bytes(auth_message));
}

std::string escape_username(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == '=')
      out += "=3D";
    else if (c == ',')
      out += "=2C";
    else
      out += c;
  }
  return out;
}

std::string make_nonce() {
  return base64_encode(random_bytes(24));
}

Result<ServerFirst> parse_server_first(std::string_view msg) {
  auto attrs = split_scram_attrs(msg);
  if (!attrs) return attrs.status();
  ServerFirst sf;
  sf.text = std::string(msg);
  if (!attrs->empty() && (*attrs)[0].name == 'm') return scram_bad_message("unsupported mandatory extension");
  bool have_s = false, have_i = false;
  for (const auto& a : *attrs) {
    if (a.name == 'r') {
      sf.nonce = std::string(a.value);
    } else if (a.name == 's') {
      auto salt = base64_decode(a.value);
      if (!salt) return salt.status();
      sf.salt = std::move(*salt);
      have_s = true;
    } else if (a.name == 'i') {
      std::uint64_t v = 0;
      if (a.value.empty() || a.value.size() > 9) return scram_bad_message("bad iteration count");
      for (char c : a.value) {
        if (c < '0' || c > '9') return scram_bad_message("bad iteration count");
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      sf.iterations = static_cast<std::uint32_t>(v);
      have_i = true;
    }
  }
  if (sf.nonce.empty() || !have_s || !have_i) return scram_bad_message("server-first needs r=, s= and i=");
  return sf;
}

Result<ServerFinal> parse_server_final(std::string_view msg) {
  auto attrs = split_scram_attrs(msg);
  if (!attrs) return attrs.status();
  ServerFinal sf;
  for (const auto& a : *attrs) {
    if (a.name == 'v') {
      auto v = base64_decode(a.value);
      if (!v) return v.status();
      sf.verifier = std::move(*v);
      return sf;
    }
    if (a.name == 'e') {
      sf.error = std::string(a.value);
      return sf;
    }
  }
  return scram_bad_message("server-final needs v= or e=");
}

// ---- ScramClient ----------------------------------------------------------------------------

ScramClient::ScramClient(ScramMechanism m, std::string user, std::string password, std::string client_nonce,
                         PasswordForm form)
    : mech_(m), user_(std::move(user)), password_(std::move(password)), nonce_(std::move(client_nonce)), form_(form) {
  if (nonce_.empty()) nonce_ = make_nonce();
}

Result<std::string> ScramClient::first_message() {
  if (state_ != State::kStart) return Status(ErrorCode::kInternal, "SCRAM client: first_message called twice");
  if (form_ == PasswordForm::kPlain) {
    // Fail early on a password that cannot be prepared (before any network round trip).
    auto p = prepare_password(mech_, user_, password_);
    if (!p) {
      state_ = State::kFailed;
      return p.status();
    }
  }
  client_first_bare_ = "n=" + escape_username(user_) + ",r=" + nonce_;
  state_ = State::kSentFirst;
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClient::handle_server_first(std::string_view server_first) {
  if (state_ != State::kSentFirst) return Status(ErrorCode::kInternal, "SCRAM client: unexpected server-first");
  state_ = State::kFailed;
  auto sf = parse_server_first(server_first);
  if (!sf) return sf.status();
  if (sf->nonce.size() <= nonce_.size() || sf->nonce.compare(0, nonce_.size(), nonce_) != 0)
    return scram_auth_failed("server nonce does not extend the client nonce");
  if (sf->iterations < kMinIterations)
    return scram_auth_failed("iteration count " + std::to_string(sf->iterations) + " is below " +
                             std::to_string(kMinIterations));
  std::string prepared = password_;
  if (form_ == PasswordForm::kPlain) {
    auto p = prepare_password(mech_, user_, password_);
    if (!p) return p.status();
    prepared = std::move(*p);
  }
  ScramKeys keys = derive_keys(mech_, prepared, sf->salt, sf->iterations);
  std::string without_proof = "c=biws,r=" + sf->nonce;
  auth_message_ = client_first_bare_ + "," + sf->text + "," + without_proof;
  Bytes proof = client_proof(mech_, keys, auth_message_);
  server_key_ = keys.server_key;
  state_ = State::kSentFinal;
  return without_proof + ",p=" + base64_encode(proof);
}

Status ScramClient::handle_server_final(std::string_view server_final) {
  if (state_ != State::kSentFinal) return Status(ErrorCode::kInternal, "SCRAM client: unexpected server-final");
  state_ = State::kFailed;
  auto sf = parse_server_final(server_final);
  if (!sf) return sf.status();
  if (!sf->error.empty()) return scram_auth_failed("server reported '" + sf->error + "'");
  Bytes expected = server_signature(mech_, server_key_, auth_message_);
  if (!constant_time_equal(expected, sf->verifier))
    return scram_auth_failed("the server's signature does not verify (mutual authentication failed)");
  state_ = State::kDone;
  return {};
}

}  // namespace bsonpipe::io
