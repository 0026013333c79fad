#include "io/storage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "io/file.hpp"

namespace bsonpipe::io {

namespace fs = std::filesystem;

Status WritableObject::write_gather(std::span<const ByteSpan> pieces) {
  for (ByteSpan p : pieces)
    if (Status s = write(p); !s) return s;
  return {};
}

Result<Bytes> Storage::read_all(const fs::path& path) {
  auto in = open(path);
  if (!in) return in.status();
  Bytes out;
  std::uint8_t buf[64 * 1024];
  while (true) {
    auto n = (*in)->read(buf, sizeof buf);
    if (!n) return n.status();
    if (*n == 0) break;
    out.insert(out.end(), buf, buf + *n);
  }
  return out;
}

Status Storage::write_all(const fs::path& path, ByteSpan data, bool durable) {
  auto w = create(path);
  if (!w) return w.status();
  if (Status s = (*w)->write(data); !s) return s;
  return (*w)->commit(durable);
}

namespace {

Status fs_error(const std::string& what, const fs::path& p, const std::error_code& ec) {
  return {ErrorCode::kIo, what + " " + p.string() + ": " + ec.message()};
}

class LocalWritable final : public WritableObject {
 public:
  explicit LocalWritable(AtomicFileWriter w) : w_(std::move(w)) {}
  Status write(ByteSpan data) override { return w_.write(data); }
  Status write_gather(std::span<const ByteSpan> pieces) override { return w_.write_gather(pieces); }
  Status commit(bool durable) override { return w_.commit(durable); }
  void abort() override { w_.abort(); }
  std::uint64_t bytes_written() const override { return w_.bytes_written(); }
  const fs::path& path() const override { return w_.path(); }

 private:
  AtomicFileWriter w_;
};

class LocalReadable final : public ReadableObject {
 public:
  explicit LocalReadable(FileReader r) : r_(std::move(r)) {}
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n) override { return r_.read(buf, n); }
  std::uint64_t offset() const override { return r_.offset(); }
  const fs::path& path() const override { return r_.path(); }

 private:
  FileReader r_;
};

// An flock on an open file; the file's content names the holder.
class LocalLock final : public StorageLock {
 public:
  LocalLock(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~LocalLock() override {
    // Emptied first, so a reader never names a holder that is gone.
    if (::ftruncate(fd_, 0) != 0) {
      // Harmless: the content only matters while the flock is held.
    }
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  LocalLock(const LocalLock&) = delete;
  LocalLock& operator=(const LocalLock&) = delete;

  Status set_holder(const std::string& holder) override {
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, holder.data(), holder.size(), 0) != static_cast<ssize_t>(holder.size()))
      return {ErrorCode::kIo, "cannot write " + path_.string() + ": " + std::strerror(errno)};
    return {};
  }

 private:
  int fd_;
  fs::path path_;
};

std::string read_fd_text(int fd) {
  std::string out;
  char buf[1024];
  off_t pos = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, pos);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    pos += n;
  }
  return out;
}

class LocalStorage final : public Storage {
 public:
  Result<std::unique_ptr<WritableObject>> create(const fs::path& path) override {
    auto w = AtomicFileWriter::create(path);
    if (!w) return w.status();
    return std::unique_ptr<WritableObject>(std::make_unique<LocalWritable>(std::move(*w)));
  }
  Result<std::unique_ptr<ReadableObject>> open(const fs::path& path) override {
    auto r = FileReader::open(path);
    if (!r) return r.status();
    return std::unique_ptr<ReadableObject>(std::make_unique<LocalReadable>(std::move(*r)));
  }
  Result<bool> exists(const fs::path& path) override {
    std::error_code ec;
    auto st = fs::symlink_status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return fs_error("cannot read", path, ec);
    return fs::exists(st);
  }
  Result<bool> is_directory(const fs::path& path) override {
    std::error_code ec;
    bool d = fs::is_directory(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return fs_error("cannot read", path, ec);
    return d;
  }
  Result<std::uint64_t> size(const fs::path& path) override {
    std::error_code ec;
    auto n = fs::file_size(path, ec);
    if (ec) return fs_error("cannot read the size of", path, ec);
    return static_cast<std::uint64_t>(n);
  }
  Result<std::vector<StorageEntry>> list(const fs::path& dir) override {
    std::vector<StorageEntry> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return fs_error("cannot list", dir, ec);
    for (fs::directory_iterator end; it != end; it.increment(ec)) {
      if (ec) return fs_error("cannot list", dir, ec);
      StorageEntry e;
      e.name = it->path().filename().string();
      std::error_code fec;
      e.directory = it->is_directory(fec);
      if (!e.directory && it->is_regular_file(fec)) e.size = it->file_size(fec);
      out.push_back(std::move(e));
    }
    if (ec) return fs_error("cannot list", dir, ec);
    std::sort(out.begin(), out.end(), [](const StorageEntry& a, const StorageEntry& b) { return a.name < b.name; });
    return out;
  }
  Status make_directories(const fs::path& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fs_error("cannot create directory", dir, ec);
    return {};
  }
  Status remove(const fs::path& path) override {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return fs_error("cannot remove", path, ec);
    return {};
  }
  Status remove_all(const fs::path& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return fs_error("cannot remove", path, ec);
    return {};
  }
  Status rename(const fs::path& from, const fs::path& to) override {
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec) return {ErrorCode::kIo, "cannot rename " + from.string() + " to " + to.string() + ": " + ec.message()};
    return {};
  }
  Result<std::unique_ptr<StorageLock>> try_lock(const fs::path& path, const std::string& holder) override {
    if (path.has_parent_path())
      if (Status s = make_directories(path.parent_path()); !s) return s;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status(ErrorCode::kIo, "cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err != EWOULDBLOCK) return Status(ErrorCode::kIo, "cannot lock " + path.string() + ": " + std::strerror(err));
      return std::unique_ptr<StorageLock>();
    }
    auto lock = std::make_unique<LocalLock>(fd, path);
    if (Status s = lock->set_holder(holder); !s) return s;
    return std::unique_ptr<StorageLock>(std::move(lock));
  }
  Result<std::optional<std::string>> lock_holder(const fs::path& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::optional<std::string>();
      return Status(ErrorCode::kIo, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    std::optional<std::string> out;
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
      ::flock(fd, LOCK_UN);
    } else {
      out = read_fd_text(fd);
    }
    ::close(fd);
    return out;
  }
};

}  // namespace

Storage& local_storage() {
  static LocalStorage storage;
  return storage;
}

}  // namespace bsonpipe::io
