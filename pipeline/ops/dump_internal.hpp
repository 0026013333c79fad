// The dump pipeline's internals, shared by its files: planning (dump_plan.cpp), range readers
// (dump_range.cpp), directory/archive output and the manifest (dump_output.cpp), the oplog
// (dump_oplog.cpp), the output kinds (dump_sink_kinds.cpp) and the run itself (dump.cpp). Not
// part of the pipeline's interface.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/archive.hpp"
#include "formats/dump_layout.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "io/connection.hpp"
#include "io/storage.hpp"
#include "io/uri.hpp"
#include "pipeline/core/executor.hpp"
#include "pipeline/core/namespaces.hpp"
#include "pipeline/core/ordered_writer.hpp"
#include "pipeline/core/range_join.hpp"
#include "pipeline/core/rate_limiter.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/users_roles.hpp"
#include "pipeline/sinks/dump_sink.hpp"

namespace bsonpipe::pipeline::dump_detail {

namespace fs = std::filesystem;
using formats::Bytes;
using formats::ByteSpan;

std::int64_t now_utc_ms();
inline ByteSpan text_bytes(const std::string& s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

// One collection (or view) to dump, with its ranges and what was written for it.
// Threading: planned on the run's thread; the counters below `mu` are shared by its range jobs.
struct CollectionJob {
  std::string db;
  std::string name;       // the collection's name (metadata, prelude)
  std::string data_name;  // where its documents live (system.buckets.<name> for timeseries)
  std::string type;       // "collection", "view", "timeseries"
  Bytes options;
  Bytes uuid;
  std::vector<Bytes> indexes;
  std::int64_t count = 0;
  std::int64_t size = 0;
  std::vector<IdRange> ranges;
  bool has_data = true;  // views have metadata only
  NsProgress* progress = nullptr;

  // Filled by the range jobs.
  std::mutex mu;
  int ranges_left = 0;
  std::uint64_t raw_bytes = 0;
  std::uint64_t stored_bytes = 0;
  std::uint64_t documents = 0;
  std::string data_hash;  // XXH3 of the final data file
  // A split collection written as one ordered stream (directory output): made by its first range.
  std::unique_ptr<RangeJoin> join;

  std::string ns() const { return db + "." + name; }
};

bool has_id_index(const CollectionJob& c);
bool is_capped(const CollectionJob& c);

struct RangeJob {
  CollectionJob* coll;
  std::size_t index;
};

// A byte sink that gathers small writes into blocks for the OrderedBlockWriter (the archive
// writer emits headers of a few bytes between documents). Threading: called under the
// multiplexer's lock, one caller at a time.
class BlockGatherer {
 public:
  BlockGatherer(OrderedBlockWriter* w, std::size_t block) : w_(w), block_(block) {}
  Status write(ByteSpan b);
  Status flush();

 private:
  OrderedBlockWriter* w_;
  std::size_t block_;
  Bytes buf_;
};

// One dump run. Threading: run() on the caller's thread; the range readers (run_jobs, one thread
// each) touch only the members documented as shared (exec_, progress_, pool_, rate_, files_
// under manifest_mu_, the archive multiplexer, the collection jobs' counters).
class Dumper {
 public:
  explicit Dumper(const DumpOptions& o);
  Result<DumpReport> run();

 private:
  friend class RangeReader;
  friend class DirectorySink;  // the output kinds write through the run's storage and state
  friend class ArchiveSink;

  // --- planning (dump_plan.cpp) ---
  Status connect_all();
  io::Expected<std::unique_ptr<io::Connection>> connect();
  Status plan();
  Status plan_once(io::Connection& conn);
  Status plan_users_and_roles(io::Connection& conn);
  Status plan_database(io::Connection& conn, const std::string& db, const NsFilter& filter);
  bool wanted(const std::string& db, const io::CollectionInfo& info, const NsFilter& filter);
  Status add_collection(io::Connection& conn, const std::string& db, const io::CollectionInfo& info);
  Status split(io::Connection& conn, CollectionJob& c);
  // --- range readers (dump_range.cpp) ---
  Status run_jobs();
  Status read_range(std::unique_ptr<io::Connection>& conn, std::size_t i);  // jobs_[i] on a reader's connection
  Status finish_collection(CollectionJob& c);
  Result<RangeJoin*> range_join(CollectionJob& c);
  StreamWriterOptions stream_options() const;
  // --- output (dump_output.cpp) ---
  Status start_directory();
  Status write_metadata_files();
  Status write_archive_prelude();
  Status open_archive();
  Status finish_archive();
  // Archive mode: a block of `count` documents of db.coll, and the end of a namespace, to the
  // multiplexer (or to the copy's document sink).
  Status emit_documents(std::string_view db, std::string_view coll, Bytes& block, std::size_t count);
  Status emit_end(std::string_view db, std::string_view coll);
  Status finalize_directory();
  Status move_staged_files(const fs::path& out);
  Status write_manifest(const fs::path& out);
  std::string metadata_json(const CollectionJob& c) const;
  Status write_small_file(const std::string& rel, ByteSpan content, const std::string& ns, const std::string& kind,
                          std::uint64_t documents = 0);
  // --- oplog (dump_oplog.cpp) ---
  Status oplog_start(io::Connection& conn);
  Status dump_oplog();
  // --- the run (dump.cpp) ---
  void choose_sink();
  Status run_stages();
  void cleanup_on_failure();
  DumpReport summarize(double seconds) const;

  const DumpOptions& opts_;
  io::Storage& storage_;  // opts_.storage or the local file system
  Executor exec_;         // runs the readers; first error wins, cancels the run
  ErrorHolder& errors_ = exec_.errors();
  Progress progress_;
  CompressionPool pool_;
  std::unique_ptr<RateLimiter> rate_;  // --rate-limit, shared by every reader
  io::Uri uri_;
  io::ReadPreferenceMode read_mode_ = io::ReadPreferenceMode::kPrimary;
  std::string server_version_;
  std::string topology_;
  std::vector<std::unique_ptr<CollectionJob>> colls_;
  std::vector<RangeJob> jobs_;
  std::atomic<std::uint64_t> retries_{0};  // reads resumed after a retryable error
  // Where the bytes go: chosen once by choose_sink(); only the planner (DumpOptions::validate,
  // choose_sink) looks at opts_.target.
  std::unique_ptr<DumpSink> sink_;

  // Directory mode: files go under staging_ and are moved to opts_.out at the end.
  fs::path staging_;
  std::mutex manifest_mu_;
  std::vector<formats::ManifestFile> files_;

  // Archive mode.
  std::unique_ptr<io::WritableObject> archive_file_;
  std::unique_ptr<OrderedBlockWriter> archive_writer_;
  std::unique_ptr<BlockGatherer> archive_gather_;
  std::unique_ptr<formats::archive::Multiplexer> mux_;

  BundleResult bundle_;  // --- bundled files (pipeline/catalog/bundle.hpp) ---

  std::int64_t start_ms_ = 0;
  // --oplog: the newest oplog entry's ts when the dump started (absent: the oplog was empty).
  std::optional<formats::Timestamp> oplog_start_;
  std::vector<DbAuthzPart> authz_;  // --dumpDbUsersAndRoles (pipeline/ops/users_roles.hpp)
};

}  // namespace bsonpipe::pipeline::dump_detail
