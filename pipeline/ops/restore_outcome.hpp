// How a restore's outcome is judged and told, by mongorestore's rules: which write errors a run
// tolerates (mongo-tools common/db/db.go, FilterError), the per-namespace "finished restoring"
// line, and the one error of a run that carried on past failed namespaces. No I/O, no threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/status.hpp"
#include "io/errors.hpp"
#include "pipeline/ops/restore.hpp"

namespace bsonpipe::pipeline {

inline constexpr std::int32_t kDuplicateKeyCode = 11000;
inline constexpr std::int32_t kDocumentValidationCode = 121;  // DocumentValidationFailure

// One insert reply's write errors, sorted by what they mean for the run.
struct WriteErrorTally {
  std::uint64_t duplicates = 0;      // 11000: counted and tolerated (not with --stopOnError)
  std::uint64_t invalid = 0;         // 121, refused by the collection's validator: likewise
  std::uint64_t present = 0;         // 11000 on _id in a re-sent batch: in since the earlier attempt
  std::uint64_t others = 0;          // any other code: the document failed, and so does the run
  std::vector<std::string> reasons;  // "<errmsg> (code N)" of the others
  // What --stopOnError stops on: every write error but the re-sent ones found present.
  std::uint64_t stopping() const { return duplicates + invalid + others; }
};
// `resent`: the batch, or an earlier attempt of it, may already be in.
WriteErrorTally tally_write_errors(const std::vector<io::WriteError>& errors, bool resent);

// mongorestore's "finished restoring <ns> (N documents, M failures)", where every write error,
// tolerated or not, is a failure.
std::string finished_restoring_line(const std::string& ns, std::uint64_t inserted, std::uint64_t failures);

// The error of a run that went on past failed namespaces (NamespaceReport::error set): that
// namespace's error when one failed, a summary naming them when several did; ok when none did.
Status failed_namespaces_status(const std::vector<NamespaceReport>& namespaces);

}  // namespace bsonpipe::pipeline
