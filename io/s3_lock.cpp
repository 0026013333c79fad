// Lock objects on S3: the object's body is the holder text, its x-amz-meta-lease-expires the
// time (ms since the epoch, the writer's clock) until which the lock holds unless renewed.
//
// What is guaranteed:
//  - On AWS S3 (conditional writes): taking a free lock is a PUT with If-None-Match: *, taking
//    an expired one a PUT with If-Match: <its ETag>, renewing a PUT with If-Match: <our ETag>.
//    Of racing takers exactly one succeeds; the others get 412 and see the lock as held.
//  - On servers that ignore conditions (s3rver 4.0.4): a try_lock first reads the lock object,
//    so a lock that is already held and unexpired is never taken; but two try_locks racing
//    between that read and their PUT can both succeed (the last PUT's holder text wins). Use
//    such a server for one writer at a time only.
//  - A holder renews its lease every third of S3Options::lock_lease; a lock whose holder died
//    frees itself when the lease ends (clocks of the machines must agree to within the lease).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "io/s3_objects.hpp"

namespace bsonpipe::io {

namespace {

constexpr int kEmptyReads = 50;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool expired(const S3Response& r) {
  try {
    return std::stoll(r.header("x-amz-meta-lease-expires")) < now_ms();
  } catch (const std::exception&) {
    return false;  // a lock object without a lease (written by hand) holds until removed
  }
}

// PUTs the lock object with `condition` ("If-None-Match: *" or "If-Match: ETAG"); the new ETag,
// "" when the condition failed (someone else holds it).
Result<std::string> put_lock(const S3Context& ctx, const std::string& key, const std::string& holder,
                             const std::string& condition) {
  S3Request r;
  r.method = "PUT";
  r.key = key;
  r.headers = {condition, "Content-Type: text/plain",
               "x-amz-meta-lease-expires: " +
                   std::to_string(now_ms() + std::chrono::milliseconds(ctx.options.lock_lease).count())};
  r.body = ByteSpan(reinterpret_cast<const std::uint8_t*>(holder.data()), holder.size());
  const std::string what = "cannot lock " + ctx.name(key);
  auto resp = ctx.client.send(r, what);
  if (!resp) return resp.status();
  if (resp->status == 412 || resp->status == 409) return std::string();
  if (!resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
  std::string etag = resp->header("etag");
  return etag.empty() ? std::string("*") : etag;
}

// Threading: set_holder from one thread at a time; the renewer shares etag_/holder_ under mu_.
class S3Lock final : public StorageLock {
 public:
  S3Lock(std::shared_ptr<const S3Context> ctx, std::string key, std::string holder, std::string etag)
      : ctx_(std::move(ctx)), key_(std::move(key)), holder_(std::move(holder)), etag_(std::move(etag)) {
    renewer_ = std::thread([this] { renew_loop(); });
  }
  ~S3Lock() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    renewer_.join();
    S3Request r;
    r.method = "DELETE";
    r.key = key_;
    auto resp = ctx_->client.send(r, "cannot unlock " + ctx_->name(key_));
    (void)resp;  // a lock left behind frees itself when its lease ends
  }
  S3Lock(const S3Lock&) = delete;
  S3Lock& operator=(const S3Lock&) = delete;

  Status set_holder(const std::string& holder) override {
    if (holder.empty()) return {ErrorCode::kInvalidArgument, "cannot lock " + ctx_->name(key_) + ": no holder text"};
    std::lock_guard lk(mu_);
    holder_ = holder;
    return renew_locked();
  }

 private:
  Status renew_locked() {
    auto etag = put_lock(*ctx_, key_, holder_, "If-Match: " + etag_);
    if (!etag) return etag.status();
    if (etag->empty()) return {ErrorCode::kIo, "cannot lock " + ctx_->name(key_) + ": the lock was taken over"};
    etag_ = *etag;
    return {};
  }

  void renew_loop() {
    std::unique_lock lk(mu_);
    auto every = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_->options.lock_lease) / 3;
    while (!cv_.wait_for(lk, every, [&] { return stop_; })) {
      Status s = renew_locked();
      (void)s;  // retried at the next turn; the lease covers two more
    }
  }

  std::shared_ptr<const S3Context> ctx_;
  std::string key_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string holder_;
  std::string etag_;
  bool stop_ = false;
  std::thread renewer_;
};

// Reads the lock object. A holder text is never empty, so an empty body is a read that raced a
// rewrite on a server that rewrites objects in place (s3rver truncates, then writes; seen in CI
// as an empty holder during a renewal): read again, for up to about a second.
Result<S3Response> get_lock(const S3Context& ctx, const std::string& key) {
  S3Request r;
  r.key = key;
  const std::string what = "cannot read the lock " + ctx.name(key);
  for (int attempt = 1;; ++attempt) {
    auto resp = ctx.client.send(r, what);
    if (!resp) return resp.status();
    if (resp->status != 404 && !resp->ok()) return Status(ErrorCode::kIo, what + ": " + resp->error_text());
    if (resp->status == 404 || !resp->body.empty() || attempt == kEmptyReads) return resp;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

Result<std::unique_ptr<StorageLock>> s3_try_lock(std::shared_ptr<const S3Context> ctx, std::string key,
                                                 const std::string& holder) {
  if (holder.empty()) return Status(ErrorCode::kInvalidArgument, "cannot lock " + ctx->name(key) + ": no holder text");
  auto current = get_lock(*ctx, key);
  if (!current) return current.status();
  std::string condition = "If-None-Match: *";
  if (current->ok()) {
    if (!expired(*current)) return std::unique_ptr<StorageLock>();
    condition = "If-Match: " + current->header("etag");
  }
  auto etag = put_lock(*ctx, key, holder, condition);
  if (!etag) return etag.status();
  if (etag->empty()) return std::unique_ptr<StorageLock>();
  return std::unique_ptr<StorageLock>(std::make_unique<S3Lock>(std::move(ctx), std::move(key), holder, *etag));
}

Result<std::optional<std::string>> s3_lock_holder(const S3Context& ctx, const std::string& key) {
  auto current = get_lock(ctx, key);
  if (!current) return current.status();
  if (current->status == 404 || expired(*current)) return std::optional<std::string>();
  return std::optional<std::string>(current->body);
}

}  // namespace bsonpipe::io
