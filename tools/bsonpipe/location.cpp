// Command-line dump locations: local paths or s3:// URLs.
#include "tools/bsonpipe/location.hpp"

#include "io/s3_storage.hpp"

namespace bsonpipe::tools {

Result<DumpLocation> open_location(const std::string& location, const std::string& s3_endpoint) {
  DumpLocation loc;
  if (!io::is_s3_url(location)) {
    loc.path = location;
    return loc;
  }
  // The storage is the bucket and the dump its key: the dump's own names (a directory dump's
  // staging and lock objects) then sit beside KEY, as they sit beside a local directory.
  std::string rest = location.substr(5);
  auto slash = rest.find('/');
  std::string key = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  while (!key.empty() && key.back() == '/') key.pop_back();
  while (!key.empty() && key.front() == '/') key.erase(0, 1);
  if (slash == 0 || key.empty())
    return Status(ErrorCode::kInvalidArgument, location + ": an S3 location is s3://BUCKET/KEY");
  io::S3Options options;
  options.endpoint = s3_endpoint;
  auto s = io::open_s3("s3://" + rest.substr(0, slash), options);
  if (!s) return Status(s.status().code(), location + ": " + s.status().message());
  loc.owned = std::move(*s);
  loc.path = key;
  loc.bucket_url = "s3://" + rest.substr(0, slash) + "/";
  return loc;
}

}  // namespace bsonpipe::tools
