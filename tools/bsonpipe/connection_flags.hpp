// The connection flags every command shares (--uri, --host, --port, --username, --password,
// --authenticationDatabase, --authenticationMechanism, --compressors, --tls, --tlsCAFile,
// --tlsInsecure), folded into one URI. The password comes from the URI, --password,
// $BSONPIPE_PASSWORD or, when stdin is a terminal, a prompt on /dev/tty with echo off.
#pragma once

#include <string>

#include "formats/status.hpp"

namespace CLI {
class App;
}

namespace bsonpipe::tools {

struct ConnectionFlags {
  std::string uri;
  std::string host;
  int port = 0;
  std::string username;
  std::string password;
  std::string auth_db;
  std::string auth_mechanism;
  std::string compressors;
  bool tls = false;
  std::string tls_ca_file;
  bool tls_insecure = false;
  // Client certificate (PEM: certificate + private key) and the key's password; also set by
  // --config's sslPEMKeyPassword.
  std::string tls_certificate_key_file;
  std::string tls_certificate_key_file_password;
  // mongo-tools' hidden flags (seconds; 0 = the URI's or the default).
  bool ssl_allow_invalid_certificates = false, ssl_allow_invalid_hostnames = false, trace = false;
  int dial_timeout_s = 0, socket_timeout_s = 0, server_selection_timeout_s = 0, tcp_keepalive_s = 0, num_threads = 0;

  // --config FILE (tools/bsonpipe/config_file.hpp): password, uri and sslPEMKeyPassword for the
  // flags not given on the command line.
  std::string config_path;

  // Registers the flags on `cmd`. `uri_flag` is the flag's name ("--uri", or "--from"/"--to").
  void add_to(CLI::App& cmd, const std::string& uri_flag = "--uri");
  // The effective connection string: --uri (default: built from --host and --port) combined with
  // the other flags as mongo-tools does (io::merge_command_line: flags must agree with the URI),
  // credentials percent-encoded, the password also from $BSONPIPE_PASSWORD or the prompt. With
  // `db` (the command's --db): an empty one takes the URI's database, a different one is an
  // error. Prints a one-line warning on stderr when TLS verification is turned off.
  Result<std::string> resolve(std::string* db = nullptr) const;
};

std::string percent_encode(const std::string& s);

}  // namespace bsonpipe::tools
