// Faults survived: minimongod's fault injection (connections closed after N replies, commands
// failing with retryable codes) under a dump and a restore. Each run must end with exactly the
// source documents: nothing lost, nothing twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"

namespace bsonpipe::test {
namespace {

namespace fs = std::filesystem;
using formats::Bytes;

std::vector<Bytes> sorted(std::vector<Bytes> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The source documents, read from a server without faults holding the same generated data.
std::vector<Bytes> generated_documents(const std::string& spec, const std::string& db, const std::string& coll) {
  MiniMongod clean({"--generate", spec});
  auto conn = connect(clean.uri());
  if (!conn) return {};
  return sorted(server_documents(*conn, db, coll));
}

TEST(DumpFaults, ConnectionsClosedEveryFewRepliesResumeFromLastId) {
  const std::string spec = "app.events:6000:700:11";
  auto expected = generated_documents(spec, "app", "events");
  ASSERT_EQ(expected.size(), 6000u);
  // Every connection is closed after 12 replies: a dump of 6000 documents in batches of 100
  // needs 60 getMores, so each reader reconnects and resumes several times.
  MiniMongod server({"--generate", spec, "--fault-close-after", "12"});
  for (const char* readers : {"1", "3"}) {
    SCOPED_TRACE(std::string("--readers ") + readers);
    auto dir = temp_dir("dump-faults");
    auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--out", dir.string(), "--batchSize", "100",
                       "--readers", readers, "--split-threshold", "1", "--retries", "3", "--progress", "plain"});
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_NE(r.err.find("retrying app.events"), std::string::npos) << "no retry happened:\n" << show(r);
    auto got = split_documents(read_file(dir / "app" / "events.bson"));
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(sorted(got) == expected) << "dumped documents differ from the source";
    EXPECT_TRUE(fs::exists(dir / "manifest.json"));
  }
}

TEST(DumpFaults, RetryableCommandErrorsAreRetried) {
  const std::string spec = "app.events:3000:500:5";
  auto expected = generated_documents(spec, "app", "events");
  // getMore fails three times with ShutdownInProgress (91), a retryable read error.
  MiniMongod server({"--generate", spec, "--fault-fail", "getMore:91:3"});
  auto dir = temp_dir("dump-faults");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--out", dir.string(), "--batchSize", "200",
                     "--readers", "1", "--progress", "plain"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto got = split_documents(read_file(dir / "app" / "events.bson"));
  EXPECT_TRUE(sorted(got) == expected) << got.size() << " documents dumped, want " << expected.size();
}

TEST(DumpFaults, RetryBudgetEndsTheRunWithAClearError) {
  // Every find fails: no attempt makes progress, so the budget of 2 runs out. (Were only the
  // getMores failing, each new find would bring a first batch, and the dump would go on.)
  MiniMongod server({"--generate", "app.events:3000:500:5", "--fault-fail", "find:91:1000"});
  auto dir = temp_dir("dump-faults");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--out", (dir / "out").string(), "--batchSize",
                     "100", "--readers", "1", "--retries", "2", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("app.events"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("gave up after 2 retries"), std::string::npos) << show(r);
  EXPECT_FALSE(fs::exists(dir / "out" / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(DumpFaults, NonRetryableErrorsStopAtOnce) {
  // Unauthorized (13) is not retryable: one attempt, then a clear error.
  MiniMongod server({"--generate", "app.events:500:300:5", "--fault-fail", "find:13:1000"});
  auto dir = temp_dir("dump-faults");
  auto r =
      bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--out", (dir / "out").string(), "--progress", "plain"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("find on app.events failed"), std::string::npos) << show(r);
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
}  // namespace bsonpipe::test

namespace bsonpipe::test {
namespace {

// Dumps `spec`'s collection from a clean server into a directory (the restore input).
std::filesystem::path dump_of(MiniMongod& source) {
  auto dir = temp_dir("restore-faults-src");
  auto r = bsonpipe({"dump", "--uri", source.uri(), "--db", "app", "--out", dir.string(), "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  return dir;
}

TEST(RestoreFaults, ConnectionsClosedMidLoadResendBatches) {
  const std::string spec = "app.events:5000:600:13";
  MiniMongod source({"--generate", spec});
  auto src = connect(source.uri());
  ASSERT_TRUE(src);
  auto expected = server_digest(*src, "app", "events");
  auto dir = dump_of(source);
  // Every connection closes after 6 replies: with 200-document batches (25 inserts per worker)
  // each worker's connection is closed several times while it loads.
  MiniMongod target({"--fault-close-after", "6"});
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--batchSize", "200", "--numInsertionWorkersPerCollection", "2",
                     "--retries", "3", "-v", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("sent again after a retryable error"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("5000 document(s) restored successfully"), std::string::npos) << show(r);
  // The checking client needs few replies: one find with a large batch.
  auto dst = connect(target.uri());
  ASSERT_TRUE(dst);
  EXPECT_TRUE(server_digest(*dst, "app", "events") == expected) << "restored documents differ from the source";
}

TEST(RestoreFaults, NotWritablePrimaryBudgetRunsOut) {
  MiniMongod source({"--generate", "app.events:300:300:3"});
  auto dir = dump_of(source);
  MiniMongod target({"--fault-fail", "insert:10107:1000"});  // NotWritablePrimary on every insert
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--retries", "2", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("gave up after 2 retries"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("app.events"), std::string::npos) << show(r);
}

}  // namespace
}  // namespace bsonpipe::test
