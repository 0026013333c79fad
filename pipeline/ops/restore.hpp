// The restore pipeline (bsonpipe restore, mongorestore compatible): reader (file or archive
// stream) -> decompressor -> whole-document batches -> bounded queue -> N insertion workers per
// collection (unordered OP_MSG inserts straight from the batch buffers), M collections at a time,
// then one createIndexes per collection as soon as its data is in. Every document is accounted
// for per namespace: inserted, duplicate (E11000), refused by a validator (121) or failed (with
// the reason). A namespace that fails (create, indexes, swap) does not stop the others unless
// --stopOnError; a stopped run names the namespaces it left partially loaded.
//
// Resumable (--resume, pipeline/ops/restore_journal.hpp): batches are cut from the input bytes and
// the batch options alone, and each is journaled (fsync'ed) once the server acknowledged all of
// it; a resumed run skips journaled batches, re-sends the others (duplicate keys on _id = already
// in), does not drop again what it began, and skips namespaces it finished. --oplogReplay applies
// the dump's oplog last, after every namespace's data and indexes (pipeline/ops/oplog_replay.hpp).
//
// Every file the run reads or writes (the dump's files, the archive, oplog.bson, the journal,
// the archive's oplog spool) goes through RestoreOptions::storage; standard input stays stdin.
//
// Threading: run_restore() blocks; its concurrent bodies (insertion workers, -j collection
// runners, a stream's per-namespace loaders) are stages of the run's pipeline::Executor, whose
// canceller wakes every job when the run is cancelled; all are waited for before it returns. Exceptions never leave a
// worker: they become the run's first error. The first error (or the interrupt) cancels every stage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "formats/status.hpp"
#include "io/storage.hpp"
#include "pipeline/core/progress.hpp"
#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::io {
struct Uri;
}

namespace bsonpipe::pipeline {

class BufferPool;  // pipeline/core/buffer_pool.hpp

class NamespaceStream;  // pipeline/sources/namespace_stream.hpp

enum class LogLevel : std::uint8_t { kInfo, kVerbose };

struct RestoreOptions {
  std::string uri;              // required: mongodb://...
  std::filesystem::path input;  // a dump directory, a database directory (with plan.db) or a .bson file
  // Where every file of the run is read and written (dump files, archive, oplog, journal, spool
  // files); null = io::local_storage(). Must outlive the run; called from any thread.
  io::Storage* storage = nullptr;
  // Where inserted batches' buffers are given back for their producer to fill again (copy: the
  // dump side's blocks). Null = the restore's own pool, which its file readers take from.
  BufferPool* batch_buffers = nullptr;
  bool archive = false;              // read an archive instead of `input`
  std::string archive_path;          // "" or "-" = standard input
  PlanOptions plan;                  // --db, --collection, --nsInclude/--nsExclude, --nsFrom/--nsTo
  bool gzip = false;                 // --gzip: archives must be gzip; files are also detected by name and magic
  bool drop = false;                 // --drop: drop each target collection before restoring it
  bool dry_run = false;              // --dryRun: read and check everything, write nothing
  bool no_index_restore = false;     // --noIndexRestore
  bool no_options_restore = false;   // --noOptionsRestore: create collections without their options
  IndexSpecOptions index;            // --keepIndexVersion, --convertLegacyIndexes
  int num_parallel_collections = 4;  // -j: collections loaded at once (directory dumps)
  int insertion_workers = 1;         // --numInsertionWorkersPerCollection (each with its own connection)
  int batch_size = 0;                // --batchSize: documents per insert; 0 = the server's maxWriteBatchSize
  // --stopOnError: any write error (duplicates and validation failures included) or namespace
  // failure ends the run at once; without it, duplicate-key (11000) and validation (121) errors
  // are counted and tolerated, and the other namespaces finish when one fails.
  // --maintainInsertionOrder implies it.
  bool stop_on_error = false;
  bool maintain_insertion_order = false;  // ordered inserts, one worker per collection
  std::string write_concern;              // "majority", "<n>" or a JSON document; "" = the URI's or server default
  bool bypass_document_validation = false;
  bool preserve_uuid = false;                 // --preserveUUID (requires drop)
  bool objcheck = false;                      // full validation (UTF-8 included) of every document before sending it
  bool require_empty = false;                 // refuse (writing nothing) if any target namespace holds documents
  bool swap = false;                          // load into a temporary collection, index it, rename it over the live one
  std::size_t batch_bytes = 8 * 1024 * 1024;  // bytes per queued batch (memory: ~ batch_bytes x queue x collections)
  std::size_t queue_batches = 0;              // per collection queue capacity; 0 = 2 x workers
  // --resume: continue the run recorded in the journal (skip its inserted batches; re-send the
  // others treating duplicate-key errors on _id as already inserted). Exactly once holds for
  // documents with an _id; documents without one get a new _id from the server on every attempt.
  // With no journal yet, starts a new journaled run. Refused for standard input and with --swap.
  bool resume = false;
  // --journal: where the journal goes; "" = <dump>/.bsonpipe-restore-journal (directory input),
  // <archive>.journal (archive file). A run is journaled with --resume, with --journal, or when a
  // journal already exists at that path (a run without --resume replaces it).
  std::filesystem::path journal;
  std::string oplog_limit;     // --oplogLimit <seconds>[:ordinal]: replay entries strictly before it
  int retries = 5;             // --retries: re-sends of a batch after retryable errors, in a row
  int retry_backoff_ms = 100;  // first wait before a retry; doubles up to 5 s
  double rate_limit_mbps = 0;  // --rate-limit: MB/s (10^6) of raw BSON inserted, all workers; 0 = none
  ProgressOptions progress{.mode = ProgressMode::kNone};  // live progress (pipeline/core/progress.hpp); off by default
  std::stop_token interrupt;                              // SIGINT/SIGTERM (a stop request); stops the run cleanly
  // Messages for the user (skipped files, per-namespace results). Called from any thread, one
  // call at a time. Null = silent.
  std::function<void(LogLevel, const std::string&)> log;

  // The checks no run could pass, in the order they are reported: --preserveUUID needs --drop,
  // --oplogLimit needs --oplogReplay and parses, --resume not with --swap nor standard input,
  // --restoreDbUsersAndRoles with --db (not admin), --swap not with --drop, -j and
  // --numInsertionWorkersPerCollection at least 1, --retries and --batchSize not negative, not
  // both --archive and a dump path, --writeConcern parses. The message names the flag.
  // run_restore calls it first.
  [[nodiscard]] Status validate() const;
};

struct NamespaceReport {
  std::string source_ns;
  std::string target_ns;
  TargetKind kind = TargetKind::kCollection;
  std::uint64_t documents_read = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;                // refused by the collection's validator (code 121): counted, tolerated
  std::uint64_t failed = 0;                  // any other write error: the run fails
  std::vector<std::string> failure_reasons;  // distinct reasons, at most 10
  std::uint64_t already_restored = 0;        // --resume: journaled batches skipped, or found inserted on re-send
  std::uint64_t found_present = 0;           // ... of which found inserted on re-send (duplicate key on _id)
  std::size_t indexes_created = 0;
  bool completed = false;  // data loaded, indexes built (and swapped in)
  // A namespace-level failure (create, indexes, rename), or, when the run stopped, that this
  // namespace was left partially loaded.
  std::string error;
};

// What a run did. A failed run's error is run_restore's Status, not a field here.
struct RestoreReport {
  bool dry_run = false;
  std::vector<NamespaceReport> namespaces;
  std::vector<std::string> skipped;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t failed = 0;
  std::uint64_t already_restored = 0;
  std::uint64_t found_present = 0;
  std::uint64_t retries = 0;      // insert batches sent again after a retryable error
  bool already_complete = false;  // --resume found a completed journal: nothing was done
  std::string journal;            // the journal written ("" = none)
  // --oplogReplay
  bool oplog_replayed = false;
  std::uint64_t oplog_applied = 0;
  std::uint64_t oplog_skipped = 0;      // no-ops and entries of namespaces not restored
  std::uint64_t oplog_after_limit = 0;  // at or after --oplogLimit
  // No failed document and every namespace completed.
  bool ok() const;
};

// Validates the options (RestoreOptions::validate) and runs the restore. Success: the report
// (which may still hold failed documents: see ok()). Failure: the first error that stopped the
// run (kCancelled when interrupted) or, when the run carried on past failed namespaces, that
// namespace's error or a summary naming them; `partial`, when given, then receives what the run
// did before it ended (per-namespace counts and errors). Never throws.
[[nodiscard]] Result<RestoreReport> run_restore(const RestoreOptions& opts, RestoreReport* partial = nullptr);
// bsonpipe copy (pipeline/ops/copy.hpp): restores what `input` yields, as an archive is restored,
// instead of reading a dump or an archive file (opts.input, archive, archive_path and gzip are not
// used). Never journaled: --resume/--journal are refused. `input` is read on the calling thread.
// Results as the other run_restore.
[[nodiscard]] Result<RestoreReport> run_restore(const RestoreOptions& opts, NamespaceStream& input,
                                                RestoreReport* partial = nullptr);

// Parses --writeConcern: "majority", "<n>", or a JSON document such as {w:1,j:true}.
Result<formats::Bytes> parse_write_concern(std::string_view text);
// The write concern when --writeConcern is not given, as mongorestore: the URI's w, j and
// wtimeoutMS, with w "majority" when the URI has no w.
formats::Bytes default_write_concern(const io::Uri& uri);

}  // namespace bsonpipe::pipeline
