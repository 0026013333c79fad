#include "tools/bsonpipe/connection_flags.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/uri.hpp"
#include "tools/bsonpipe/config_file.hpp"

namespace bsonpipe::tools {

namespace {

// Reads a password from the controlling terminal with echo off (restored on every path), as
// mongodump does when -u comes without a password and standard input is a terminal.
Result<std::string> prompt_password(const std::string& user) {
  // The terminal device, not a file: opened directly (io::Storage is for dump data).
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return Status(ErrorCode::kInvalidArgument, "no password given for user " + user + " and no terminal to ask");
  // Echo goes off before the prompt shows, so nothing typed after it can be echoed.
  termios saved{};
  bool restore = ::tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string prompt = "Enter password for " + user + ": ";
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string pw;
  char c = 0;
  bool got_line = false;
  while (true) {
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n' || c == '\r') {
      got_line = true;
      break;
    }
    pw.push_back(c);
  }
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  if (!got_line && pw.empty()) return Status(ErrorCode::kInvalidArgument, "no password entered for user " + user);
  return pw;
}

// Reads a password from standard input when it is not a terminal, as mongo-tools does
// (common/password: readPassNonInteractively): one byte at a time up to a newline, carriage
// return, ^C or ^D, or the end, with backspace and delete erasing; NULs dropped. Byte by byte, so
// whatever follows the line (an archive for restore) is left on standard input.
Result<std::string> read_password_from_stdin(const std::string& user) {
  std::fprintf(stderr, "reading password from standard input\nEnter password for %s:", user.c_str());
  std::string pw;
  while (true) {
    char c = 0;
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status(ErrorCode::kIo, std::string("error reading password: ") + std::strerror(errno));
    if (n == 0 || c == '\n' || c == '\r' || c == 3 || c == 4) break;
    if (c == 8 || c == 127) {
      if (!pw.empty()) pw.pop_back();
    } else if (c != 0) {
      pw.push_back(c);
    }
  }
  std::fprintf(stderr, "\n");
  return pw;
}

// Appends key=value to a connection string's options.
void add_uri_option(std::string& u, const std::string& key, const std::string& value) {
  const auto hosts_end = u.find_first_of("/?", u.find("://") + 3);
  if (hosts_end == std::string::npos)
    u += "/?";
  else if (u[hosts_end] == '?')
    u.insert(hosts_end, "/");
  u += u.back() == '?' ? "" : (u.find('?') == std::string::npos ? "?" : "&");
  u += key + "=" + value;
}

// Whether the connection string's options set `key` (case-insensitive, as URI options are).
bool uri_has_option(const std::string& u, const std::string& key) {
  auto q = u.find('?');
  if (q == std::string::npos) return false;
  std::string lower_u = u.substr(q), lower_key = key;
  for (auto* t : {&lower_u, &lower_key})
    for (char& c : *t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower_u.find("?" + lower_key + "=") != std::string::npos ||
         lower_u.find("&" + lower_key + "=") != std::string::npos;
}

// --dialTimeout, --socketTimeout, --serverSelectionTimeout (seconds) and
// --sslAllowInvalidCertificates/--sslAllowInvalidHostnames become the URI options they stand for
// unless the URI sets them itself.
Status add_hidden_flags(const ConnectionFlags& f, std::string& u) {
  const std::pair<int, const char*> timeouts[] = {{f.dial_timeout_s, "connectTimeoutMS"},
                                                  {f.socket_timeout_s, "socketTimeoutMS"},
                                                  {f.server_selection_timeout_s, "serverSelectionTimeoutMS"}};
  for (auto [secs, key] : timeouts) {
    if (secs < 0) return Status(ErrorCode::kInvalidArgument, std::string(key) + ": a timeout cannot be negative");
    if (secs > 0 && !uri_has_option(u, key)) add_uri_option(u, key, std::to_string(secs * 1000LL));
  }
  if (f.ssl_allow_invalid_certificates && !uri_has_option(u, "tlsAllowInvalidCertificates"))
    add_uri_option(u, "tlsAllowInvalidCertificates", "true");
  if (f.ssl_allow_invalid_hostnames && !uri_has_option(u, "tlsAllowInvalidHostnames"))
    add_uri_option(u, "tlsAllowInvalidHostnames", "true");
  return {};
}

}  // namespace

std::string percent_encode(const std::string& s) {
  static const char* hexd = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hexd[c >> 4]);
      out.push_back(hexd[c & 15]);
    }
  }
  return out;
}

void ConnectionFlags::add_to(CLI::App& cmd, const std::string& uri_flag) {
  cmd.add_option(uri_flag, uri, "MongoDB connection string (mongodb://[user:pass@]host[:port][/db][?options])");
  if (uri_flag == "--uri") {
    cmd.set_help_flag("--help", "Print this help message and exit");  // -h is --host, as in mongodump
    cmd.add_option("--config", config_path,
                   "YAML file with password, uri and/or sslPEMKeyPassword (keeps secrets off the command line; "
                   "flags given win)")
        ->type_name("FILE");
    cmd.add_option("--host,-h", host, "host[:port] (when no --uri is given)");
    cmd.add_option("--port", port, "server port");
    cmd.add_option("--username,-u", username, "user name for authentication");
    cmd.add_option("--password,-p", password,
                   "password (prefer $BSONPIPE_PASSWORD: a flag is visible to other users in ps)");
    cmd.add_option("--authenticationDatabase", auth_db, "database that holds the user's credentials");
    cmd.add_option("--authenticationMechanism", auth_mechanism,
                   "SCRAM-SHA-256, SCRAM-SHA-1 or MONGODB-X509 (the client certificate's subject is the user, "
                   "in $external)");
    cmd.add_option("--compressors", compressors, "wire compressors to offer: zstd,zlib,noop");
    cmd.add_flag("--tls,--ssl", tls, "connect with TLS (server certificate and host name verified)");
    cmd.add_option("--tlsCAFile,--sslCAFile", tls_ca_file, "CA certificates (PEM) to verify the server with");
    cmd.add_option("--tlsCertificateKeyFile,--sslPEMKeyFile", tls_certificate_key_file,
                   "client certificate and its private key (PEM), for servers that require one and MONGODB-X509")
        ->type_name("FILE");
    cmd.add_option("--tlsCertificateKeyFilePassword,--sslPEMKeyPassword", tls_certificate_key_file_password,
                   "password of an encrypted key in --tlsCertificateKeyFile (prefer --config: a flag is visible in "
                   "ps)")
        ->type_name("PASSWORD");
    cmd.add_flag("--tlsInsecure", tls_insecure,
                 "INSECURE: skip TLS certificate and host name verification (prints a warning)");
    // mongo-tools' hidden flags, accepted so that its command lines run unchanged.
    cmd.add_flag("--sslAllowInvalidCertificates", ssl_allow_invalid_certificates,
                 "INSECURE (deprecated): skip TLS certificate verification (prints a warning)")
        ->group("");
    cmd.add_flag("--sslAllowInvalidHostnames", ssl_allow_invalid_hostnames,
                 "INSECURE (deprecated): skip TLS host name verification (prints a warning)")
        ->group("");
    cmd.add_option("--dialTimeout", dial_timeout_s, "connect timeout in seconds")->group("");
    cmd.add_option("--socketTimeout", socket_timeout_s, "socket timeout in seconds (0: none)")->group("");
    cmd.add_option("--serverSelectionTimeout", server_selection_timeout_s, "server selection timeout in seconds")
        ->group("");
    cmd.add_option("--TCPKeepAliveSeconds", tcp_keepalive_s, "accepted and ignored")->group("");
    cmd.add_option("--numThreads", num_threads, "accepted and ignored (see -j and --readers)")->group("");
    cmd.add_flag("--trace", trace, "accepted and ignored")->group("");
  }
}

Result<std::string> ConnectionFlags::resolve(std::string* db) const {
  // --config: its values count for the flags the command line did not give.
  ConnectionFlags f = *this;
  if (!config_path.empty()) {
    auto c = read_config_file(config_path);
    if (!c) return c.status();
    if (f.password.empty() && c->password) f.password = *c->password;
    if (f.uri.empty() && c->uri) f.uri = *c->uri;
    if (f.tls_certificate_key_file_password.empty() && c->ssl_pem_key_password)
      f.tls_certificate_key_file_password = *c->ssl_pem_key_password;
  }
  io::CommandLineConnection cl;
  cl.host = f.host;
  cl.port = f.port != 0 ? std::to_string(f.port) : std::string();
  cl.username = f.username;
  cl.password = f.password;
  cl.auth_source = f.auth_db;
  cl.auth_mechanism = f.auth_mechanism;
  // "none" is mongo-tools' own default: no compression.
  cl.compressors = f.compressors == "none" ? std::string() : f.compressors;
  cl.tls = f.tls;
  cl.tls_ca_file = f.tls_ca_file;
  cl.tls_insecure = f.tls_insecure;
  cl.tls_certificate_key_file = f.tls_certificate_key_file;
  cl.tls_certificate_key_password = f.tls_certificate_key_file_password;
  if (db != nullptr) cl.db = *db;
  auto merged = io::merge_command_line(f.uri, cl);
  if (!merged) return merged.status();
  if (db != nullptr) *db = cl.db;
  std::string u = std::move(*merged);
  auto parsed = io::parse_uri(u);
  if (!parsed) return parsed.status();
  // As mongo-tools: without --authenticationDatabase or an authSource, a user authenticates
  // against the database being dumped or restored (--db, or the URI's database).
  if (db != nullptr && !db->empty() && parsed->has_credentials && parsed->auth_source.empty() &&
      parsed->auth_mechanism != "MONGODB-X509" && parsed->database != *db) {
    add_uri_option(u, "authSource", percent_encode(*db));
    parsed = io::parse_uri(u);
    if (!parsed) return parsed.status();
  }
  // mongo-tools' hidden connection flags, for what the URI does not set itself.
  if (Status s = add_hidden_flags(f, u); !s) return s;
  parsed = io::parse_uri(u);
  if (!parsed) return parsed.status();
  // A user (from -u or the URI) without a password: $BSONPIPE_PASSWORD, then the prompt when
  // standard input is a terminal, else its first line (as mongo-tools).
  if (parsed->has_credentials && parsed->password.empty() && parsed->auth_mechanism != "MONGODB-X509") {
    std::string p;
    if (const char* env = std::getenv("BSONPIPE_PASSWORD")) p = env;
    if (p.empty()) {
      auto asked =
          ::isatty(STDIN_FILENO) ? prompt_password(parsed->username) : read_password_from_stdin(parsed->username);
      if (!asked) return asked.status();
      p = *asked;
    }
    if (!p.empty()) {
      auto scheme = u.find("://");
      auto at = u.find('@', scheme);  // the user info holds no unescaped '@'
      u.insert(at, ":" + percent_encode(p));
      parsed = io::parse_uri(u);
      if (!parsed) return parsed.status();
    }
  }
  const auto& t = parsed->tls;
  if (t.enabled && (t.allow_invalid_certificates || t.allow_invalid_hostnames)) {
    const char* what = t.allow_invalid_certificates && t.allow_invalid_hostnames
                           ? "certificate and host name verification are"
                       : t.allow_invalid_certificates ? "certificate verification is"
                                                      : "host name verification is";
    std::fprintf(stderr,
                 "bsonpipe: WARNING: TLS %s OFF (--tlsInsecure/tlsAllow*): the server is not authenticated; anyone "
                 "on the network path can impersonate it and read or change the data and credentials\n",
                 what);
  }
  return u;
}

}  // namespace bsonpipe::tools
