// Streamed multipart uploads: parts fill one at a time on the writer's thread and are sent by a
// few uploader threads owned by the object, at most `parallel_parts` queued or in flight.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "io/s3_objects.hpp"
#include "io/s3_xml.hpp"

namespace bsonpipe::io {

namespace {

constexpr int kMaxParts = 10000;
constexpr std::size_t kMaxPartSize = std::size_t{5} << 30;

// The size of part `n` (1-based): doubled every 1,000 parts, so 10,000 parts starting at 8 MiB
// hold 8 MiB * 1,000 * 1,023 (over 8 TB) and a 5 TB object fits.
std::size_t part_size_for(std::size_t first, int n) {
  std::size_t size = first << std::min((n - 1) / 1000, 20);
  return std::min(size, kMaxPartSize);
}

// Threading: one caller thread at a time (WritableObject's contract); the uploader threads only
// touch the queue, the ETags and the first failure, all under mu_.
class S3Upload final : public WritableObject {
 public:
  S3Upload(std::shared_ptr<const S3Context> ctx, std::string key, std::filesystem::path path)
      : ctx_(std::move(ctx)), key_(std::move(key)), path_(std::move(path)) {}
  ~S3Upload() override { abort(); }

  Status write(ByteSpan data) override {
    if (done_) return {ErrorCode::kInternal, "write after commit or abort of " + ctx_->name(key_)};
    while (!data.empty()) {
      std::size_t want = part_size_for(ctx_->options.part_size, next_part_);
      if (buffer_.capacity() < want) buffer_.reserve(want);
      std::size_t take = std::min(want - buffer_.size(), data.size());
      buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      data = data.subspan(take);
      bytes_ += take;
      if (buffer_.size() == want)
        if (Status s = dispatch(); !s) return s;
    }
    return {};
  }

  Status commit(bool) override {
    if (done_) return {ErrorCode::kInternal, "commit after commit or abort of " + ctx_->name(key_)};
    if (upload_id_.empty()) return put_whole();
    if (!buffer_.empty())
      if (Status s = dispatch(); !s) return fail(s);
    Status s = drain();
    if (!s) return fail(s);
    if (Status c = complete(); !c) return fail(c);
    done_ = true;
    return {};
  }

  void abort() override {
    stop_uploaders();
    if (!done_ && !upload_id_.empty()) s3_abort_upload(*ctx_, key_, upload_id_);
    done_ = true;
    buffer_ = Bytes();
  }

  std::uint64_t bytes_written() const override { return bytes_; }
  const std::filesystem::path& path() const override { return path_; }

 private:
  Status fail(Status s) {
    abort();
    return s;
  }

  // A small object: one PUT at commit.
  Status put_whole() {
    S3Request r;
    r.method = "PUT";
    r.key = key_;
    r.body = buffer_;
    auto resp = ctx_->client.send(r, "cannot write " + ctx_->name(key_));
    done_ = true;
    buffer_ = Bytes();
    if (!resp) return resp.status();
    if (!resp->ok()) return {ErrorCode::kIo, "cannot write " + ctx_->name(key_) + ": " + resp->error_text()};
    return {};
  }

  Status start_upload() {
    auto id = s3_start_upload(*ctx_, key_);
    if (!id) return id.status();
    upload_id_ = *id;
    return {};
  }

  // Hands the full buffer to the uploaders, waiting while `parallel_parts` are queued or busy.
  Status dispatch() {
    if (next_part_ > kMaxParts) return {ErrorCode::kIo, "cannot write " + ctx_->name(key_) + ": over 10000 parts"};
    if (upload_id_.empty())
      if (Status s = start_upload(); !s) return s;
    const int limit = std::max(1, ctx_->options.parallel_parts);
    while (static_cast<int>(uploaders_.size()) < limit) uploaders_.emplace_back([this] { upload_loop(); });
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !failed_.is_ok() || static_cast<int>(queue_.size()) + busy_ < limit; });
    if (!failed_.is_ok()) return failed_;
    queue_.emplace_back(next_part_++, std::move(buffer_));
    buffer_ = Bytes();
    cv_.notify_all();
    return {};
  }

  void upload_loop() {
    std::unique_lock lk(mu_);
    while (true) {
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [number, data] = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
      bool skip = !failed_.is_ok();
      lk.unlock();
      Result<std::string> etag = skip ? Result<std::string>(std::string()) : upload_part(number, data);
      data = Bytes();
      lk.lock();
      --busy_;
      if (!etag && failed_.is_ok()) failed_ = etag.status();
      if (etag && !skip) etags_[number] = *etag;
      cv_.notify_all();
    }
  }

  Result<std::string> upload_part(int number, const Bytes& data) const {
    S3Request r;
    r.method = "PUT";
    r.key = key_;
    r.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    r.body = data;
    const std::string what = "cannot write " + ctx_->name(key_) + " part " + std::to_string(number);
    auto resp = ctx_->client.send(r, what);
    if (!resp) return resp.status();
    if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
    std::string etag = resp->header("etag");
    if (etag.empty()) return Status(ErrorCode::kIo, what + ": no ETag in the answer");
    return etag;
  }

  // Waits until every dispatched part is sent; the first failure.
  Status drain() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return queue_.empty() && busy_ == 0; });
    return failed_;
  }

  void stop_uploaders() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
      queue_.clear();
      cv_.notify_all();
    }
    for (auto& t : uploaders_) t.join();
    uploaders_.clear();
  }

  Status complete() {
    stop_uploaders();
    return s3_complete_upload(*ctx_, key_, upload_id_, etags_);
  }

  std::shared_ptr<const S3Context> ctx_;
  std::string key_;
  std::filesystem::path path_;
  Bytes buffer_;
  std::uint64_t bytes_ = 0;
  int next_part_ = 1;
  std::string upload_id_;
  bool done_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int, Bytes>> queue_;
  int busy_ = 0;
  bool stop_ = false;
  std::map<int, std::string> etags_;
  Status failed_;
  std::vector<std::thread> uploaders_;  // at most parallel_parts; joined by stop_uploaders()
};

}  // namespace

Result<std::string> s3_start_upload(const S3Context& ctx, const std::string& key) {
  S3Request r;
  r.method = "POST";
  r.key = key;
  r.query = {{"uploads", ""}};
  const std::string what = "cannot start the upload of " + ctx.name(key);
  auto resp = ctx.client.send(r, what);
  if (!resp) return resp.status();
  if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
  auto xml = parse_xml(resp->body);
  if (!xml) return Status(ErrorCode::kIo, what + ": " + xml.status().message());
  std::string id = xml->child_text("UploadId");
  if (id.empty()) return Status(ErrorCode::kIo, what + ": no UploadId in the answer");
  return id;
}

Status s3_complete_upload(const S3Context& ctx, const std::string& key, const std::string& upload_id,
                          const std::map<int, std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& [number, etag] : etags)
    body += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + xml_escape(etag) + "</ETag></Part>";
  body += "</CompleteMultipartUpload>";
  S3Request r;
  r.method = "POST";
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  r.headers = {"Content-Type: application/xml"};
  r.body = ByteSpan(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
  const std::string what = "cannot complete the upload of " + ctx.name(key);
  auto resp = ctx.client.send(r, what);
  if (!resp) return resp.status();
  // S3 may answer 200 and still fail: the body is then an <Error>.
  if (!resp->ok() || !resp->error_code().empty()) return {ErrorCode::kIo, what + ": " + resp->error_text()};
  return {};
}

void s3_abort_upload(const S3Context& ctx, const std::string& key, const std::string& upload_id) {
  S3Request r;
  r.method = "DELETE";
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  // Best effort and silent: servers without it (s3rver: MethodNotAllowed) keep unlisted parts
  // only, never an object under `key`.
  auto resp = ctx.client.send(r, "cannot abort the upload of " + ctx.name(key));
  (void)resp;
}

std::unique_ptr<WritableObject> make_s3_upload(std::shared_ptr<const S3Context> ctx, std::string key,
                                               std::filesystem::path path) {
  return std::make_unique<S3Upload>(std::move(ctx), std::move(key), std::move(path));
}

}  // namespace bsonpipe::io
