#include "tools/bsonpipe/config_file.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace bsonpipe::tools {

namespace {

Status bad_config(const std::string& path, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "error parsing config file " + path + ": " + why);
}

}  // namespace

Result<ConfigFile> read_config_file(const std::string& path) {
  // Read directly, not through io::Storage: the user's --config YAML is local configuration
  // (it holds passwords), not a dump or restore location.
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status(ErrorCode::kInvalidArgument,
                  "error opening file with --config: open " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIo, "error reading file with --config " + path);

  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    // e.msg without the library's prefix; lines counted from 1.
    return bad_config(path, "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  ConfigFile out;
  if (root.IsNull()) return out;  // an empty file sets nothing
  if (!root.IsMap()) return bad_config(path, "the file must be a mapping of keys to values");
  std::set<std::string> seen;
  for (const auto& kv : root) {
    int line = kv.first.Mark().line + 1;
    std::string where = "line " + std::to_string(line) + ": ";
    if (!kv.first.IsScalar()) return bad_config(path, where + "a key must be a plain name");
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) return bad_config(path, where + "key \"" + key + "\" already set");
    std::optional<std::string>* field = nullptr;
    if (key == "password") {
      field = &out.password;
    } else if (key == "uri") {
      field = &out.uri;
    } else if (key == "sslPEMKeyPassword") {
      field = &out.ssl_pem_key_password;
    } else if (key != "destinationPassword") {
      return bad_config(path, where + "field " + key + " not found (the keys are password, uri and sslPEMKeyPassword)");
    }
    std::string value;
    if (kv.second.IsScalar())
      value = kv.second.Scalar();
    else if (!kv.second.IsNull())
      return bad_config(path, where + "the value of " + key + " must be a string");
    if (field != nullptr) *field = std::move(value);
  }
  return out;
}

}  // namespace bsonpipe::tools
