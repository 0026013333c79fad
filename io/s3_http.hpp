// One S3 bucket's HTTP requests over libcurl: URLs (path-style with an endpoint, virtual-hosted
// on AWS), SigV4 signing, TLS verification, retries with backoff. The S3 storage backend's wire.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/aws_config.hpp"

namespace bsonpipe::io {

struct S3Request {
  std::string method = "GET";                              // GET, HEAD, PUT, POST, DELETE
  std::string key;                                         // the object key, not encoded ("" for the bucket itself)
  std::vector<std::pair<std::string, std::string>> query;  // not encoded; any order
  std::vector<std::string> headers;                        // "Name: value"
  formats::ByteSpan body;                                  // PUT/POST payload
};

struct S3Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased

  std::string header(const std::string& lower_name) const;
  bool ok() const { return status >= 200 && status < 300; }
  // "S3 error CODE: MESSAGE (HTTP N)" from the XML error body (or the status alone).
  std::string error_text() const;
  // The <Code> of the XML error body, "" when there is none.
  std::string error_code() const;
};

struct S3RetryPolicy {
  int max_attempts = 5;  // transport failures, 5xx, SlowDown
  std::chrono::milliseconds first_backoff{100};
};

// Percent-encodes every byte outside A-Za-z0-9-._~ (and '/' when `keep_slash`).
std::string s3_uri_encode(std::string_view s, bool keep_slash);

// Threading: send() may be called from any thread at the same time (one curl handle per call).
class S3Client {
 public:
  S3Client(AwsConfig config, std::string bucket, S3RetryPolicy retry);
  // Sends the request, retrying transport failures and 5xx answers; any final HTTP status is
  // returned as a response (the caller decides), a transport failure as an error naming `what`.
  Result<S3Response> send(const S3Request& request, const std::string& what) const;
  const std::string& bucket() const { return bucket_; }
  const AwsConfig& config() const { return config_; }

 private:
  std::string url(const S3Request& request) const;
  AwsConfig config_;
  std::string bucket_;
  S3RetryPolicy retry_;
};

}  // namespace bsonpipe::io
