// bsonpipe index rebuild: create on a live database every index a dump's metadata describes that
// is missing (one createIndexes per collection, collections in parallel), and report indexes
// that exist with a different specification. With `plan_only`, only says what it would do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "formats/status.hpp"
#include "io/storage.hpp"
#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::pipeline {

struct IndexRebuildOptions {
  std::string uri;             // required
  std::filesystem::path from;  // a dump directory or an archive file (gzip/zstd detected)
  PlanOptions plan;            // --nsInclude/--nsExclude (and --nsFrom/--nsTo to aim at renamed namespaces)
  IndexSpecOptions index;      // --keepIndexVersion, --convertLegacyIndexes
  bool plan_only = false;      // --plan: change nothing
  int num_parallel_collections = 4;
  std::stop_token interrupt;
  // Where `from` (archive, or directory listing and metadata files) is read. Default null:
  // io::local_storage(). Must outlive the run.
  io::Storage* storage = nullptr;

  // The checks no run could pass: -j (num_parallel_collections) at least 1. The message names
  // the flag. run_index_rebuild calls it first.
  [[nodiscard]] Status validate() const;
};

enum class IndexAction : std::uint8_t {
  kPresent,            // exists with the same spec: nothing to do
  kCreate,             // missing (with plan_only: would be created)
  kCreated,            // missing and created
  kDiffers,            // exists under this name with another spec (or this key under another name): reported only
  kCollectionMissing,  // the collection does not exist on the server: nothing done
  kFailed,             // createIndexes failed (detail says why)
};
std::string_view index_action_name(IndexAction a);

struct IndexRebuildEntry {
  std::string ns;
  std::string name;  // index name ("" for kCollectionMissing)
  IndexAction action = IndexAction::kPresent;
  std::string detail;  // dump spec, live spec or error, as Extended JSON / text
};

// What a run found and did. Per-collection failures are entries; a stopping error is
// run_index_rebuild's Status.
struct IndexRebuildReport {
  std::vector<IndexRebuildEntry> entries;  // grouped by namespace, in dump order
  std::vector<std::string> skipped;
  bool ok() const;  // no kFailed entry
};

// Validates the options, then runs. Success: the report. Failure: the error that stopped the run
// (invalid options, bad URI or dump, connection, interruption: kCancelled); `partial`, when
// given, then receives the entries made before it stopped. Blocking; collections are handled on
// up to num_parallel_collections worker threads, each with its own connection. Never throws (an
// exception in a worker is the run's error).
[[nodiscard]] Result<IndexRebuildReport> run_index_rebuild(const IndexRebuildOptions& opts,
                                                           IndexRebuildReport* partial = nullptr);

}  // namespace bsonpipe::pipeline
