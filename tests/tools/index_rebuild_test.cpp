// Integration tests of `bsonpipe index rebuild` against minimongod: --plan changes nothing, a run
// creates the missing indexes, existing ones with another spec are reported, not touched.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/bson.hpp"
#include "io/commands.hpp"
#include "io/uri.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using test::bsonpipe;
using test::connect;
using test::show;

std::vector<std::string> index_names(io::Connection& c, const std::string& db, const std::string& coll) {
  std::vector<std::string> out;
  auto l = io::list_indexes(c, db, coll);
  EXPECT_TRUE(l.is_ok());
  if (l)
    for (auto& ix : *l) out.emplace_back(DocView(ix).find("name").as_string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(IndexRebuild, PlanThenCreate) {
  test::MiniMongod server;
  std::string dump = (test::restore_testdata() / "coll_with_index").string();
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--noIndexRestore", dump});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(index_names(*c, "test", "foo"), std::vector<std::string>{"_id_"});

  auto plan = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from", dump, "--plan"});
  ASSERT_EQ(plan.exit_code, 0) << show(plan);
  EXPECT_NE(plan.out.find("would-create"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("test.foo f_1"), std::string::npos) << plan.out;
  EXPECT_EQ(index_names(*c, "test", "foo"), std::vector<std::string>{"_id_"});

  auto run = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from", dump});
  ASSERT_EQ(run.exit_code, 0) << show(run);
  EXPECT_NE(run.out.find("created"), std::string::npos) << run.out;
  EXPECT_EQ(index_names(*c, "test", "foo"), (std::vector<std::string>{"_id_", "f_1"}));

  // Idempotent: now everything is present.
  auto again = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from", dump});
  ASSERT_EQ(again.exit_code, 0) << show(again);
  EXPECT_NE(again.out.find("present"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("created"), std::string::npos) << again.out;
}

TEST(IndexRebuild, ReportsDifferentSpecAndLeavesIt) {
  test::MiniMongod server;
  std::string dump = (test::restore_testdata() / "coll_with_index").string();
  ASSERT_EQ(bsonpipe({"restore", "--uri", server.uri(), "--noIndexRestore", dump}).exit_code, 0);
  auto c = connect(server.uri());
  Builder k;
  k.append_int32("g", 1);
  Bytes key = k.finish();
  Builder s;
  s.append_document("key", DocView(key)).append_string("name", "f_1");
  Bytes spec = s.finish();
  ASSERT_TRUE(io::create_indexes(*c, "test", "foo", {DocView(spec)}).is_ok());
  auto r = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from", dump});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("differs"), std::string::npos) << r.out;
  auto l = io::list_indexes(*c, "test", "foo");
  ASSERT_TRUE(l.is_ok());
  for (auto& ix : *l) {
    if (DocView(ix).find("name").as_string() == "f_1") {
      EXPECT_TRUE(DocView(ix).find("key").as_document().find("g").valid());
    }
  }
}

TEST(IndexRebuild, FromArchiveAndMissingCollection) {
  test::MiniMongod server;
  auto r = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from",
                     (test::restore_testdata() / "indextestdump").string(), "--plan"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("collection-missing"), std::string::npos) << r.out;
  auto bad = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from",
                       (test::restore_testdata() / "bad-format.archive").string()});
  EXPECT_NE(bad.exit_code, 0) << show(bad);
}

// -j below 1 is refused as a usage error (IndexRebuildOptions::validate), before anything is
// read or connected; it used to run with one collection at a time.
TEST(IndexRebuild, ParallelCollectionsBelowOneIsAUsageError) {
  test::MiniMongod server;
  auto r = bsonpipe({"index", "rebuild", "--uri", server.uri(), "--from",
                     (test::restore_testdata() / "indextestdump").string(), "--plan", "-j", "0"});
  EXPECT_EQ(r.exit_code, 2) << show(r);
  EXPECT_EQ(r.err, "bsonpipe index rebuild: --numParallelCollections must be at least 1\n") << show(r);
  EXPECT_EQ(r.out, "") << show(r);
}

}  // namespace
}  // namespace bsonpipe
