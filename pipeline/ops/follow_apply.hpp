// The apply sink of `copy --follow`: selects and renames source oplog entries as the copy does
// (its filters and --nsFrom/--nsTo), refuses the kinds it cannot apply faithfully, and applies
// the rest on the target in order, in applyOps batches, so that re-applying any of them is harmless.
//
// Threading: an OplogApplier is used by one thread at a time (it owns its target connection).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/connection.hpp"
#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::pipeline {

// What happens to one source oplog entry.
enum class EntryFate : std::uint8_t { kApply, kSkip, kRefuse };

struct EntryDecision {
  EntryFate fate = EntryFate::kSkip;
  formats::Bytes entry;  // kApply: the entry as sent to applyOps (renamed, without ui/session fields)
  bool command = false;  // kApply: a DDL entry (applied alone, re-application tolerated)
  std::string why;       // kRefuse: "oplog entry ts 1700000000:3 (op c, ns db.$cmd, command dropDatabase)"
};

// The decision for one entry. Selected: op i/u/d, and c with create, drop, renameCollection,
// createIndexes, dropIndexes, collMod. Skipped: noops and entries of namespaces the copy does
// not select. Refused: anything else touching a selected database.
EntryDecision decide_entry(formats::DocView entry, const NamespaceMapper& mapper);

// "<seconds>:<ordinal>"
std::string format_ts(formats::Timestamp ts);

// Applies decided entries in order on the target. CRUD entries go in applyOps batches (applyOps'
// upsert semantics make an insert, a replacement and a delta re-appliable); a DDL entry goes
// alone and "already so" answers (NamespaceExists, NamespaceNotFound, IndexNotFound) count as applied.
class OplogApplier {
 public:
  explicit OplogApplier(io::Connection& target) : conn_(target) {}
  // Queues one entry (kApply decisions only).
  Status add(EntryDecision&& d);
  // Applies everything queued. Not thread-safe.
  Status flush();
  std::uint64_t applied() const { return applied_; }
  std::size_t pending() const { return crud_.size(); }

 private:
  Status apply_crud();
  Status apply_command(const formats::Bytes& entry);

  io::Connection& conn_;
  std::vector<formats::Bytes> crud_;
  std::size_t crud_bytes_ = 0;
  std::uint64_t applied_ = 0;
};

}  // namespace bsonpipe::pipeline
