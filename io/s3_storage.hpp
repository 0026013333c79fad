// The S3 backend of the storage seam: a Storage over one `s3://BUCKET/PREFIX` location, with
// multipart uploads in parallel, ranged reads with prefetch, ListObjectsV2 listings and a
// lease-based lock object. Talks to AWS S3 or any S3-compatible endpoint (path-style).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "formats/status.hpp"
#include "io/aws_config.hpp"
#include "io/storage.hpp"

namespace bsonpipe::io {

struct S3Options {
  // The --s3-endpoint option: overrides AWS_ENDPOINT_URL and the profile (path-style when set).
  std::string endpoint;
  // Where credentials and settings come from; the process environment by default.
  AwsEnvironment environment = process_aws_environment();
  // A resolved configuration to use instead (tests); `endpoint` still overrides its endpoint.
  std::optional<AwsConfig> config;
  // Uploads: the first part size (grown so that 5 TB fit in 10,000 parts) and the parts in
  // flight at once per object; memory per object is about (parallel_parts + 1) * part size.
  std::size_t part_size = 8u << 20;
  int parallel_parts = 4;
  // Reads: bytes per ranged GET; one more range is prefetched while the caller consumes one.
  std::size_t read_chunk = 8u << 20;
  // Renames copy objects up to this size in one CopyObject, larger ones in parts of at least
  // copy_part_size (S3's limits: 5 GiB per copy, 10,000 parts).
  std::uint64_t single_copy_limit = std::uint64_t{5} << 30;
  std::uint64_t copy_part_size = std::uint64_t{512} << 20;
  // Per request (transport failures, 5xx, SlowDown); AWS_MAX_ATTEMPTS in `environment` overrides it.
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{100};
  // Locks: how long a lock object stays valid without renewal (renewed every third of it).
  std::chrono::seconds lock_lease{120};
};

// True for "s3://..." locations.
bool is_s3_url(std::string_view url);

// A Storage for `s3://BUCKET[/PREFIX]`: paths given to it are keys below PREFIX ("a/b" is
// PREFIX/a/b). Errors: a malformed URL, unresolvable credentials (never printing a secret), an
// AWS_MAX_ATTEMPTS that is not a positive integer.
// Threading: the returned Storage may be used from any thread at the same time.
Result<std::unique_ptr<Storage>> open_s3(std::string_view url, const S3Options& options);

}  // namespace bsonpipe::io
