#include "io/uri.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "io/scram.hpp"

namespace bsonpipe::io {

namespace {

Status bad_uri(std::string what) {
  return Status(ErrorCode::kInvalidArgument, "invalid MongoDB URI: " + std::move(what));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<bool> parse_bool(std::string_view key, std::string_view v) {
  if (v == "true") return true;
  if (v == "false") return false;
  return bad_uri("option " + std::string(key) + " must be true or false, not '" + std::string(v) + "'");
}

Result<std::int64_t> parse_int(std::string_view key, std::string_view v, std::int64_t min, std::int64_t max) {
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max)
    return bad_uri("option " + std::string(key) + " must be an integer in [" + std::to_string(min) + ", " +
                   std::to_string(max) + "], not '" + std::string(v) + "'");
  return out;
}

Result<HostPort> parse_host(std::string_view h) {
  if (h.empty()) return bad_uri("empty host");
  HostPort hp;
  std::string_view port;
  if (h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos) return bad_uri("unterminated IPv6 literal in '" + std::string(h) + "'");
    hp.host = lower(h.substr(1, close - 1));
    std::string_view rest = h.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad_uri("bad host '" + std::string(h) + "'");
      port = rest.substr(1);
      if (port.empty()) return bad_uri("empty port in '" + std::string(h) + "'");
    }
  } else {
    if (h.find(".sock") != std::string_view::npos || h.find('/') != std::string_view::npos)
      return bad_uri("Unix domain sockets are not supported ('" + std::string(h) + "')");
    auto colon = h.find(':');
    if (colon != std::string_view::npos) {
      if (h.find(':', colon + 1) != std::string_view::npos)
        return bad_uri("IPv6 addresses must be in brackets ('" + std::string(h) + "')");
      port = h.substr(colon + 1);
      if (port.empty()) return bad_uri("empty port in '" + std::string(h) + "'");
      h = h.substr(0, colon);
    }
    auto dec = percent_decode(h);
    if (!dec) return dec.status();
    hp.host = lower(*dec);
  }
  if (hp.host.empty()) return bad_uri("empty host");
  if (!port.empty()) {
    auto p = parse_int("port", port, 1, 65535);
    if (!p) return bad_uri("port must be 1..65535, not '" + std::string(port) + "'");
    hp.port = static_cast<std::uint16_t>(*p);
  }
  return hp;
}

Result<std::string> decode_component(std::string_view s, std::string_view what) {
  auto d = percent_decode(s);
  if (!d) return bad_uri(std::string(what) + ": " + d.status().message());
  return d;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string_view read_preference_name(ReadPreferenceMode m) {
  switch (m) {
    case ReadPreferenceMode::kPrimary: return "primary";
    case ReadPreferenceMode::kPrimaryPreferred: return "primaryPreferred";
    case ReadPreferenceMode::kSecondary: return "secondary";
    case ReadPreferenceMode::kSecondaryPreferred: return "secondaryPreferred";
    case ReadPreferenceMode::kNearest: return "nearest";
  }
  return "primary";
}

Result<ReadPreferenceMode> parse_read_preference(std::string_view s) {
  for (auto m : {ReadPreferenceMode::kPrimary, ReadPreferenceMode::kPrimaryPreferred, ReadPreferenceMode::kSecondary,
                 ReadPreferenceMode::kSecondaryPreferred, ReadPreferenceMode::kNearest}) {
    if (s == read_preference_name(m)) return m;
  }
  return bad_uri("readPreference must be primary, primaryPreferred, secondary, secondaryPreferred or nearest, not '" +
                 std::string(s) + "'");
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = i + 1 < s.size() ? hex(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return Status(ErrorCode::kInvalidArgument, "bad percent-escape at position " + std::to_string(i));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string Uri::auth_database() const {
  if (!auth_source.empty()) return auth_source;
  if (auth_mechanism == "MONGODB-X509") return "$external";
  if (!database.empty()) return database;
  return "admin";
}

std::string Uri::redacted() const {
  std::string out = "mongodb://";
  if (has_credentials) {
    out += percent_encode(username);
    out += ":***@";
  }
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    out += hosts[i].to_string();
  }
  out += '/';
  out += percent_encode(database);
  std::vector<std::string> opts;
  auto add = [&](std::string_view k, const std::string& v) {
    opts.push_back(std::string(k) + "=" + percent_encode(v));
  };
  if (!auth_source.empty()) add("authSource", auth_source);
  if (!auth_mechanism.empty()) add("authMechanism", auth_mechanism);
  if (!replica_set.empty()) add("replicaSet", replica_set);
  if (read_preference != ReadPreferenceMode::kPrimary)
    add("readPreference", std::string(read_preference_name(read_preference)));
  if (direct_connection) add("directConnection", *direct_connection ? "true" : "false");
  if (tls.enabled) add("tls", "true");
  if (!tls.ca_file.empty()) add("tlsCAFile", tls.ca_file);
  if (!tls.certificate_key_file.empty()) add("tlsCertificateKeyFile", tls.certificate_key_file);
  if (!tls.certificate_key_password.empty()) opts.push_back("tlsCertificateKeyFilePassword=***");
  if (tls.allow_invalid_certificates) add("tlsAllowInvalidCertificates", "true");
  if (tls.allow_invalid_hostnames) add("tlsAllowInvalidHostnames", "true");
  if (!compressors.empty()) {
    std::string c;
    for (auto id : compressors) c += (c.empty() ? "" : ",") + std::string(compressor_name(id));
    opts.push_back("compressors=" + c);
  }
  if (zlib_compression_level >= 0) add("zlibCompressionLevel", std::to_string(zlib_compression_level));
  if (connect_timeout != std::chrono::milliseconds(10'000))
    add("connectTimeoutMS", std::to_string(connect_timeout.count()));
  if (socket_timeout.count() != 0) add("socketTimeoutMS", std::to_string(socket_timeout.count()));
  if (server_selection_timeout != std::chrono::milliseconds(30'000))
    add("serverSelectionTimeoutMS", std::to_string(server_selection_timeout.count()));
  if (!app_name.empty()) add("appName", app_name);
  if (max_pool_size != 100) add("maxPoolSize", std::to_string(max_pool_size));
  if (retry_writes) add("retryWrites", *retry_writes ? "true" : "false");
  if (retry_reads) add("retryReads", *retry_reads ? "true" : "false");
  if (!write_concern_w.empty()) add("w", write_concern_w);
  if (journal) add("journal", *journal ? "true" : "false");
  if (wtimeout.count() != 0) add("wTimeoutMS", std::to_string(wtimeout.count()));
  if (!read_concern_level.empty()) add("readConcernLevel", read_concern_level);
  for (std::size_t i = 0; i < opts.size(); ++i) out += (i == 0 ? "?" : "&") + opts[i];
  return out;
}

namespace {

// One parse_uri run: the URI so far, and the TLS switches that are judged only once every option
// has been read (tls and ssl must agree; TLS options need TLS on).
struct UriParse {
  Uri uri;
  std::optional<bool> tls_flag, ssl_flag, tls_insecure;
  bool tls_option_seen = false;
};

// An option's handler: `name` as written (for messages), `v` its percent-decoded value.
using OptionHandler = Status (*)(UriParse& p, std::string_view name, const std::string& v);

Status read_bool(std::string_view name, const std::string& v, bool& field) {
  auto b = parse_bool(name, v);
  if (!b) return b.status();
  field = *b;
  return {};
}

Status read_optional_bool(std::string_view name, const std::string& v, std::optional<bool>& field) {
  bool b = false;
  if (Status s = read_bool(name, v, b); !s) return s;
  field = b;
  return {};
}

// Handlers that only store a value: a true/false option of the URI, a milliseconds option, a
// string or true/false TLS option (those need TLS on), and the tls/ssl switches.
template <std::optional<bool> Uri::*Field>
Status uri_bool(UriParse& p, std::string_view name, const std::string& v) {
  return read_optional_bool(name, v, p.uri.*Field);
}

template <std::chrono::milliseconds Uri::*Field>
Status uri_ms(UriParse& p, std::string_view name, const std::string& v) {
  auto n = parse_int(name, v, 0, 24LL * 3600 * 1000);
  if (!n) return n.status();
  p.uri.*Field = std::chrono::milliseconds(*n);
  return {};
}

template <std::string TlsOptions::*Field>
Status tls_string(UriParse& p, std::string_view, const std::string& v) {
  p.uri.tls.*Field = v;
  p.tls_option_seen = true;
  return {};
}

template <bool TlsOptions::*Field>
Status tls_bool(UriParse& p, std::string_view name, const std::string& v) {
  Status s = read_bool(name, v, p.uri.tls.*Field);
  p.tls_option_seen = true;
  return s;
}

template <std::optional<bool> UriParse::*Field>
Status tls_switch(UriParse& p, std::string_view name, const std::string& v) {
  return read_optional_bool(name, v, p.*Field);
}

Status read_tls_insecure(UriParse& p, std::string_view name, const std::string& v) {
  p.tls_option_seen = true;
  return read_optional_bool(name, v, p.tls_insecure);
}

Status read_auth_source(UriParse& p, std::string_view, const std::string& v) {
  if (v.empty()) return bad_uri("authSource must not be empty");
  p.uri.auth_source = v;
  return {};
}

Status read_auth_mechanism(UriParse& p, std::string_view, const std::string& v) {
  auto m = parse_mechanism(v);
  if (!m && v != "MONGODB-X509")
    return bad_uri("authMechanism '" + v + "' is not supported (SCRAM-SHA-1, SCRAM-SHA-256, MONGODB-X509)");
  p.uri.auth_mechanism = v;
  return {};
}

Status read_replica_set(UriParse& p, std::string_view, const std::string& v) {
  if (v.empty()) return bad_uri("replicaSet must not be empty");
  p.uri.replica_set = v;
  return {};
}

Status read_read_preference(UriParse& p, std::string_view, const std::string& v) {
  auto m = parse_read_preference(v);
  if (!m) return m.status();
  p.uri.read_preference = *m;
  return {};
}

// "zstd,zlib": each known, supported compressor once, in the order given.
Status read_compressors(UriParse& p, std::string_view, const std::string& v) {
  std::vector<CompressorId>& out = p.uri.compressors;
  out.clear();
  std::size_t cp = 0;
  while (cp <= v.size()) {
    auto c = v.find(',', cp);
    std::string nm = v.substr(cp, c == std::string::npos ? std::string::npos : c - cp);
    auto id = parse_compressor(nm);
    if (!id || *id == CompressorId::kSnappy || *id == CompressorId::kNoop)
      return bad_uri("compressor '" + nm + "' is not supported (zlib, zstd)");
    if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(*id);
    if (c == std::string::npos) break;
    cp = c + 1;
  }
  return {};
}

Status read_zlib_level(UriParse& p, std::string_view name, const std::string& v) {
  auto n = parse_int(name, v, -1, 9);
  if (!n) return n.status();
  p.uri.zlib_compression_level = static_cast<int>(*n);
  return {};
}

Status read_app_name(UriParse& p, std::string_view, const std::string& v) {
  if (v.size() > 128) return bad_uri("appName is longer than 128 bytes");
  p.uri.app_name = v;
  return {};
}

Status read_max_pool_size(UriParse& p, std::string_view name, const std::string& v) {
  auto n = parse_int(name, v, 0, 100000);
  if (!n) return n.status();
  p.uri.max_pool_size = *n == 0 ? 100 : static_cast<std::size_t>(*n);
  return {};
}

Status read_write_concern(UriParse& p, std::string_view name, const std::string& v) {
  if (v != "majority") {
    auto n = parse_int(name, v, 0, 50);
    if (!n) return bad_uri("w must be 'majority' or a number of nodes, not '" + v + "'");
  }
  p.uri.write_concern_w = v;
  return {};
}

Status read_read_concern_level(UriParse& p, std::string_view, const std::string& v) {
  if (v != "local" && v != "majority" && v != "available" && v != "linearizable" && v != "snapshot")
    return bad_uri("readConcernLevel '" + v + "' is unknown");
  p.uri.read_concern_level = v;
  return {};
}

struct OptionRule {
  std::string_view key;  // lower case
  OptionHandler handle;
};

// Every option parse_uri accepts; a key not here is an error.
constexpr OptionRule kOptionRules[] = {
    {"authsource", read_auth_source},
    {"authmechanism", read_auth_mechanism},
    {"replicaset", read_replica_set},
    {"readpreference", read_read_preference},
    {"directconnection", uri_bool<&Uri::direct_connection>},
    {"tls", tls_switch<&UriParse::tls_flag>},
    {"ssl", tls_switch<&UriParse::ssl_flag>},
    {"tlscafile", tls_string<&TlsOptions::ca_file>},
    {"sslcafile", tls_string<&TlsOptions::ca_file>},
    {"tlscertificatekeyfile", tls_string<&TlsOptions::certificate_key_file>},
    {"sslpemkeyfile", tls_string<&TlsOptions::certificate_key_file>},
    {"tlscertificatekeyfilepassword", tls_string<&TlsOptions::certificate_key_password>},
    {"sslpemkeypassword", tls_string<&TlsOptions::certificate_key_password>},
    {"tlsallowinvalidcertificates", tls_bool<&TlsOptions::allow_invalid_certificates>},
    {"sslallowinvalidcertificates", tls_bool<&TlsOptions::allow_invalid_certificates>},
    {"tlsallowinvalidhostnames", tls_bool<&TlsOptions::allow_invalid_hostnames>},
    {"sslallowinvalidhostnames", tls_bool<&TlsOptions::allow_invalid_hostnames>},
    {"tlsinsecure", read_tls_insecure},
    {"compressors", read_compressors},
    {"zlibcompressionlevel", read_zlib_level},
    {"connecttimeoutms", uri_ms<&Uri::connect_timeout>},
    {"sockettimeoutms", uri_ms<&Uri::socket_timeout>},
    {"serverselectiontimeoutms", uri_ms<&Uri::server_selection_timeout>},
    {"appname", read_app_name},
    {"maxpoolsize", read_max_pool_size},
    {"retrywrites", uri_bool<&Uri::retry_writes>},
    {"retryreads", uri_bool<&Uri::retry_reads>},
    {"w", read_write_concern},
    {"journal", uri_bool<&Uri::journal>},
    {"wtimeoutms", uri_ms<&Uri::wtimeout>},
    {"readconcernlevel", read_read_concern_level},
};

// "mongodb://" off the front; anything else (mongodb+srv:// included) is refused.
Result<std::string_view> strip_scheme(std::string_view text) {
  constexpr std::string_view kScheme = "mongodb://";
  constexpr std::string_view kSrv = "mongodb+srv://";
  if (text.substr(0, kSrv.size()) == kSrv)
    return bad_uri(
        "mongodb+srv:// needs DNS SRV/TXT resolution, which is not supported; list the hosts with "
        "mongodb://host1,host2/?replicaSet=NAME&tls=true instead");
  if (text.substr(0, kScheme.size()) != kScheme) return bad_uri("must start with mongodb://");
  return text.substr(kScheme.size());
}

// "user[:password]@" at the front of `authority`: decoded into `uri` and taken off `authority`.
Status parse_credentials(std::string_view& authority, std::string_view tail, Uri& uri) {
  // '@' inside the user name or password must be percent-encoded, so the only one left is the
  // separator; a second is an error rather than a guess.
  auto at = authority.find('@');
  if (at == std::string_view::npos) {
    if (tail.find('@') != std::string_view::npos && tail.find('@') < tail.find('?'))
      return bad_uri("'/' in the user name or password must be percent-encoded as %2F");
    return {};
  }
  if (authority.find('@', at + 1) != std::string_view::npos)
    return bad_uri("'@' in the user name or password must be percent-encoded as %40");
  std::string_view userinfo = authority.substr(0, at);
  authority = authority.substr(at + 1);
  auto colon = userinfo.find(':');
  std::string_view user = userinfo.substr(0, colon);
  if (user.empty()) return bad_uri("empty user name");
  auto u = decode_component(user, "user name");
  if (!u) return u.status();
  uri.username = std::move(*u);
  if (colon != std::string_view::npos) {
    std::string_view pass = userinfo.substr(colon + 1);
    if (pass.find(':') != std::string_view::npos) return bad_uri("':' in the password must be percent-encoded as %3A");
    auto p = decode_component(pass, "password");
    if (!p) return p.status();
    uri.password = std::move(*p);
  }
  uri.has_credentials = true;
  return {};
}

Status parse_hosts(std::string_view authority, Uri& uri) {
  if (authority.empty()) return bad_uri("no host");
  std::size_t pos = 0;
  while (pos <= authority.size()) {
    auto comma = authority.find(',', pos);
    auto h = parse_host(authority.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (!h) return h.status();
    uri.hosts.push_back(std::move(*h));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return {};
}

// "/db?options" after the hosts: the database goes into `uri`; returns the options text.
Result<std::string_view> parse_path(std::string_view tail, Uri& uri) {
  if (tail.empty()) return std::string_view{};
  if (tail.front() != '/') return bad_uri("options must follow a '/' (mongodb://host/?option=value)");
  tail.remove_prefix(1);
  auto q = tail.find('?');
  auto db = decode_component(tail.substr(0, q), "database");
  if (!db) return db.status();
  if (db->find_first_of("/\\ \"$") != std::string::npos) return bad_uri("invalid database name '" + *db + "'");
  uri.database = std::move(*db);
  return q == std::string_view::npos ? std::string_view{} : tail.substr(q + 1);
}

// One "key=value" of the query.
Status parse_option(std::string_view kv, UriParse& p) {
  auto eq = kv.find('=');
  if (eq == std::string_view::npos) return bad_uri("option '" + std::string(kv) + "' has no value");
  const std::string_view name = kv.substr(0, eq);
  const std::string key = lower(name);
  auto v = decode_component(kv.substr(eq + 1), "option " + std::string(name));
  if (!v) return v.status();
  for (const OptionRule& rule : kOptionRules)
    if (rule.key == key) return rule.handle(p, name, *v);
  return bad_uri("unknown option '" + std::string(name) + "'");
}

// The query: options separated by '&' or ';' (empty ones skipped), the last of a repeated one counts.
Status parse_options(std::string_view query, UriParse& p) {
  std::size_t pos = 0;
  while (!query.empty() && pos <= query.size()) {
    auto amp = query.find_first_of("&;", pos);
    std::string_view kv = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
    if (kv.empty()) continue;
    if (Status s = parse_option(kv, p); !s) return s;
  }
  return {};
}

// Settles TLS from tls/ssl/tlsInsecure, then checks what only the whole URI can show.
Status finish_uri(UriParse& p) {
  Uri& uri = p.uri;
  if (p.tls_flag && p.ssl_flag && *p.tls_flag != *p.ssl_flag) return bad_uri("tls and ssl disagree");
  uri.tls.enabled = p.tls_flag.value_or(p.ssl_flag.value_or(false));
  if (p.tls_insecure) {
    if (*p.tls_insecure) uri.tls.allow_invalid_certificates = uri.tls.allow_invalid_hostnames = true;
  }
  if (p.tls_option_seen && !uri.tls.enabled) {
    if (p.tls_flag || p.ssl_flag) return bad_uri("TLS options given together with tls=false");
    return bad_uri("TLS options (tlsCAFile, tlsCertificateKeyFile, tlsAllow...) require tls=true");
  }
  if (uri.direct_connection.value_or(false) && uri.hosts.size() > 1)
    return bad_uri("directConnection=true needs exactly one host");
  if (uri.auth_mechanism == "MONGODB-X509") {
    // The user is the client certificate's subject (optional in the URI); no password.
    if (!uri.password.empty()) return bad_uri("a password cannot be given with authMechanism MONGODB-X509");
    if (!uri.auth_source.empty() && uri.auth_source != "$external")
      return bad_uri("authSource must be $external for authMechanism MONGODB-X509");
  } else if (!uri.has_credentials && !uri.auth_mechanism.empty()) {
    return bad_uri("authMechanism " + uri.auth_mechanism + " needs a user name");
  }
  return {};
}

}  // namespace

Result<Uri> parse_uri(std::string_view text) {
  auto rest = strip_scheme(text);
  if (!rest) return rest.status();
  UriParse p;
  std::size_t auth_end = rest->find_first_of("/?");
  std::string_view authority = rest->substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view{} : rest->substr(auth_end);
  if (Status s = parse_credentials(authority, tail, p.uri); !s) return s;
  if (Status s = parse_hosts(authority, p.uri); !s) return s;
  auto query = parse_path(tail, p.uri);
  if (!query) return query.status();
  if (Status s = parse_options(*query, p); !s) return s;
  if (Status s = finish_uri(p); !s) return s;
  return std::move(p.uri);
}

namespace {

// Go's %#q for the values in mongo-tools' conflict messages: `value`, or "value" when it holds a
// backquote or a control character.
std::string go_quote(std::string_view v) {
  bool plain = true;
  for (char c : v)
    if (c == '`' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) plain = false;
  if (plain) return "`" + std::string(v) + "`";
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[c & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Status conflicting(std::string_view what, std::string_view uri_value, std::string_view flag_value,
                   std::string_view flag) {
  return Status(ErrorCode::kInvalidArgument, "Invalid Options: Cannot specify different " + std::string(what) +
                                                 " in connection URI and command-line option " + go_quote(uri_value) +
                                                 " was specified in the URI and " + go_quote(flag_value) +
                                                 " was specified in the " + std::string(flag) + " option");
}

// The port part of one host as written ("" when none): "h:1", "[::1]:1".
std::string_view written_port(std::string_view host) {
  std::size_t from = 0;
  if (!host.empty() && host.front() == '[') {
    from = host.find(']');
    if (from == std::string_view::npos) return {};
  }
  auto colon = host.find(':', from);
  return colon == std::string_view::npos ? std::string_view{} : host.substr(colon + 1);
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    auto comma = s.find(',', pos);
    out.emplace_back(s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

// mongo-tools' --host: "setName/h1,h2" or "h1,h2"; an empty seed means localhost.
std::pair<std::vector<std::string>, std::string> split_host_flag(std::string_view host) {
  std::string set_name;
  auto slash = host.find('/');
  if (slash != std::string_view::npos) {
    set_name = std::string(host.substr(0, slash));
    host = host.substr(slash + 1);
  }
  return {split_commas(host), set_name};
}

// The URI as written, split into its parts: user info, hosts (ports as given: "h" stays without
// one), the database path and the options; and the options the flags add to it.
struct WrittenUri {
  std::string userinfo;
  std::vector<std::string> hosts;
  std::string path, query;
  // Options as (lower-case key, decoded value).
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> added;  // "key=value", percent-encoded

  // The value of option `key1` (or its alias `key2`); the last of a repeated key counts, as in
  // parse_uri.
  std::optional<std::string> option(std::string_view key1, std::string_view key2 = {}) const {
    std::optional<std::string> found;
    for (auto& [k, v] : options)
      if (k == key1 || (!key2.empty() && k == key2)) found = v;
    return found;
  }
  void add(std::string_view key, std::string_view value) {
    added.push_back(std::string(key) + "=" + percent_encode(value));
  }
  std::string joined_hosts() const {
    std::string j;
    for (auto& h : hosts) j += (j.empty() ? "" : ",") + h;
    return j;
  }
};

// No URI: one made of --host and --port, the replica set name from "setName/...".
std::string uri_from_host_flags(const CommandLineConnection& f) {
  auto [seeds, set_name] = split_host_flag(f.host);
  std::string hosts;
  for (auto& h : seeds) {
    if (h.empty()) h = "localhost";
    if (!f.port.empty() && written_port(h).empty()) h += ":" + f.port;
    hosts += (hosts.empty() ? "" : ",") + h;
  }
  std::string text = "mongodb://" + hosts + "/";
  if (!set_name.empty()) text += "?replicaSet=" + percent_encode(set_name);
  return text;
}

// `rest` is the text after "mongodb://".
WrittenUri split_written_uri(const std::string& rest) {
  WrittenUri w;
  auto authority_end = rest.find_first_of("/?");
  std::string authority = rest.substr(0, authority_end);
  std::string tail = authority_end == std::string::npos ? "" : rest.substr(authority_end);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    w.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  w.hosts = split_commas(authority);
  w.path = tail;
  if (auto q = tail.find('?'); q != std::string::npos) {
    w.path = tail.substr(0, q);
    w.query = tail.substr(q + 1);
  }
  for (std::size_t pos = 0; pos < w.query.size();) {
    auto end = w.query.find_first_of("&;", pos);
    if (end == std::string::npos) end = w.query.size();
    std::string_view kv = std::string_view(w.query).substr(pos, end - pos);
    pos = end + 1;
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
    w.options.emplace_back(lower(kv.substr(0, eq)), v ? *v : std::string());
  }
  return w;
}

// --port: every host that has a port must have this one; the others get it. --host: the same set
// of hosts as the URI (in any order), and the same replica set name.
Status merge_hosts(WrittenUri& w, const CommandLineConnection& f) {
  if (!f.port.empty()) {
    for (auto& h : w.hosts) {
      auto p = written_port(h);
      if (p.empty())
        h += ":" + f.port;
      else if (p != f.port)
        return conflicting("port", w.joined_hosts(), f.port, "--port");
    }
  }
  std::string set_name;
  if (!f.host.empty()) {
    auto [seeds, name] = split_host_flag(f.host);
    set_name = name;
    for (auto& s : seeds)
      if (!f.port.empty() && written_port(s).empty()) s += ":" + f.port;
    auto as_set = [](std::vector<std::string> v) {
      for (auto& h : v) h = lower(h);
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    };
    if (as_set(seeds) != as_set(w.hosts)) return conflicting("host", w.joined_hosts(), f.host, "--host");
  }
  if (!set_name.empty()) {
    auto rs = w.option("replicaset");
    if (rs && *rs != set_name) return conflicting("replica set name", *rs, f.host, "--host");
    if (!rs) w.add("replicaSet", set_name);
  }
  return {};
}

Status merge_credentials(WrittenUri& w, const CommandLineConnection& f) {
  std::string uri_user, uri_password;
  bool uri_has_password = false;
  if (!w.userinfo.empty()) {
    auto colon = w.userinfo.find(':');
    auto u = percent_decode(w.userinfo.substr(0, colon));
    if (u) uri_user = *u;
    if (colon != std::string::npos) {
      auto p = percent_decode(w.userinfo.substr(colon + 1));
      if (p) uri_password = *p;
      uri_has_password = true;
    }
  }
  if (!f.username.empty() && !uri_user.empty() && f.username != uri_user)
    return conflicting("username", uri_user, f.username, "--username");
  if (!f.password.empty() && uri_has_password && f.password != uri_password)
    return Status(ErrorCode::kInvalidArgument,
                  "Invalid Options: Cannot specify different password in connection URI and command-line option");
  // The URI's user info stays as written (parse_uri judges it); flags only fill in what it lacks.
  if (w.userinfo.empty() && !f.username.empty()) {
    w.userinfo = percent_encode(f.username);
    if (!f.password.empty()) w.userinfo += ":" + percent_encode(f.password);
  } else if (!w.userinfo.empty() && !uri_has_password && !f.password.empty()) {
    w.userinfo += ":" + percent_encode(f.password);
  }
  return {};
}

// Options given both ways must agree; flags the URI lacks are added to it.
Status merge_option_flags(WrittenUri& w, const CommandLineConnection& f) {
  struct Pair {
    std::string_view flag_value;
    std::string_view key1, key2;  // the URI option's lower-case names
    std::string_view key, what, flag;
  };
  const Pair pairs[] = {
      {f.auth_source, "authsource", {}, "authSource", "authSource", "--authenticationDatabase"},
      {f.auth_mechanism, "authmechanism", {}, "authMechanism", "authMechanism", "--authenticationMechanism"},
      {f.compressors, "compressors", {}, "compressors", "compressors", "--compressors"},
      {f.tls_ca_file, "tlscafile", "sslcafile", "tlsCAFile", "sslCAFile", "--sslCAFile"},
      {f.tls_certificate_key_file, "tlscertificatekeyfile", "sslpemkeyfile", "tlsCertificateKeyFile",
       "sslClientCertificateKeyFile", "--sslPEMKeyFile"},
  };
  for (const Pair& p : pairs) {
    if (p.flag_value.empty()) continue;
    auto v = w.option(p.key1, p.key2);
    if (v && *v != p.flag_value) return conflicting(p.what, *v, p.flag_value, p.flag);
    if (!v) w.add(p.key, p.flag_value);
  }
  return {};
}

// The TLS flags: the key file password, --tlsInsecure and TLS itself.
Status merge_tls_flags(WrittenUri& w, const CommandLineConnection& f) {
  if (!f.tls_certificate_key_password.empty()) {
    auto v = w.option("tlscertificatekeyfilepassword", "sslpemkeypassword");
    // The passwords themselves stay out of the message.
    if (v && *v != f.tls_certificate_key_password)
      return Status(ErrorCode::kInvalidArgument,
                    "Invalid Options: Cannot specify different sslPEMKeyFilePassword in connection URI and "
                    "command-line option");
    // Without a client certificate the password has nothing to decrypt (and must not turn TLS on).
    bool has_certificate =
        !f.tls_certificate_key_file.empty() || w.option("tlscertificatekeyfile", "sslpemkeyfile").has_value();
    if (!v && has_certificate) w.add("tlsCertificateKeyFilePassword", f.tls_certificate_key_password);
  }
  if (f.tls_insecure) {
    for (auto key : {"tlsinsecure", "tlsallowinvalidcertificates", "tlsallowinvalidhostnames",
                     "sslallowinvalidcertificates", "sslallowinvalidhostnames"})
      if (auto v = w.option(key); v && *v == "false")
        return conflicting("sslInsecure or tlsInsecure", "false", "true",
                           "--sslAllowInvalidCert or --sslAllowInvalidHost");
    if (!w.option("tlsinsecure")) w.add("tlsInsecure", "true");
  }
  // TLS: --tls, or any TLS flag (parse_uri requires tls=true beside TLS options).
  bool wants_tls = f.tls || f.tls_insecure || !f.tls_ca_file.empty() || !f.tls_certificate_key_file.empty();
  if (wants_tls) {
    auto v = w.option("tls", "ssl");
    if (v && *v == "false") return conflicting("ssl", "false", "true", "--ssl");
    if (!v) w.add("tls", "true");
  }
  return {};
}

// The connection string again: the URI's text as written, with the added options at the end.
std::string assemble(std::string_view scheme, const WrittenUri& w) {
  std::string merged = std::string(scheme) + (w.userinfo.empty() ? "" : w.userinfo + "@") + w.joined_hosts();
  std::string path = w.path;
  if (path.empty() && (!w.query.empty() || !w.added.empty())) path = "/";
  merged += path;
  std::string all_options = w.query;
  for (auto& a : w.added) all_options += (all_options.empty() || all_options.back() == '&' ? "" : "&") + a;
  if (!all_options.empty()) merged += "?" + all_options;
  return merged;
}

}  // namespace

Result<std::string> merge_command_line(std::string_view uri_text, CommandLineConnection& f) {
  std::string text(uri_text);
  if (text.empty()) text = uri_from_host_flags(f);
  constexpr std::string_view kScheme = "mongodb://";
  if (text.rfind(kScheme, 0) != 0) return parse_uri(text).status();

  WrittenUri w = split_written_uri(text.substr(kScheme.size()));
  if (Status s = merge_hosts(w, f); !s) return s;
  if (Status s = merge_credentials(w, f); !s) return s;
  if (Status s = merge_option_flags(w, f); !s) return s;
  if (Status s = merge_tls_flags(w, f); !s) return s;
  std::string merged = assemble(kScheme, w);

  auto parsed = parse_uri(merged);
  if (!parsed) return parsed.status();
  // The URI's database is --db (a different --db is an error, the same one is fine).
  if (!parsed->database.empty()) {
    if (!f.db.empty() && f.db != parsed->database) return conflicting("database", parsed->database, f.db, "--db");
    f.db = parsed->database;
  }
  return merged;
}

}  // namespace bsonpipe::io
