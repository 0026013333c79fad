#include "tools/bsonpipe/connection_flags.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "io/uri.hpp"

namespace bsonpipe::tools {

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
    cmd.add_option("--host,-h", host, "host[:port] (when no --uri is given)");
    cmd.add_option("--port", port, "server port");
    cmd.add_option("--username,-u", username, "user name for authentication");
    cmd.add_option("--password,-p", password,
                   "password (prefer $BSONPIPE_PASSWORD: a flag is visible to other users in ps)");
    cmd.add_option("--authenticationDatabase", auth_db, "database that holds the user's credentials");
    cmd.add_option("--authenticationMechanism", auth_mechanism, "SCRAM-SHA-256 or SCRAM-SHA-1");
    cmd.add_option("--compressors", compressors, "wire compressors to offer: zstd,zlib,noop");
  }
}

Result<std::string> ConnectionFlags::resolve() const {
  std::string u = uri;
  if (u.empty()) {
    std::string h = host.empty() ? "localhost" : host;
    if (port != 0) {
      auto colon = h.rfind(':');
      if (colon != std::string::npos && h.find(']') == std::string::npos) h = h.substr(0, colon);
      h += ":" + std::to_string(port);
    } else if (h.find(':') == std::string::npos) {
      h += ":27017";
    }
    u = "mongodb://" + h + "/";
  } else if (!host.empty() || port != 0) {
    return Status(ErrorCode::kInvalidArgument, "--uri cannot be combined with --host or --port");
  }
  std::string pass = password;
  if (pass.empty() && !username.empty())
    if (const char* env = std::getenv("BSONPIPE_PASSWORD")) pass = env;
  if (!username.empty()) {
    auto scheme = u.find("://");
    if (scheme == std::string::npos) return Status(ErrorCode::kInvalidArgument, "--uri must start with mongodb://");
    auto at = u.find('@', scheme);
    auto slash = u.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash))
      return Status(ErrorCode::kInvalidArgument, "credentials given both in --uri and as --username");
    std::string cred = percent_encode(username);
    if (!pass.empty()) cred += ":" + percent_encode(pass);
    u.insert(scheme + 3, cred + "@");
  }
  std::vector<std::string> extra;
  if (!auth_db.empty()) extra.push_back("authSource=" + percent_encode(auth_db));
  if (!auth_mechanism.empty()) extra.push_back("authMechanism=" + percent_encode(auth_mechanism));
  if (!compressors.empty()) extra.push_back("compressors=" + compressors);
  for (auto& e : extra) {
    auto scheme = u.find("://");
    if (u.find('/', scheme + 3) == std::string::npos) u += "/";
    u += (u.find('?') == std::string::npos ? "?" : "&") + e;
  }
  auto parsed = io::parse_uri(u);
  if (!parsed) return parsed.status();
  return u;
}

}  // namespace bsonpipe::tools
