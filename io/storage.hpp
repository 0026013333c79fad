// The storage seam: every file bsonpipe stores or reads (dump output, archives, manifests, the
// catalog and its lock, bundled files, restore journals, verify records) goes through a Storage.
// LocalStorage is the file system; object storage and a fault-injecting wrapper (tests) are the
// other implementations. Paths are keys: a local path, or a key below an object-storage prefix.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;

// One object being written. Nothing is visible under its name until commit() succeeds; an
// object destroyed or aborted before that leaves nothing that looks whole.
// Threading: one thread at a time per object.
class WritableObject {
 public:
  virtual ~WritableObject() = default;
  [[nodiscard]] virtual Status write(ByteSpan data) = 0;
  // The pieces in order, as one write (local files use writev).
  [[nodiscard]] virtual Status write_gather(std::span<const ByteSpan> pieces);
  // Publishes the object under its name. durable=false may skip fsyncs (intermediate files
  // that are read back and deleted). After commit the object is closed.
  [[nodiscard]] virtual Status commit(bool durable = true) = 0;
  // Removes what was written (idempotent; a no-op after commit).
  virtual void abort() = 0;
  virtual std::uint64_t bytes_written() const = 0;
  virtual const std::filesystem::path& path() const = 0;
};

// Sequential reads of one object. Threading: one thread at a time per object.
class ReadableObject {
 public:
  virtual ~ReadableObject() = default;
  // Up to `n` bytes into `buf`; 0 at the end. An error names the object and the offset.
  [[nodiscard]] virtual Result<std::size_t> read(std::uint8_t* buf, std::size_t n) = 0;
  virtual std::uint64_t offset() const = 0;
  virtual const std::filesystem::path& path() const = 0;
};

// An entry of list(): a name directly below the listed directory.
struct StorageEntry {
  std::string name;
  bool directory = false;
  std::uint64_t size = 0;
};

// Held while alive; destruction gives it up.
class StorageLock {
 public:
  virtual ~StorageLock() = default;
  // Replaces the holder text others see through Storage::lock_holder().
  [[nodiscard]] virtual Status set_holder(const std::string& holder) = 0;
};

// Threading: every method may be called from any thread at the same time.
class Storage {
 public:
  virtual ~Storage() = default;

  // A new object at `path` (parent directories are made as needed), published by commit().
  [[nodiscard]] virtual Result<std::unique_ptr<WritableObject>> create(const std::filesystem::path& path) = 0;
  // Reads `path` from the start; "-" is standard input where the backend has one.
  [[nodiscard]] virtual Result<std::unique_ptr<ReadableObject>> open(const std::filesystem::path& path) = 0;

  // Not-found is ok with false; other failures are errors.
  [[nodiscard]] virtual Result<bool> exists(const std::filesystem::path& path) = 0;
  [[nodiscard]] virtual Result<bool> is_directory(const std::filesystem::path& path) = 0;
  [[nodiscard]] virtual Result<std::uint64_t> size(const std::filesystem::path& path) = 0;
  // The entries directly below `dir`, sorted by name. A missing directory is an error.
  [[nodiscard]] virtual Result<std::vector<StorageEntry>> list(const std::filesystem::path& dir) = 0;
  // Makes `dir` and its parents (a no-op where directories are implicit).
  [[nodiscard]] virtual Status make_directories(const std::filesystem::path& dir) = 0;
  // Removes one object or empty directory; a missing one is ok.
  [[nodiscard]] virtual Status remove(const std::filesystem::path& path) = 0;
  // Removes `path` and everything below it; a missing one is ok.
  [[nodiscard]] virtual Status remove_all(const std::filesystem::path& path) = 0;
  // Renames an object or a directory (atomic where the backend can).
  [[nodiscard]] virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // An exclusive lock named `path` (its parent is made as needed), held until the returned lock
  // is destroyed, with `holder` as its text. Never waits: null when another holds it.
  [[nodiscard]] virtual Result<std::unique_ptr<StorageLock>> try_lock(const std::filesystem::path& path,
                                                                      const std::string& holder) = 0;

  // The holder text of the lock `path` while someone holds it; nullopt when it is free.
  [[nodiscard]] virtual Result<std::optional<std::string>> lock_holder(const std::filesystem::path& path) = 0;

  // Conveniences built on the above.
  [[nodiscard]] Result<Bytes> read_all(const std::filesystem::path& path);
  [[nodiscard]] Status write_all(const std::filesystem::path& path, ByteSpan data, bool durable = true);
};

// The local file system (process-wide, stateless).
Storage& local_storage();

}  // namespace bsonpipe::io
