// Unit tests of mongorestore's outcome rules (pipeline/ops/restore_outcome.hpp): which write errors are
// tolerated (the ignorable codes of mongo-tools common/db/db.go: 11000 and 121), the finished line
// of mongorestore/restore.go (Result.log), and the error of a run that went on past failed
// namespaces.
#include "pipeline/ops/restore_outcome.hpp"

#include <gtest/gtest.h>

namespace bsonpipe::pipeline {
namespace {

TEST(RestoreOutcome, WriteErrorsAreSortedByWhatTheyMeanForTheRun) {
  std::vector<io::WriteError> errors = {
      {0, 11000, "E11000 duplicate key error collection: a.b index: k_1 dup key: { k: 1 }"},
      {1, 11000, "E11000 duplicate key error collection: a.b index: _id_ dup key: { _id: 1 }"},
      {2, 121, "Document failed validation"},
      {3, 2, "can't use an array for _id"},
  };
  WriteErrorTally first = tally_write_errors(errors, false);
  EXPECT_EQ(first.duplicates, 2u);
  EXPECT_EQ(first.present, 0u);
  EXPECT_EQ(first.invalid, 1u);
  EXPECT_EQ(first.others, 1u);
  EXPECT_EQ(first.stopping(), 4u);
  ASSERT_EQ(first.reasons.size(), 1u);
  EXPECT_EQ(first.reasons[0], "can't use an array for _id (code 2)");

  // Sent again: a duplicate on _id is a document the earlier attempt inserted.
  WriteErrorTally again = tally_write_errors(errors, true);
  EXPECT_EQ(again.duplicates, 1u);
  EXPECT_EQ(again.present, 1u);
  EXPECT_EQ(again.stopping(), 3u);
}

TEST(RestoreOutcome, FinishedLineCountsEveryWriteErrorAsAFailure) {
  EXPECT_EQ(finished_restoring_line("a.b", 1, 0), "finished restoring a.b (1 document, 0 failures)");
  EXPECT_EQ(finished_restoring_line("a.b", 10, 1), "finished restoring a.b (10 documents, 1 failure)");
}

TEST(RestoreOutcome, FailedNamespacesMakeTheRunFail) {
  std::vector<NamespaceReport> ns(3);
  ns[0].target_ns = "a.x";
  ns[1].target_ns = "a.y";
  ns[2].target_ns = "a.z";
  EXPECT_TRUE(failed_namespaces_status(ns).is_ok());
  ns[1].error = "creating indexes on a.y: DuplicateKey";
  Status one = failed_namespaces_status(ns);
  EXPECT_FALSE(one.is_ok());
  EXPECT_EQ(one.message(), "creating indexes on a.y: DuplicateKey");
  ns[2].error = "creating collection a.z: InvalidOptions";
  Status two = failed_namespaces_status(ns);
  EXPECT_EQ(two.message(), "2 namespaces could not be restored: a.y, a.z");
}

}  // namespace
}  // namespace bsonpipe::pipeline
