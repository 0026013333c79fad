// Oplog replay (bsonpipe restore --oplogReplay): applies the entries of a dump's oplog.bson, in
// order, with applyOps, as mongorestore does: no-ops skipped, entries of namespaces the restore
// does not select skipped, namespaces renamed by --nsFrom/--nsTo, stopping before --oplogLimit.
//
// Threading: replay_oplog() runs on the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/connection.hpp"
#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::pipeline {

// Parses --oplogLimit: "<seconds>[:ordinal]" (ordinal default 0).
Result<formats::Timestamp> parse_oplog_limit(std::string_view text);

// Checks that a file holds whole oplog entries (ts, op, ns each present) without applying them:
// a truncated or malformed oplog fails before anything is restored. Errors name file and offset.
Result<std::uint64_t> check_oplog_file(const std::filesystem::path& file, io::Storage& storage = io::local_storage());

struct OplogReplayOptions {
  std::filesystem::path file;               // concatenated oplog entries (oplog.bson)
  std::string name;                         // for messages (defaults to file)
  io::Storage* storage = nullptr;           // reads `file`; null = io::local_storage()
  std::optional<formats::Timestamp> limit;  // apply entries strictly before this
  const NamespaceMapper* mapper = nullptr;  // required: selection and renames
  PlanOptions plan;                         // for skip_reason
  bool preserve_uuid = false;               // keep "ui" (default: removed, as mongorestore does)
  bool bypass_document_validation = false;
  std::size_t max_ops = 1000;               // entries per applyOps
  std::size_t max_bytes = 8 * 1024 * 1024;  // bytes of entries per applyOps
  // Resume: true if the batch [begin, end) (offsets in `file`) was applied by an earlier run.
  std::function<bool(std::int64_t begin, std::int64_t end)> already_applied;
  // Called after each applied batch (journal it).
  std::function<Status(std::int64_t begin, std::int64_t end, std::uint64_t count)> applied;
  std::function<bool()> cancelled;
  // Resume: a batch not journaled may have been applied already. CRUD entries re-apply
  // idempotently; a lone command that fails with NamespaceExists (48) or NamespaceNotFound (26)
  // is taken as applied before.
  bool tolerate_reapplied_commands = false;
};

struct OplogReplayStats {
  std::uint64_t applied = 0;           // entries sent with applyOps
  std::uint64_t skipped_noop = 0;      // op 'n'
  std::uint64_t skipped_filtered = 0;  // namespaces not restored
  std::uint64_t skipped_resumed = 0;   // in batches a previous run applied
  std::uint64_t after_limit = 0;       // entries at or after --oplogLimit (not applied)
};

Result<OplogReplayStats> replay_oplog(io::Connection& conn, const OplogReplayOptions& opts);

}  // namespace bsonpipe::pipeline
