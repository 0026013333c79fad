// bsonpipe copy: a dump of one server streamed straight into a restore on another, nothing on
// disk. The dump's readers hand whole batches of documents, with the archive's prelude (every
// collection's metadata) first, through a bounded in-process channel (CopyChannel,
// pipeline/sources/copy_channel.hpp: a NamespaceStream, which restore reads as it reads an
// archive) to the restore's insertion workers, so dump's filters and restore's options (renames,
// --drop, --swap, workers, indexes built per collection as it completes) apply unchanged.
// --verify then compares every copied collection's document count and order-independent content
// digest on both sides, and every view's definition.
//
// Threading: run_copy() blocks; it runs the dump and the restore as two stages of one
// pipeline::Executor and waits for both. The first error of either side (an exception too)
// cancels both (the executor's token, each side's interrupt, stops, and its cancel hook closes the
// channel at both ends), and is the error reported.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "formats/hash.hpp"
#include "formats/status.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/restore.hpp"

namespace bsonpipe::pipeline {

struct CopyOptions {
  // The source side: uri (--from), filters, -j, --readers, batchSize. target/out/codec/
  // document_sink/interrupt are set by run_copy (the channel, no compression).
  DumpOptions dump;
  // The target side: uri (--to), plan.ns_from/ns_to, drop, swap, workers, batch size, write
  // concern... plan.oplog_replay and interrupt are set by run_copy; archive and gzip are not
  // used. Not allowed (validate()): input, archive_path, resume, journal, dry_run, oplog replay.
  RestoreOptions restore;
  bool verify = false;                    // --verify: compare counts and content digests at the end
  std::size_t channel_bytes = 32u << 20;  // bytes of documents queued between dump and restore (the bound)
  // Documents a dump reader gathers before it hands them over (one insert batch on the other
  // side). 0 = the dump's block_bytes.
  std::size_t segment_bytes = 4u << 20;
  std::stop_token interrupt;  // SIGINT/SIGTERM (a stop request); cancels the run
  // --follow (pipeline/ops/follow_run.hpp): before_copy runs once both sides answered and before the
  // dump starts (it notes where the source's oplog is); after_copy runs once the copy succeeded,
  // before --verify (it tails and applies the oplog until cutover). Called on run_copy's thread.
  std::function<Status()> before_copy;
  std::function<Status()> after_copy;
  // --follow --resume: no copy (an earlier run made it); after_copy and --verify still run, the
  // latter over the source's namespaces that the filters select.
  bool skip_copy = false;
  // Messages for the user (verification results, ...). Null = silent. Called from one thread.
  std::function<void(const std::string&)> log;

  // The first option copy cannot take, as an InvalidArgument Status whose message is the one
  // `bsonpipe copy` prints (e.g. "--collection needs --db"); ok otherwise. run_copy calls it.
  [[nodiscard]] Status validate() const;
};

// One namespace compared by --verify.
struct VerifyResult {
  std::string source_ns;
  std::string target_ns;
  formats::MultisetDigest source;
  formats::MultisetDigest target;
  TargetKind kind = TargetKind::kCollection;  // a view's digests are of its definition, not of documents
  bool view() const { return kind == TargetKind::kView; }
  std::string error;  // reading either side failed
  bool matches() const { return error.empty() && source == target; }
};

struct CopyReport {
  DumpReport dump;
  RestoreReport restore;
  bool verified = false;             // --verify ran (only after a successful copy)
  std::vector<VerifyResult> verify;  // one per copied collection or view
  double seconds = 0;                // the whole run, --verify included
  double copy_seconds = 0;           // dump + restore only (until both sides finished)
  // Every namespace restored whole and, with --verify, every namespace matched.
  bool ok() const;
  // The namespaces whose verification failed, "source -> target" (empty when all matched).
  std::vector<std::string> mismatches() const;
};

// The copy's selection and renames as restore-plan options (for --follow's oplog entries):
// --db/--collection, --nsInclude/--nsExclude, --excludeCollection(sWithPrefix), --nsFrom/--nsTo.
PlanOptions follow_plan(const CopyOptions& o);

// Checks the options, connects to both sides first (an unreachable side fails before any thread
// starts), then runs the copy.
// The report, or the first error of either side (or of --verify's reads); a failed run's report so
// far goes to `partial` when given (the per-namespace lines the command prints).
[[nodiscard]] Result<CopyReport> run_copy(const CopyOptions& opts, CopyReport* partial = nullptr);

}  // namespace bsonpipe::pipeline
