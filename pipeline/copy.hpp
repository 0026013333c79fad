// bsonpipe copy: a dump of one server streamed straight into a restore on another, nothing on
// disk. The dump runs in archive mode writing into a bounded in-memory byte pipe; the restore
// reads that archive from the other end, so dump's filters and restore's options (renames,
// --drop, --swap, workers, indexes built per collection as it completes) apply unchanged.
// --verify then compares every copied namespace's document count and order-independent content
// digest on both sides.
//
// Threading: run_copy() blocks; it runs the dump and the restore on two threads it owns and
// joins. The first error of either side cancels both (the pipe is closed at both ends and a
// shared stop flag is raised), and is the error reported.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "formats/hash.hpp"
#include "formats/status.hpp"
#include "pipeline/dump.hpp"
#include "pipeline/restore.hpp"

namespace bsonpipe::pipeline {

struct CopyOptions {
  // The source side: uri (--from), filters, -j, --readers, batchSize. target/out/codec/
  // archive_sink/interrupt are set by run_copy (archive stream, no compression).
  DumpOptions dump;
  // The target side: uri (--to), plan.ns_from/ns_to, drop, swap, workers, batch size, write
  // concern... archive/archive_source/interrupt are set by run_copy. Not allowed: input,
  // archive_path, resume, journal, dry_run, oplog replay.
  RestoreOptions restore;
  bool verify = false;                 // --verify: compare counts and content digests at the end
  std::size_t pipe_bytes = 32u << 20;  // bytes buffered between dump and restore (the bound)
  // Largest archive segment the dump writes (its block size). Restore reads the archive on one
  // thread into small per-collection queues: a long segment of one collection stalls the others,
  // so short segments keep collections loading in parallel. 0 = the dump's block_bytes.
  std::size_t segment_bytes = 1u << 20;
  const std::atomic<bool>* interrupt = nullptr;  // SIGINT/SIGTERM flag; cancels the run
  // Messages for the user (verification results, ...). Null = silent. Called from one thread.
  std::function<void(const std::string&)> log;
};

// One namespace compared by --verify.
struct VerifyResult {
  std::string source_ns;
  std::string target_ns;
  formats::MultisetDigest source;
  formats::MultisetDigest target;
  std::string error;  // reading either side failed
  bool matches() const { return error.empty() && source == target; }
};

struct CopyReport {
  Status status;  // the first error of either side (or of --verify's reads); ok otherwise
  DumpSummary dump;
  RestoreReport restore;
  bool verified = false;             // --verify ran (only after a successful copy)
  std::vector<VerifyResult> verify;  // one per copied collection (views are not compared)
  double seconds = 0;                // the whole run, --verify included
  double copy_seconds = 0;           // dump + restore only (until both sides finished)
  // Success: both sides succeeded and, with --verify, every namespace matched.
  bool ok() const;
  // The namespaces whose verification failed, "source -> target" (empty when all matched).
  std::vector<std::string> mismatches() const;
};

// Checks the options, connects to both sides first (an unreachable side fails before any thread
// starts), then runs the copy.
CopyReport run_copy(const CopyOptions& opts);

// A bounded single-producer single-consumer byte pipe. write() blocks while `capacity` bytes are
// buffered; read() blocks until there are bytes, the end, or an error. Closing either end wakes
// the other: after close_read() every write fails; after close_write(error) every read returns
// that error at once (buffered bytes are dropped), after close_write(ok) reads drain then return 0.
// Exposed for tests.
class BytePipe {
 public:
  explicit BytePipe(std::size_t capacity);
  ~BytePipe();
  BytePipe(const BytePipe&) = delete;
  BytePipe& operator=(const BytePipe&) = delete;

  Status write(formats::ByteSpan data);
  Result<std::size_t> read(std::span<std::uint8_t> buf);
  void close_write(Status error = {});
  void close_read();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bsonpipe::pipeline
