// A real S3 server for tests: the pinned s3rver 4.0.4 (tests/s3, SigV4-checking) on an
// ephemeral loopback port, with one bucket, its data in a temporary directory.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::test {

// s3rver's default credentials (it accepts only these).
inline constexpr const char* kS3rverKey = "S3RVER";
inline constexpr const char* kS3rverSecret = "S3RVER";

// The start of a command line that runs a program in `cwd` with s3rver's key and `secret` and
// none of the caller's AWS configuration (plain http: no CA bundle), plus `env` (NAME=VALUE).
// Append the program and its arguments.
inline std::vector<std::string> s3rver_env(const std::filesystem::path& cwd, const std::string& secret = kS3rverSecret,
                                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"/usr/bin/env", "--chdir=" + cwd.string()};
  for (const char* unset :
       {"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS"})
    argv.insert(argv.end(), {"-u", unset});
  argv.insert(argv.end(), {std::string("AWS_ACCESS_KEY_ID=") + kS3rverKey, "AWS_SECRET_ACCESS_KEY=" + secret,
                           "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"});
  argv.insert(argv.end(), env.begin(), env.end());
  return argv;
}

// Debian's /usr/bin/aws (an independent client) against the s3rver at `endpoint`.
inline RunResult aws_cli(const std::string& endpoint, const std::string& args) {
  return run_shell(
      "env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=S3RVER "
      "AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url " +
      endpoint + " " + args);
}

// Starts s3rver with `bucket` created; killed on destruction (and exits by itself if the test
// process dies). Throws if node or the npm package is missing (npm ci --prefix tests/s3).
// Threading: construct and destroy on one thread; endpoint() from any.
class S3Server {
 public:
  explicit S3Server(const std::string& bucket) {
    namespace fs = std::filesystem;
    fs::path s3 = fs::path(BSONPIPE_SOURCE_DIR) / "tests" / "s3";
    if (!fs::exists(s3 / "node_modules" / "@20minutes" / "s3rver" / "package.json"))
      throw std::runtime_error("s3rver is not installed: run npm ci --prefix tests/s3");
    data_ = temp_dir("s3rver");
    std::string line;
    child_ = Child::start({"node", "--openssl-legacy-provider", (s3 / "start.js").string(), "-d", data_.string(), "-a",
                           "127.0.0.1", "-p", "0", "--silent", "--configure-bucket", bucket},
                          "S3rver listening on", &line, std::chrono::seconds(60));
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path data_;
  Child child_;
  int port_ = 0;
};

}  // namespace bsonpipe::test
