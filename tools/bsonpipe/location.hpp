// A dump location given on the command line (a local path or `s3://BUCKET/KEY`) turned into the
// storage the pipeline writes or reads through and the path inside it.
#pragma once

#include <memory>
#include <string>

#include "formats/status.hpp"
#include "io/storage.hpp"

namespace bsonpipe::tools {

// Where a dump lives. Threading: not shared; the storage itself may be used from any thread.
struct DumpLocation {
  std::unique_ptr<io::Storage> owned;  // the S3 storage (null for a local path)
  std::string path;                    // the path inside `storage()`: a local path or an S3 key
  std::string bucket_url;              // "s3://BUCKET/" for a remote location, "" for a local one
  bool remote() const { return owned != nullptr; }
  // A path inside this location's storage as the user wrote it: s3://BUCKET/KEY for a key.
  std::string display(const std::string& inside) const { return bucket_url + inside; }
  // The storage for pipeline options: null = the local file system.
  io::Storage* storage() const { return owned.get(); }
};

// `s3://BUCKET/KEY` opens the bucket (credentials and region from the environment or the AWS
// profile, `s3_endpoint` overriding the endpoint, path-style) and names KEY inside it; anything
// else is a local path. Errors: a malformed URL (no bucket or no key), no credentials.
Result<DumpLocation> open_location(const std::string& location, const std::string& s3_endpoint);

}  // namespace bsonpipe::tools
