#include "io/aws_config.hpp"

#include <cstdlib>
#include <map>

#include "io/storage.hpp"

namespace bsonpipe::io {

namespace {

using Section = std::map<std::string, std::string>;
using IniFile = std::map<std::string, Section>;

std::string trim(std::string_view s) {
  const char* ws = " \t\r";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

// The AWS INI dialect: [section], key = value, # and ; comments. Indented lines continue a
// nested setting (e.g. "s3 =" followed by "  addressing_style = path") and are skipped: none of
// the keys resolved here is nested.
IniFile parse_ini(std::string_view text) {
  IniFile out;
  Section* current = nullptr;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!raw.empty() && (raw[0] == ' ' || raw[0] == '\t')) continue;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = &out[trim(std::string_view(line).substr(1, line.size() - 2))];
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || current == nullptr) continue;
    (*current)[trim(std::string_view(line).substr(0, eq))] = trim(std::string_view(line).substr(eq + 1));
  }
  return out;
}

// Reads an INI file; a missing file is an empty one.
Result<IniFile> read_ini(Storage& files, const std::string& path) {
  auto present = files.exists(path);
  if (!present) return present.status();
  if (!*present) return IniFile{};
  auto bytes = files.read_all(path);
  if (!bytes) return bytes.status();
  return parse_ini(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

const Section* find_section(const IniFile& ini, const std::string& name) {
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::string value_of(const Section* s, const std::string& key) {
  if (s == nullptr) return {};
  auto it = s->find(key);
  return it == s->end() ? std::string() : it->second;
}

struct Lookup {
  const AwsEnvironment& env;
  std::string get(std::string_view name) const {
    auto v = env.getenv(name);
    return v ? *v : std::string();
  }
};

// Credentials of the profile: the credentials file first, then the config file.
bool take_profile_credentials(const Section* s, AwsConfig& c) {
  std::string id = value_of(s, "aws_access_key_id");
  std::string secret = value_of(s, "aws_secret_access_key");
  if (id.empty() || secret.empty()) return false;
  c.access_key_id = id;
  c.secret_access_key = secret;
  c.session_token = value_of(s, "aws_session_token");
  return true;
}

}  // namespace

AwsEnvironment process_aws_environment() {
  AwsEnvironment env;
  env.getenv = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  return env;
}

Result<AwsConfig> resolve_aws_config(const AwsEnvironment& env, std::string_view endpoint_override) {
  Lookup look{env};
  Storage& files = env.files != nullptr ? *env.files : local_storage();
  std::string home = look.get("HOME");
  std::string cred_path = look.get("AWS_SHARED_CREDENTIALS_FILE");
  if (cred_path.empty()) cred_path = home + "/.aws/credentials";
  std::string config_path = look.get("AWS_CONFIG_FILE");
  if (config_path.empty()) config_path = home + "/.aws/config";

  AwsConfig c;
  bool named = true;
  c.profile = look.get("AWS_PROFILE");
  if (c.profile.empty()) c.profile = look.get("AWS_DEFAULT_PROFILE");
  if (c.profile.empty()) {
    c.profile = "default";
    named = false;
  }
  auto creds = read_ini(files, cred_path);
  if (!creds) return creds.status();
  auto config = read_ini(files, config_path);
  if (!config) return config.status();
  const Section* cred_section = find_section(*creds, c.profile);
  const Section* config_section =
      find_section(*config, c.profile == "default" ? std::string("default") : "profile " + c.profile);
  if (config_section == nullptr && c.profile == "default") config_section = find_section(*config, "profile default");
  if (named && cred_section == nullptr && config_section == nullptr)
    return Status(ErrorCode::kInvalidArgument,
                  "AWS profile '" + c.profile + "' not found in " + cred_path + " or " + config_path);

  c.access_key_id = look.get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = look.get("AWS_SECRET_ACCESS_KEY");
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
    c.session_token = look.get("AWS_SESSION_TOKEN");
  } else if (!take_profile_credentials(cred_section, c) && !take_profile_credentials(config_section, c)) {
    return Status(ErrorCode::kInvalidArgument,
                  "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '" + c.profile +
                      "' in " + cred_path);
  }

  c.region = look.get("AWS_REGION");
  if (c.region.empty()) c.region = look.get("AWS_DEFAULT_REGION");
  if (c.region.empty()) c.region = value_of(config_section, "region");
  if (c.region.empty()) c.region = "us-east-1";

  c.endpoint_url = std::string(endpoint_override);
  if (c.endpoint_url.empty()) c.endpoint_url = look.get("AWS_ENDPOINT_URL_S3");
  if (c.endpoint_url.empty()) c.endpoint_url = look.get("AWS_ENDPOINT_URL");
  if (c.endpoint_url.empty()) c.endpoint_url = value_of(config_section, "endpoint_url");
  while (!c.endpoint_url.empty() && c.endpoint_url.back() == '/') c.endpoint_url.pop_back();

  c.ca_bundle = look.get("AWS_CA_BUNDLE");
  if (c.ca_bundle.empty()) c.ca_bundle = value_of(config_section, "ca_bundle");
  return c;
}

}  // namespace bsonpipe::io
