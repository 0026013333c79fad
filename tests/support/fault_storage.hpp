// FaultInjectionStorage: a Storage wrapper for tests (after rocksdb's fault-injection Env). It
// fails the Nth write, commit or rename whose path matches, corrupts a byte or shortens reads,
// and counts what passed through, so a test can aim a fault at each stage of an operation.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/storage.hpp"

namespace bsonpipe::test {

// Which calls a fault applies to.
enum class FaultOp : std::uint8_t { kCreate, kWrite, kCommit, kRename, kRemove, kOpen, kRead, kList };

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  std::string path_contains;  // empty: every path
  std::uint64_t nth = 1;      // the nth matching call fails (1-based); later ones pass
  // kRead only: flip the byte at this offset of the matching object instead of failing.
  std::optional<std::uint64_t> corrupt_at;
  // kRead only: hand out at most this many bytes per read (no failure).
  std::size_t short_reads = 0;
};

class FaultInjectionStorage final : public io::Storage {
 public:
  explicit FaultInjectionStorage(io::Storage& base = io::local_storage()) : base_(base) {}

  void add(FaultRule r) {
    std::lock_guard lock(mu_);
    rules_.push_back({std::move(r), 0});
  }
  // How many faults fired so far.
  int fired() const { return fired_.load(); }
  // Calls of `op` seen (matching or not).
  std::uint64_t calls(FaultOp op) const { return calls_[static_cast<int>(op)].load(); }

  // The first rule for `op` matching `path` whose turn it is; counts the call.
  const FaultRule* hit(FaultOp op, const std::filesystem::path& path) {
    calls_[static_cast<int>(op)]++;
    std::lock_guard lock(mu_);
    for (auto& [r, seen] : rules_) {
      if (r.op != op) continue;
      if (!r.path_contains.empty() && path.string().find(r.path_contains) == std::string::npos) continue;
      if (r.corrupt_at || r.short_reads) return &r;  // read shaping applies to every match
      if (++seen == r.nth) {
        fired_++;
        return &r;
      }
    }
    return nullptr;
  }
  static Status injected(const char* what, const std::filesystem::path& p) {
    return {ErrorCode::kIo, std::string("injected fault: ") + what + " " + p.string()};
  }

  Result<std::unique_ptr<io::WritableObject>> create(const std::filesystem::path& path) override;
  Result<std::unique_ptr<io::ReadableObject>> open(const std::filesystem::path& path) override;
  Result<bool> exists(const std::filesystem::path& p) override { return base_.exists(p); }
  Result<bool> is_directory(const std::filesystem::path& p) override { return base_.is_directory(p); }
  Result<std::uint64_t> size(const std::filesystem::path& p) override { return base_.size(p); }
  Result<std::vector<io::StorageEntry>> list(const std::filesystem::path& dir) override {
    if (hit(FaultOp::kList, dir)) return injected("list", dir);
    return base_.list(dir);
  }
  Status make_directories(const std::filesystem::path& d) override { return base_.make_directories(d); }
  Status remove(const std::filesystem::path& p) override {
    if (hit(FaultOp::kRemove, p)) return injected("remove", p);
    return base_.remove(p);
  }
  Status remove_all(const std::filesystem::path& p) override {
    if (hit(FaultOp::kRemove, p)) return injected("remove", p);
    return base_.remove_all(p);
  }
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (hit(FaultOp::kRename, to)) return injected("rename to", to);
    return base_.rename(from, to);
  }
  Result<std::unique_ptr<io::StorageLock>> try_lock(const std::filesystem::path& p, const std::string& h) override {
    return base_.try_lock(p, h);
  }
  Result<std::optional<std::string>> lock_holder(const std::filesystem::path& p) override {
    return base_.lock_holder(p);
  }

 private:
  io::Storage& base_;
  std::mutex mu_;
  std::vector<std::pair<FaultRule, std::uint64_t>> rules_;
  std::atomic<int> fired_{0};
  std::atomic<std::uint64_t> calls_[8] = {};
};

namespace fault_detail {

class Writable final : public io::WritableObject {
 public:
  Writable(FaultInjectionStorage& s, std::unique_ptr<io::WritableObject> w) : s_(s), w_(std::move(w)) {}
  Status write(io::ByteSpan d) override {
    if (s_.hit(FaultOp::kWrite, w_->path())) return FaultInjectionStorage::injected("write to", w_->path());
    return w_->write(d);
  }
  Status write_gather(std::span<const io::ByteSpan> pieces) override {
    if (s_.hit(FaultOp::kWrite, w_->path())) return FaultInjectionStorage::injected("write to", w_->path());
    return w_->write_gather(pieces);
  }
  Status commit(bool durable) override {
    if (s_.hit(FaultOp::kCommit, w_->path())) return FaultInjectionStorage::injected("commit of", w_->path());
    return w_->commit(durable);
  }
  void abort() override { w_->abort(); }
  std::uint64_t bytes_written() const override { return w_->bytes_written(); }
  const std::filesystem::path& path() const override { return w_->path(); }

 private:
  FaultInjectionStorage& s_;
  std::unique_ptr<io::WritableObject> w_;
};

class Readable final : public io::ReadableObject {
 public:
  Readable(FaultInjectionStorage& s, std::unique_ptr<io::ReadableObject> r) : s_(s), r_(std::move(r)) {}
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override {
    const FaultRule* rule = s_.hit(FaultOp::kRead, r_->path());
    if (rule && !rule->corrupt_at && !rule->short_reads)
      return Status(ErrorCode::kIo,
                    "injected fault: read of " + r_->path().string() + " at offset " + std::to_string(r_->offset()));
    if (rule && rule->short_reads) n = std::min(n, rule->short_reads);
    std::uint64_t at = r_->offset();
    auto got = r_->read(buf, n);
    if (got && rule && rule->corrupt_at && *rule->corrupt_at >= at && *rule->corrupt_at < at + *got)
      buf[*rule->corrupt_at - at] ^= 0xFF;
    return got;
  }
  std::uint64_t offset() const override { return r_->offset(); }
  const std::filesystem::path& path() const override { return r_->path(); }

 private:
  FaultInjectionStorage& s_;
  std::unique_ptr<io::ReadableObject> r_;
};

}  // namespace fault_detail

inline Result<std::unique_ptr<io::WritableObject>> FaultInjectionStorage::create(const std::filesystem::path& path) {
  if (hit(FaultOp::kCreate, path)) return injected("create", path);
  auto w = base_.create(path);
  if (!w) return w.status();
  return std::unique_ptr<io::WritableObject>(std::make_unique<fault_detail::Writable>(*this, std::move(*w)));
}

inline Result<std::unique_ptr<io::ReadableObject>> FaultInjectionStorage::open(const std::filesystem::path& path) {
  if (hit(FaultOp::kOpen, path)) return injected("open", path);
  auto r = base_.open(path);
  if (!r) return r.status();
  return std::unique_ptr<io::ReadableObject>(std::make_unique<fault_detail::Readable>(*this, std::move(*r)));
}

}  // namespace bsonpipe::test
