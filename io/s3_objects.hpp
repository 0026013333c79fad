// The pieces of the S3 storage backend behind io/s3_storage.hpp: the shared context, streamed
// multipart uploads, ranged reads and lock objects. Internal to io/.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "io/s3_http.hpp"
#include "io/s3_storage.hpp"

namespace bsonpipe::io {

// What every object of one S3Storage shares. Threading: immutable after construction.
struct S3Context {
  S3Client client;
  S3Options options;
  // "s3://BUCKET/KEY", the name errors use.
  std::string name(const std::string& key) const { return "s3://" + client.bucket() + "/" + key; }
};

// An upload to `key`, shown to callers as `path`; nothing is visible before commit().
std::unique_ptr<WritableObject> make_s3_upload(std::shared_ptr<const S3Context> ctx, std::string key,
                                               std::filesystem::path path);
// Multipart upload steps, shared by uploads and large copies. `etags` by part number.
Result<std::string> s3_start_upload(const S3Context& ctx, const std::string& key);
Status s3_complete_upload(const S3Context& ctx, const std::string& key, const std::string& upload_id,
                          const std::map<int, std::string>& etags);
void s3_abort_upload(const S3Context& ctx, const std::string& key, const std::string& upload_id);
// A reader of `key` (its size and ETag are taken by a HEAD now); a missing key is an error.
Result<std::unique_ptr<ReadableObject>> open_s3_reader(std::shared_ptr<const S3Context> ctx, std::string key,
                                                       std::filesystem::path path);
Result<std::unique_ptr<StorageLock>> s3_try_lock(std::shared_ptr<const S3Context> ctx, std::string key,
                                                 const std::string& holder);
Result<std::optional<std::string>> s3_lock_holder(const S3Context& ctx, const std::string& key);

}  // namespace bsonpipe::io
