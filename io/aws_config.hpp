// AWS client configuration resolved the way the AWS CLI and SDKs do it: environment variables,
// then the shared credentials and config files of a profile. Used by the S3 storage backend.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "formats/status.hpp"

namespace bsonpipe::io {

class Storage;

// What a request to S3 needs. Never print secret_access_key or session_token.
struct AwsConfig {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials
  std::string region;         // never empty once resolved ("us-east-1" by default)
  std::string endpoint_url;   // empty: AWS's own endpoints (virtual-hosted addressing)
  std::string ca_bundle;      // empty: the system's CA store
  std::string profile;        // the profile that was consulted
};

// Where the resolver looks. `getenv` returns nullopt for an unset variable; `files` reads
// ~/.aws/credentials and ~/.aws/config (and their AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE
// replacements). Threading: the callbacks are called on the resolving thread only.
struct AwsEnvironment {
  std::function<std::optional<std::string>(std::string_view)> getenv;
  Storage* files = nullptr;  // null: io::local_storage()
};

// The process's own environment and the local file system.
AwsEnvironment process_aws_environment();

// Resolves credentials, region, endpoint and CA bundle. Precedence (as the AWS CLI):
//  credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile
//    (AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default") in the credentials file, else in the
//    config file;
//  region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, "us-east-1";
//  endpoint: `endpoint_override` (the --s3-endpoint option), AWS_ENDPOINT_URL_S3,
//    AWS_ENDPOINT_URL, the profile's `endpoint_url`;
//  CA bundle: AWS_CA_BUNDLE, the profile's `ca_bundle`.
// Errors (one line, never a secret): no credentials found, a named profile that exists in
// neither file, an unreadable file.
// Threading: reentrant.
Result<AwsConfig> resolve_aws_config(const AwsEnvironment& env, std::string_view endpoint_override = {});

}  // namespace bsonpipe::io
