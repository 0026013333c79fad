// --config FILE: the YAML file mongodump/mongorestore read so that secrets stay off the command
// line (common/options/options.go, ParseConfigFile). Only the keys mongo-tools accepts; any other
// key, a repeated key or bad YAML is an error.
#pragma once

#include <optional>
#include <string>

#include "formats/status.hpp"

namespace bsonpipe::tools {

struct ConfigFile {
  std::optional<std::string> password;              // "password": --password
  std::optional<std::string> uri;                   // "uri": --uri
  std::optional<std::string> ssl_pem_key_password;  // "sslPEMKeyPassword": the client key's password
  // "destinationPassword" (mongomirror's) is accepted and ignored, as mongodump does.
};

// Reads and checks `path`. Errors are one line naming the file (never a value from it).
Result<ConfigFile> read_config_file(const std::string& path);

}  // namespace bsonpipe::tools
