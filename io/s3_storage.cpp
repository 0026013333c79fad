#include "io/s3_storage.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "io/s3_objects.hpp"
#include "io/s3_xml.hpp"

namespace bsonpipe::io {

namespace fs = std::filesystem;

namespace {

struct Listed {
  std::string key;  // a full key, or a common prefix without its trailing '/'
  bool directory = false;
  std::uint64_t size = 0;
};

// Threading: stateless beyond the immutable context; every method may run concurrently.
class S3Storage final : public Storage {
 public:
  S3Storage(std::shared_ptr<const S3Context> ctx, std::string prefix)
      : ctx_(std::move(ctx)), prefix_(std::move(prefix)) {}

  Result<std::unique_ptr<WritableObject>> create(const fs::path& path) override {
    return make_s3_upload(ctx_, key(path), path);
  }
  Result<std::unique_ptr<ReadableObject>> open(const fs::path& path) override {
    if (path == "-") return Status(ErrorCode::kInvalidArgument, "standard input is not an S3 object");
    return open_s3_reader(ctx_, key(path), path);
  }
  Result<bool> exists(const fs::path& path) override {
    auto h = head(key(path));
    if (!h) return h.status();
    if (*h) return true;
    return is_directory(path);
  }
  Result<bool> is_directory(const fs::path& path) override {
    auto l = list_keys(dir_prefix(key(path)), false, 1);
    if (!l) return l.status();
    return !l->empty();
  }
  Result<std::uint64_t> size(const fs::path& path) override {
    const std::string k = key(path);
    auto h = head(k);
    if (!h) return h.status();
    if (!*h) return Status(ErrorCode::kIo, "cannot read the size of " + ctx_->name(k) + ": not found");
    return **h;
  }
  Result<std::vector<StorageEntry>> list(const fs::path& dir) override {
    // A flat listing, folded into the names directly below `dir`: a delimited one is not trusted,
    // since some servers (s3rver 4.0.4) leave out a prefix that holds only other prefixes.
    const std::string prefix = dir_prefix(key(dir));
    auto l = list_keys(prefix, false, 0);
    if (!l) return l.status();
    std::vector<StorageEntry> out;
    std::set<std::string> dirs;
    for (const auto& e : *l) {
      std::string name = e.key.substr(prefix.size());
      if (name.empty()) continue;  // a console's folder marker
      if (auto slash = name.find('/'); slash != std::string::npos) {
        if (slash > 0 && dirs.insert(name.substr(0, slash)).second) out.push_back({name.substr(0, slash), true, 0});
        continue;
      }
      out.push_back({name, false, e.size});
    }
    if (out.empty()) return Status(ErrorCode::kIo, "cannot list " + ctx_->name(prefix) + ": no such directory");
    std::sort(out.begin(), out.end(), [](const StorageEntry& a, const StorageEntry& b) { return a.name < b.name; });
    return out;
  }
  Status make_directories(const fs::path&) override { return {}; }  // prefixes are implicit
  Status remove(const fs::path& path) override { return remove_key(key(path)); }
  Status remove_all(const fs::path& path) override {
    const std::string k = key(path);
    if (!k.empty())
      if (Status s = remove_key(k); !s) return s;
    auto l = list_keys(dir_prefix(k), false, 0);
    if (!l) return l.status();
    for (const auto& e : *l)
      if (Status s = remove_key(e.key); !s) return s;
    return {};
  }
  Status rename(const fs::path& from, const fs::path& to) override;
  Result<std::unique_ptr<StorageLock>> try_lock(const fs::path& path, const std::string& holder) override {
    return s3_try_lock(ctx_, key(path), holder);
  }
  Result<std::optional<std::string>> lock_holder(const fs::path& path) override {
    return s3_lock_holder(*ctx_, key(path));
  }

 private:
  // PREFIX/path, normalized ("a/./b" is "a/b"; "" and "." are PREFIX itself).
  std::string key(const fs::path& path) const {
    std::string p = path.lexically_normal().generic_string();
    while (p.rfind("./", 0) == 0) p.erase(0, 2);
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (p == ".") p.clear();
    if (prefix_.empty()) return p;
    return p.empty() ? prefix_ : prefix_ + "/" + p;
  }
  static std::string dir_prefix(const std::string& k) { return k.empty() ? k : k + "/"; }

  // The size of `k`, nullopt when there is no such object.
  Result<std::optional<std::uint64_t>> head(const std::string& k) const {
    S3Request r;
    r.method = "HEAD";
    r.key = k;
    const std::string what = "cannot read " + ctx_->name(k);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return resp.status();
    if (resp->status == 404) return std::optional<std::uint64_t>();
    if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
    try {
      return std::optional<std::uint64_t>(std::stoull(resp->header("content-length")));
    } catch (const std::exception&) {
      return Status(ErrorCode::kIo, what + ": no Content-Length in the answer");
    }
  }

  Status remove_key(const std::string& k) const {
    S3Request r;
    r.method = "DELETE";
    r.key = k;
    const std::string what = "cannot remove " + ctx_->name(k);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return resp.status();
    if (!resp->ok() && resp->status != 404) return {ErrorCode::kIo, what + ": " + resp->error_text()};
    return {};
  }

  Status copy_key(const std::string& from, const std::string& to, std::uint64_t size) const {
    if (size > ctx_->options.single_copy_limit) return copy_in_parts(from, to, size);
    S3Request r;
    r.method = "PUT";
    r.key = to;
    r.headers = {copy_source(from)};
    const std::string what = "cannot copy " + ctx_->name(from) + " to " + ctx_->name(to);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return resp.status();
    // A copy may fail after its 200 status: the body is then an <Error>.
    if (!resp->ok() || !resp->error_code().empty()) return {ErrorCode::kIo, what + ": " + resp->error_text()};
    return {};
  }
  std::string copy_source(const std::string& from) const {
    return "x-amz-copy-source: /" + ctx_->client.bucket() + "/" + s3_uri_encode(from, true);
  }
  Status copy_in_parts(const std::string& from, const std::string& to, std::uint64_t size) const;

  Result<std::vector<Listed>> list_keys(const std::string& prefix, bool delimited, int max_keys) const;

  std::shared_ptr<const S3Context> ctx_;
  std::string prefix_;
};

// ListObjectsV2, page by page; `max_keys` > 0 stops after the first page of that many.
Result<std::vector<Listed>> S3Storage::list_keys(const std::string& prefix, bool delimited, int max_keys) const {
  std::vector<Listed> out;
  std::string token;
  const std::string what = "cannot list " + ctx_->name(prefix);
  while (true) {
    S3Request r;
    r.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (delimited) r.query.emplace_back("delimiter", "/");
    if (max_keys > 0) r.query.emplace_back("max-keys", std::to_string(max_keys));
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return resp.status();
    if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
    auto xml = parse_xml(resp->body);
    if (!xml) return Status(ErrorCode::kIo, what + ": " + xml.status().message());
    for (const auto& c : xml->children) {
      if (c.name == "Contents") {
        Listed e{c.child_text("Key"), false, 0};
        try {
          e.size = std::stoull(c.child_text("Size"));
        } catch (const std::exception&) {
          return Status(ErrorCode::kIo, what + ": a listed object without a size");
        }
        out.push_back(std::move(e));
      } else if (c.name == "CommonPrefixes") {
        std::string p = c.child_text("Prefix");
        if (!p.empty() && p.back() == '/') p.pop_back();
        out.push_back({p, true, 0});
      }
    }
    token = xml->child_text("NextContinuationToken");
    if (max_keys > 0 || xml->child_text("IsTruncated") != "true" || token.empty()) break;
  }
  return out;
}

// Objects over a single copy's limit (5 GiB on S3): UploadPartCopy of ranges, 10,000 at most.
Status S3Storage::copy_in_parts(const std::string& from, const std::string& to, std::uint64_t size) const {
  const std::string what = "cannot copy " + ctx_->name(from) + " to " + ctx_->name(to);
  std::uint64_t part = std::max<std::uint64_t>(ctx_->options.copy_part_size, (size + 9999) / 10000);
  auto id = s3_start_upload(*ctx_, to);
  if (!id) return id.status();
  std::map<int, std::string> etags;
  int number = 1;
  for (std::uint64_t at = 0; at < size; at += part, ++number) {
    S3Request r;
    r.method = "PUT";
    r.key = to;
    r.query = {{"partNumber", std::to_string(number)}, {"uploadId", *id}};
    r.headers = {copy_source(from), "x-amz-copy-source-range: bytes=" + std::to_string(at) + "-" +
                                        std::to_string(std::min(size, at + part) - 1)};
    auto resp = ctx_->client.send(r, what);
    Status failed;
    if (!resp) {
      failed = resp.status();
    } else if (!resp->ok() || !resp->error_code().empty()) {
      failed = {ErrorCode::kIo, what + ": " + resp->error_text()};
    } else if (auto xml = parse_xml(resp->body); !xml || xml->child_text("ETag").empty()) {
      failed = {ErrorCode::kIo, what + ": no ETag in the answer"};
    } else {
      etags[number] = xml->child_text("ETag");
    }
    if (!failed.is_ok()) {
      s3_abort_upload(*ctx_, to, *id);
      return failed;
    }
  }
  Status done = s3_complete_upload(*ctx_, to, *id, etags);
  if (!done.is_ok()) s3_abort_upload(*ctx_, to, *id);
  return done;
}

Status S3Storage::rename(const fs::path& from, const fs::path& to) {
  const std::string src = key(from), dst = key(to);
  auto h = head(src);
  if (!h) return h.status();
  if (*h) {
    if (Status s = copy_key(src, dst, **h); !s) return s;
    return remove_key(src);
  }
  // A directory: each object below it, copied then removed (not atomic).
  auto l = list_keys(dir_prefix(src), false, 0);
  if (!l) return l.status();
  if (l->empty())
    return {ErrorCode::kIo, "cannot rename " + ctx_->name(src) + " to " + ctx_->name(dst) + ": not found"};
  for (const auto& e : *l) {
    std::string target = dst + e.key.substr(src.size());
    if (Status s = copy_key(e.key, target, e.size); !s) return s;
    if (Status s = remove_key(e.key); !s) return s;
  }
  return {};
}

}  // namespace

bool is_s3_url(std::string_view url) {
  return url.rfind("s3://", 0) == 0;
}

Result<std::unique_ptr<Storage>> open_s3(std::string_view url, const S3Options& options) {
  if (!is_s3_url(url)) return Status(ErrorCode::kInvalidArgument, "not an s3:// location: " + std::string(url));
  std::string_view rest = url.substr(5);
  auto slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (bucket.empty()) return Status(ErrorCode::kInvalidArgument, "no bucket in " + std::string(url));
  AwsConfig config;
  if (options.config) {
    config = *options.config;
    if (!options.endpoint.empty()) config.endpoint_url = options.endpoint;
  } else {
    auto resolved = resolve_aws_config(options.environment, options.endpoint);
    if (!resolved) return resolved.status();
    config = std::move(*resolved);
  }
  // AWS_MAX_ATTEMPTS, as the AWS CLI and SDKs read it: all attempts of one request, the first included.
  int attempts = options.max_attempts;
  if (options.environment.getenv)
    if (auto v = options.environment.getenv("AWS_MAX_ATTEMPTS"); v && !v->empty()) {
      int n = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || end != v->data() + v->size() || n < 1)
        return Status(ErrorCode::kInvalidArgument, "AWS_MAX_ATTEMPTS is not a positive integer: " + *v);
      attempts = n;
    }
  S3RetryPolicy retry{std::max(1, attempts), options.first_backoff};
  auto ctx = std::make_shared<const S3Context>(S3Context{S3Client(std::move(config), bucket, retry), options});
  return std::unique_ptr<Storage>(std::make_unique<S3Storage>(std::move(ctx), std::move(prefix)));
}

}  // namespace bsonpipe::io
