// Ranged reads of one S3 object: explicit `bytes=A-B` ranges of read_chunk bytes, the next one
// fetched in the background while the caller consumes the current one.
#include <algorithm>
#include <cstring>
#include <future>

#include "io/s3_objects.hpp"

namespace bsonpipe::io {

namespace {

// Threading: one caller thread at a time; the prefetch touches only its own arguments.
class S3Reader final : public ReadableObject {
 public:
  S3Reader(std::shared_ptr<const S3Context> ctx, std::string key, std::filesystem::path path, std::uint64_t size,
           std::string etag)
      : ctx_(std::move(ctx)), key_(std::move(key)), path_(std::move(path)), size_(size), etag_(std::move(etag)) {}

  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override {
    if (pos_ == chunk_.size()) {
      if (offset_ >= size_ || n == 0) return std::size_t{0};
      auto next = prefetch_.valid() ? prefetch_.get() : fetch(fetched_);
      if (!next) return next.status();
      fetched_ += next->size();
      chunk_ = std::move(*next);
      pos_ = 0;
      if (fetched_ < size_) {
        std::uint64_t at = fetched_;
        prefetch_ = std::async(std::launch::async, [this, at] { return fetch(at); });
      }
    }
    std::size_t take = std::min(n, chunk_.size() - pos_);
    std::memcpy(buf, chunk_.data() + pos_, take);
    pos_ += take;
    offset_ += take;
    return take;
  }
  std::uint64_t offset() const override { return offset_; }
  const std::filesystem::path& path() const override { return path_; }

 private:
  // The bytes [at, at + read_chunk) (fewer at the end). s3rver answers bytes=0-0 and suffix
  // ranges wrongly, so a one-byte range is asked as two bytes and the first dropped.
  Result<Bytes> fetch(std::uint64_t at) const {
    std::uint64_t len = std::min<std::uint64_t>(std::max<std::size_t>(ctx_->options.read_chunk, 2), size_ - at);
    std::uint64_t first = at, last = at + len - 1;
    if (first == last && first > 0) --first;
    S3Request r;
    r.key = key_;
    if (first != last) r.headers.push_back("Range: bytes=" + std::to_string(first) + "-" + std::to_string(last));
    if (!etag_.empty()) r.headers.push_back("If-Match: " + etag_);
    // The offset goes in the Status, as local reads do: to_string() ends "(at offset N)".
    const std::string what = "cannot read " + ctx_->name(key_);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return Status(resp.status().code(), resp.status().message(), static_cast<std::int64_t>(at));
    if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text(), static_cast<std::int64_t>(at));
    std::string& body = resp->body;
    std::uint64_t skip = at - first;
    if (resp->status == 200) skip = at;  // the whole object: the range was ignored
    if (body.size() < skip + len)
      return Status(ErrorCode::kIo, what + ": short answer (" + std::to_string(body.size()) + " bytes)",
                    static_cast<std::int64_t>(at));
    const auto* p = reinterpret_cast<const std::uint8_t*>(body.data()) + skip;
    return Bytes(p, p + len);
  }

  std::shared_ptr<const S3Context> ctx_;
  std::string key_;
  std::filesystem::path path_;
  std::uint64_t size_;
  std::string etag_;
  std::uint64_t offset_ = 0;   // bytes returned to the caller
  std::uint64_t fetched_ = 0;  // bytes fetched (current chunk included)
  Bytes chunk_;
  std::size_t pos_ = 0;
  std::future<Result<Bytes>> prefetch_;  // last member: destroyed (joined) first
};

}  // namespace

Result<std::unique_ptr<ReadableObject>> open_s3_reader(std::shared_ptr<const S3Context> ctx, std::string key,
                                                       std::filesystem::path path) {
  S3Request r;
  r.method = "HEAD";
  r.key = key;
  const std::string what = "cannot open " + ctx->name(key);
  auto resp = ctx->client.send(r, what);
  if (!resp) return resp.status();
  if (resp->status == 404) return Status(ErrorCode::kIo, what + ": not found");
  if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
  std::uint64_t size = 0;
  try {
    size = std::stoull(resp->header("content-length"));
  } catch (const std::exception&) {
    return Status(ErrorCode::kIo, what + ": no Content-Length in the answer");
  }
  return std::unique_ptr<ReadableObject>(
      std::make_unique<S3Reader>(std::move(ctx), std::move(key), std::move(path), size, resp->header("etag")));
}

}  // namespace bsonpipe::io
