// Files for dump output and restore input. Output is written under a temporary name and renamed
// into place only when complete, so a failed run never leaves a file that looks whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;

// Suffix of files being written; anything carrying it is incomplete by definition.
inline constexpr std::string_view kPartialSuffix = ".partial";

// The temporary name of `path` while it is written: `path` + ".partial" (cut and hashed when
// that would exceed the 255-byte file-name limit).
std::filesystem::path partial_path(const std::filesystem::path& path);

// Writes partial_path(path), then fsyncs and renames onto `path` in commit(). Destroying an
// uncommitted writer removes the partial file. Not thread-safe: one writer per output file.
// Writes are gathered in an aligned buffer (64 KiB, then 4 MiB). A file that outgrows it is written with
// O_DIRECT, whole aligned buffers at a time, and its tail through the page cache at commit: a
// dump's data passes the kernel once, without the page cache's per-page cost (a third of a plain
// dump's CPU before). Where the file system refuses O_DIRECT, or with
// BSONPIPE_DIRECT_WRITES=off in the environment, everything goes through the page cache.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  AtomicFileWriter(AtomicFileWriter&& o) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& o) noexcept;
  ~AtomicFileWriter();

  static Result<AtomicFileWriter> create(const std::filesystem::path& path);
  Status write(ByteSpan data);
  // Writes the pieces in order with writev (no copy into one buffer first).
  Status write_gather(std::span<const ByteSpan> pieces);
  // fsync, rename into place, fsync the directory. After commit the writer is closed.
  // durable=false skips both fsyncs: for intermediate files that are read back and deleted
  // (a dump's per-range parts), whose durability would only cost disk writes.
  Status commit(bool durable = true);
  // Removes the partial file (idempotent).
  void abort();
  std::uint64_t bytes_written() const { return written_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const;
  };
  Status flush_stage(bool final);
  Result<bool> first_direct_write();
  Status write_through(ByteSpan data);
  Status write_unstaged(std::span<const ByteSpan> pieces);

  std::filesystem::path path_;
  std::filesystem::path partial_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
  std::unique_ptr<std::uint8_t, FreeDeleter> stage_;  // aligned; allocated by the first write
  std::size_t staged_ = 0;
  std::size_t stage_cap_ = 0;
  enum class Direct : std::uint8_t { kUntried, kOn, kOff } direct_ = Direct::kUntried;
};

// Appends bytes to an ordinary file descriptor (stdout for `--archive` / `--out -`).
Status write_all(int fd, ByteSpan data, const std::string& what);
// writev of all the pieces, in order, resuming after short writes; `what` names the file.
Status write_all_gather(int fd, std::span<const ByteSpan> pieces, const std::string& what);

// Sequential reader of a file (or stdin with path "-") in chunks.
class FileReader {
 public:
  FileReader() = default;
  FileReader(FileReader&& o) noexcept;
  FileReader& operator=(FileReader&& o) noexcept;
  ~FileReader();
  static Result<FileReader> open(const std::filesystem::path& path);
  // Reads up to `n` bytes into `buf`; 0 at end of file.
  Result<std::size_t> read(std::uint8_t* buf, std::size_t n);
  std::uint64_t offset() const { return offset_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool owned_ = true;
  std::uint64_t offset_ = 0;
};

// fsync a directory so a rename inside it is durable.
Status sync_directory(const std::filesystem::path& dir);

}  // namespace bsonpipe::io
