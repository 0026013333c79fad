// The dump pipeline: plan the namespaces, split large collections into _id ranges, read each
// range with its own cursor and connection, compress blocks in parallel, and write mongodump's
// directory layout or archive format. Files are staged and only moved into place, with the
// manifest written last, when the whole dump succeeded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/compress.hpp"
#include "io/storage.hpp"
#include "pipeline/catalog/bundle.hpp"
#include "pipeline/core/progress.hpp"

namespace bsonpipe::formats::archive {
struct Prelude;
}

namespace bsonpipe::pipeline {

class BufferPool;  // pipeline/core/buffer_pool.hpp

enum class DumpTarget : std::uint8_t {
  kDirectory,   // OUT/<db>/<coll>.bson + .metadata.json (+ prelude.json, manifest.json)
  kArchive,     // one mongodump archive stream, to a file or stdout
  kStdoutBson,  // one collection's documents as raw BSON on stdout (`--out -`)
};

// Where a copy's dump hands its data (see DumpOptions::document_sink): the prelude (start) first, then
// batches of whole documents and ends of namespaces. documents() and end_namespace() are called
// from several reader threads at once, for one namespace in order (its end after its last batch).
// An error returned stops the dump.
class DocumentSink {
 public:
  virtual ~DocumentSink() = default;
  virtual Status start(const formats::archive::Prelude& p) = 0;
  virtual Status documents(std::string_view db, std::string_view collection, formats::Bytes docs,
                           std::size_t count) = 0;
  virtual Status end_namespace(std::string_view db, std::string_view collection) = 0;
  // The dump failed: wake reader threads blocked in documents() so the run can end (they may
  // return kCancelled). Called at most once, from the failing reader's thread; thread-safe.
  // Default: nothing, for sinks that never block.
  virtual void cancel() {}
};

struct DumpOptions {
  std::string uri = "mongodb://localhost:27017/";        // the source
  std::string db;                                        // --db: only this database ("" = all)
  std::string collection;                                // --collection: only this one (needs db)
  formats::Bytes query;                                  // --query/--queryFile as BSON; empty = all documents
  std::vector<std::string> ns_include;                   // --nsInclude patterns ("db.*")
  std::vector<std::string> ns_exclude;                   // --nsExclude patterns
  std::vector<std::string> exclude_collections;          // --excludeCollection
  std::vector<std::string> exclude_collection_prefixes;  // --excludeCollectionsWithPrefix
  DumpTarget target = DumpTarget::kDirectory;
  std::filesystem::path out = "dump";           // the directory, or the archive file ("-" = stdout)
  io::Codec codec = io::Codec::kNone;           // --gzip / --zstd
  int level = 0;                                // compression level; 0 = the codec's default
  int parallel_collections = 4;                 // -j: cursors running at once across collections
  int readers = 4;                              // --readers: most cursors (ranges) per large collection
  std::uint64_t split_min_bytes = 64ull << 20;  // a collection this large or larger is split
  // A split collection's file is written in range order: ranges read ahead of the one being
  // written hold at most this many bytes of replies, then wait (no part files, no second pass).
  std::size_t range_window_bytes = 32u << 20;
  double rate_limit_mbps = 0;          // --rate-limit: MB/s (10^6) of raw BSON read, all readers; 0 = none
  int compress_threads = 0;            // 0 = the machine's hardware threads
  std::size_t block_bytes = 4u << 20;  // raw bytes per compression block
  std::int32_t batch_size = 0;         // find/getMore batchSize; 0 = server default
  std::string read_preference;         // --readPreference mode name; "" = primary
  bool views_as_collections = false;   // --viewsAsCollections
  bool dump_users_and_roles = false;   // --dumpDbUsersAndRoles (with --db)
  bool oplog = false;                  // --oplog
  // --forceTableScan: read every collection in natural order, one cursor, no {_id: 1} hint (a
  // read that fails then starts the collection over, as mongodump's does).
  bool table_scan = false;
  int retries = 5;             // --retries: resumed reads per range after retryable errors
  int retry_backoff_ms = 100;  // first wait before a retry; doubles up to 5 s
  ProgressOptions progress;    // how progress and the summary are shown
  std::stop_token interrupt;   // SIGINT/SIGTERM (a stop request); cancels the run
  // --- bundled files (pipeline/catalog/bundle.hpp): --include-path trees copied into a directory dump ---
  BundleOptions bundle;
  // bsonpipe copy: with kArchive, what would be the archive goes to this sink as whole batches
  // (no byte stream, no files). Null = write the archive to `out`.
  DocumentSink* document_sink = nullptr;
  // With document_sink: where the blocks handed to it are taken from (its consumer gives them
  // back there), so each is not a fresh, page-faulting allocation. Null = allocate.
  BufferPool* block_buffers = nullptr;
  // Where every file of the dump is read and written (output files, staging directory, range
  // parts, manifest, archive file). Null = io::local_storage(). Standard output (`--out -`,
  // `--archive` to stdout) is written to the file descriptor, not through the storage.
  io::Storage* storage = nullptr;

  // The checks no run could pass, in the order the command line reports them: -j, --readers and
  // --retries in range, --out - with --db and --collection, --oplog alone,
  // --dumpDbUsersAndRoles with --db, --collection with --db, --rate-limit >= 0, a document sink
  // only for an archive. The message names the flag. run_dump calls it first.
  [[nodiscard]] Status validate() const;
};

struct DumpNamespaceStats {
  std::string ns;
  std::string type;  // "collection", "view", "timeseries"
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;
  std::uint64_t stored_bytes = 0;
  int ranges = 0;
};

struct DumpReport {
  std::vector<DumpNamespaceStats> namespaces;
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;
  std::uint64_t stored_bytes = 0;
  std::uint64_t retries = 0;  // reads resumed after a retryable error
  double seconds = 0;
};

// Runs a whole dump (opts.validate() first). Success: the summary; failure: the first error
// (kInvalidArgument for invalid options, before anything is written or connected). On failure
// (or interruption) nothing that looks like a finished dump is left behind: directory output
// stays in "<out>.partial" (removed on a clean failure) and the manifest is never written; an
// archive file stays "<file>.partial" and is removed.
[[nodiscard]] Result<DumpReport> run_dump(const DumpOptions& opts);

// One _id range of a collection: [min, max) as index bounds on {_id: 1}; an empty bound is open.
struct IdRange {
  formats::Bytes min;  // {_id: <value>} or empty
  formats::Bytes max;
};
// Splits sorted-or-not sample _ids (each a {_id: v} document) into at most `parts` ranges that
// cover every _id exactly once, whatever the mix of BSON types. Exposed for tests.
std::vector<IdRange> split_ranges(std::vector<formats::Bytes> sample_ids, int parts);

}  // namespace bsonpipe::pipeline
