#include "io/file.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>

namespace bsonpipe::io {

namespace {
Status errno_status(const std::string& what, const std::filesystem::path& p) {
  return {ErrorCode::kIo, what + " " + p.string() + ": " + std::strerror(errno)};
}
}  // namespace

std::filesystem::path partial_path(const std::filesystem::path& path) {
  // A file name may hold 255 bytes, and mongodump's longest names use them nearly all: such a
  // name is cut and made unique again with a hash of the whole name.
  constexpr std::size_t kNameMax = 255;
  std::string name = path.filename().string();
  if (name.size() + kPartialSuffix.size() > kNameMax) {
    char hash[20];
    std::snprintf(hash, sizeof hash, "-%016zx", std::hash<std::string>{}(name));
    name = name.substr(0, kNameMax - kPartialSuffix.size() - std::strlen(hash)) + hash;
  }
  return path.parent_path() / (name + std::string(kPartialSuffix));
}

namespace {
constexpr std::size_t kStageBytes = 4u << 20;  // a multiple of every O_DIRECT alignment
constexpr std::size_t kDirectAlign = 4096;
constexpr std::size_t kFirstStageBytes = 64u << 10;

bool direct_writes_allowed() {
  static const bool allowed = [] {
    const char* v = std::getenv("BSONPIPE_DIRECT_WRITES");
    return v == nullptr || (std::strcmp(v, "off") != 0 && std::strcmp(v, "0") != 0);
  }();
  return allowed;
}

bool set_direct(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return false;
  return ::fcntl(fd, F_SETFL, on ? (fl | O_DIRECT) : (fl & ~O_DIRECT)) == 0;
}
}  // namespace

void AtomicFileWriter::FreeDeleter::operator()(std::uint8_t* p) const {
  std::free(p);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)),
      partial_(std::move(o.partial_)),
      fd_(std::exchange(o.fd_, -1)),
      written_(o.written_),
      stage_(std::move(o.stage_)),
      staged_(std::exchange(o.staged_, 0)),
      stage_cap_(std::exchange(o.stage_cap_, 0)),
      direct_(o.direct_) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& o) noexcept {
  if (this != &o) {
    abort();
    path_ = std::move(o.path_);
    partial_ = std::move(o.partial_);
    fd_ = std::exchange(o.fd_, -1);
    written_ = o.written_;
    stage_ = std::move(o.stage_);
    staged_ = std::exchange(o.staged_, 0);
    stage_cap_ = std::exchange(o.stage_cap_, 0);
    direct_ = o.direct_;
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() {
  abort();
}

Result<AtomicFileWriter> AtomicFileWriter::create(const std::filesystem::path& path) {
  AtomicFileWriter w;
  w.path_ = path;
  w.partial_ = partial_path(path);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Status(ErrorCode::kIo, "cannot create directory " + path.parent_path().string() + ": " + ec.message());
  w.fd_ = ::open(w.partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return errno_status("cannot create", w.partial_);
  return w;
}

Status write_all(int fd, ByteSpan data, const std::string& what) {
  const std::uint8_t* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {ErrorCode::kIo, "write to " + what + " failed: " + std::strerror(errno)};
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return {};
}

Status write_all_gather(int fd, std::span<const ByteSpan> pieces, const std::string& what) {
  constexpr std::size_t kMaxIov = 1024;  // IOV_MAX on Linux
  iovec iov[kMaxIov];
  std::size_t next = 0;  // first piece not yet queued in iov
  std::size_t skip = 0;  // bytes of pieces[next] already written (after a short write)
  while (next < pieces.size()) {
    std::size_t n = 0;
    for (std::size_t i = next; i < pieces.size() && n < kMaxIov; ++i) {
      std::size_t off = i == next ? skip : 0;
      if (pieces[i].size() == off) continue;
      iov[n].iov_base = const_cast<std::uint8_t*>(pieces[i].data() + off);
      iov[n].iov_len = pieces[i].size() - off;
      ++n;
    }
    if (n == 0) return {};
    ssize_t w = ::writev(fd, iov, static_cast<int>(n));
    if (w < 0) {
      if (errno == EINTR) continue;
      return {ErrorCode::kIo, "write to " + what + " failed: " + std::strerror(errno)};
    }
    // Advance (next, skip) by w bytes, skipping empty pieces.
    auto done = static_cast<std::size_t>(w);
    while (next < pieces.size()) {
      std::size_t left = pieces[next].size() - skip;
      if (done < left) {
        skip += done;
        break;
      }
      done -= left;
      ++next;
      skip = 0;
    }
  }
  return {};
}

Status AtomicFileWriter::write_gather(std::span<const ByteSpan> pieces) {
  if (fd_ < 0) return {ErrorCode::kIo, "write to a closed file " + partial_.string()};
  if (direct_ == Direct::kOff) return write_unstaged(pieces);
  for (ByteSpan p : pieces)
    if (Status s = write_through(p); !s) return s;
  return {};
}

Status AtomicFileWriter::write(ByteSpan data) {
  return write_gather({&data, 1});
}

// Without O_DIRECT, past the first stage: straight to the file.
Status AtomicFileWriter::write_unstaged(std::span<const ByteSpan> pieces) {
  if (Status s = write_all_gather(fd_, pieces, partial_.string()); !s) return s;
  for (ByteSpan p : pieces) written_ += p.size();
  return {};
}

// Copies into the stage; each full stage goes out as one aligned O_DIRECT write.
Status AtomicFileWriter::write_through(ByteSpan data) {
  while (!data.empty()) {
    if (staged_ == stage_cap_) {  // a small first stage (most files are small), then a whole one
      const std::size_t cap = stage_cap_ == 0 ? kFirstStageBytes : kStageBytes;
      void* p = nullptr;
      if (::posix_memalign(&p, kDirectAlign, cap) != 0)
        return {ErrorCode::kIo, "out of memory writing " + partial_.string()};
      if (staged_ > 0) std::memcpy(p, stage_.get(), staged_);
      stage_.reset(static_cast<std::uint8_t*>(p));
      stage_cap_ = cap;
    }
    const std::size_t n = std::min(data.size(), stage_cap_ - staged_);
    std::memcpy(stage_.get() + staged_, data.data(), n);
    staged_ += n;
    written_ += n;
    data = data.subspan(n);
    if (staged_ < kStageBytes) continue;
    if (Status s = flush_stage(false); !s) return s;
    if (direct_ == Direct::kOff) return write_unstaged({&data, 1});  // no O_DIRECT here
  }
  return {};
}

// Writes the stage out. A full stage goes with O_DIRECT when the file system takes it (tried
// once per file, at offset 0); the final, partial one goes through the page cache.
Status AtomicFileWriter::flush_stage(bool final) {
  if (staged_ == 0) return {};
  if (!final && direct_ == Direct::kUntried) {
    auto wrote = first_direct_write();
    if (!wrote) return wrote.status();
    if (*wrote) {
      staged_ = 0;
      return {};
    }
  }
  std::size_t head = 0;  // aligned prefix written with O_DIRECT
  if (direct_ == Direct::kOn) {
    head = final ? staged_ / kDirectAlign * kDirectAlign : staged_;
    if (Status s = write_all(fd_, {stage_.get(), head}, partial_.string()); !s) return s;
    if (final && head < staged_ && !set_direct(fd_, false)) return errno_status("cannot write", partial_);
  }
  if (head < staged_)
    if (Status s = write_all(fd_, {stage_.get() + head, staged_ - head}, partial_.string()); !s) return s;
  staged_ = 0;
  if (direct_ == Direct::kOff) {  // later writes go straight to the file
    stage_.reset();
    stage_cap_ = 0;
  }
  return {};
}

// The file's first write, a full stage at offset 0, decides whether it is written with O_DIRECT:
// a file system that refuses the flag, or takes it but not the write (EINVAL: an alignment it does
// not support), gets the page cache. Returns whether the stage was written.
Result<bool> AtomicFileWriter::first_direct_write() {
  direct_ = Direct::kOff;
  if (!direct_writes_allowed() || !set_direct(fd_, true)) return false;
  ssize_t n;
  do {
    n = ::write(fd_, stage_.get(), staged_);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EINVAL)
    return Status{ErrorCode::kIo, "write to " + partial_.string() + " failed: " + std::strerror(errno)};
  if (n < 0) {
    if (!set_direct(fd_, false)) return errno_status("cannot write", partial_);
    return false;
  }
  direct_ = Direct::kOn;
  auto done = static_cast<std::size_t>(n);  // a short direct write: the rest as usual
  if (done < staged_)
    if (Status s = write_all(fd_, {stage_.get() + done, staged_ - done}, partial_.string()); !s) return s;
  return true;
}

Status AtomicFileWriter::commit(bool durable) {
  if (fd_ < 0) return {ErrorCode::kIo, "commit of a closed file " + path_.string()};
  if (Status s = flush_stage(true); !s) return s;
  if (durable && ::fsync(fd_) != 0) return errno_status("fsync failed for", partial_);
  if (::close(std::exchange(fd_, -1)) != 0) return errno_status("close failed for", partial_);
  if (::rename(partial_.c_str(), path_.c_str()) != 0) return errno_status("rename failed for", partial_);
  partial_.clear();
  if (!durable) return {};
  return sync_directory(path_.has_parent_path() ? path_.parent_path() : std::filesystem::path("."));
}

void AtomicFileWriter::abort() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!partial_.empty()) {
    ::unlink(partial_.c_str());
    partial_.clear();
  }
}

Status sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_status("fsync failed for directory", dir);
  return {};
}

FileReader::FileReader(FileReader&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), owned_(o.owned_), offset_(o.offset_) {}

FileReader& FileReader::operator=(FileReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0 && owned_) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    owned_ = o.owned_;
    offset_ = o.offset_;
  }
  return *this;
}

FileReader::~FileReader() {
  if (fd_ >= 0 && owned_) ::close(fd_);
}

Result<FileReader> FileReader::open(const std::filesystem::path& path) {
  FileReader r;
  r.path_ = path;
  if (path == "-") {
    r.fd_ = 0;
    r.owned_ = false;
    return r;
  }
  r.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.fd_ < 0) return errno_status("cannot open", path);
  return r;
}

Result<std::size_t> FileReader::read(std::uint8_t* buf, std::size_t n) {
  while (true) {
    ssize_t got = ::read(fd_, buf, n);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status(ErrorCode::kIo, "read of " + path_.string() + " failed: " + std::strerror(errno),
                    static_cast<std::int64_t>(offset_));
    }
    offset_ += static_cast<std::uint64_t>(got);
    return static_cast<std::size_t>(got);
  }
}

}  // namespace bsonpipe::io
