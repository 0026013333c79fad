// Integration tests of `bsonpipe restore` against a real minimongod: every well-formed fixture
// dump of mongo-tools restores with the right counts and index specs; renames, --drop, --dryRun,
// --require-empty, --preserveUUID, --swap (atomic for a concurrent reader; untouched on failure);
// bad input fails cleanly; round trips with `bsonpipe dump`.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "formats/hash.hpp"
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
using test::server_digest;
using test::show;

std::int64_t doc_count(io::Connection& c, const std::string& db, const std::string& coll) {
  auto n = io::count(c, db, coll);
  if (!n) return -1;
  return *n;
}

bool collection_exists(io::Connection& c, const std::string& db, const std::string& coll) {
  auto l = io::list_collections(c, db);
  EXPECT_TRUE(l.is_ok());
  for (auto& ci : *l)
    if (ci.name == coll) return true;
  return false;
}

std::vector<std::string> collection_names(io::Connection& c, const std::string& db) {
  std::vector<std::string> out;
  auto l = io::list_collections(c, db);
  if (l)
    for (auto& ci : *l) out.push_back(ci.name);
  return out;
}

// Documents in a .bson file, counted by walking lengths only.
std::size_t bson_file_count(const fs::path& p) {
  Bytes b = test::read_file(p);
  auto n = formats::walk_documents(b);
  EXPECT_TRUE(n.is_ok()) << p << ": " << n.status().to_string();
  return n ? *n : 0;
}

struct Expected {
  std::string db, coll;
  std::size_t count = 0;
  std::vector<Bytes> indexes;  // from metadata, _id_ excluded
};

// What a directory dump should restore, read from the files (skipping what mongorestore skips).
std::vector<Expected> expected_from_dir(const fs::path& root) {
  std::vector<Expected> out;
  for (auto& dbdir : fs::directory_iterator(root)) {
    if (!dbdir.is_directory()) continue;
    std::string db = dbdir.path().filename().string();
    for (auto& f : fs::directory_iterator(dbdir.path())) {
      auto split = formats::split_dump_file_name(f.path().filename().string());
      if (!split || split->kind != formats::DumpFileKind::kBson) continue;
      formats::CollectionMetadata md;
      fs::path mp = dbdir.path() / (split->stem + ".metadata.json");
      if (fs::exists(mp)) {
        auto m = formats::parse_collection_metadata(test::read_text(mp));
        EXPECT_TRUE(m.is_ok());
        if (m) md = *m;
      }
      auto coll = formats::collection_from_stem(split->stem, md.collection_name);
      EXPECT_TRUE(coll.is_ok()) << f.path();
      if (!coll || coll->starts_with("system.")) continue;
      Expected e{db, *coll, bson_file_count(f.path()), {}};
      for (auto& ix : md.indexes)
        if (DocView(ix).find("name").as_string() != "_id_") e.indexes.push_back(ix);
      out.push_back(std::move(e));
    }
  }
  return out;
}

void check_restored(io::Connection& c, const std::vector<Expected>& want) {
  for (auto& e : want) {
    SCOPED_TRACE(e.db + "." + e.coll);
    EXPECT_EQ(doc_count(c, e.db, e.coll), static_cast<std::int64_t>(e.count));
    auto live = io::list_indexes(c, e.db, e.coll);
    ASSERT_TRUE(live.is_ok());
    for (auto& ix : e.indexes) {
      DocView want_ix(ix);
      bool found = false;
      for (auto& l : *live) {
        DocView lv(l);
        if (lv.find("name").as_string() != want_ix.find("name").as_string()) continue;
        found = true;
        EXPECT_EQ(formats::compare_documents(lv.find("key").as_document(), want_ix.find("key").as_document()), 0);
        for (auto opt : {"unique", "sparse", "expireAfterSeconds", "partialFilterExpression"}) {
          auto a = want_ix.find(opt);
          auto b = lv.find(opt);
          EXPECT_EQ(a.valid(), b.valid()) << opt;
          if (a.valid() && b.valid()) {
            EXPECT_EQ(formats::compare_values(a, b), 0) << opt;
          }
        }
      }
      EXPECT_TRUE(found) << "index " << want_ix.find("name").as_string() << " missing";
    }
  }
}

// ---- fixtures -------------------------------------------------------------------------------------

class FixtureDirTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureDirTest, RestoresCountsAndIndexes) {
  test::MiniMongod server;
  fs::path dir = test::restore_testdata() / GetParam();
  auto r = bsonpipe({"restore", "--uri", server.uri(), dir.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto want = expected_from_dir(dir);
  ASSERT_FALSE(want.empty());
  auto c = connect(server.uri());
  check_restored(*c, want);
}

INSTANTIATE_TEST_SUITE_P(MongoToolsFixtures, FixtureDirTest,
                         ::testing::Values("foodump", "testdirs", "coll_with_index", "coll_with_ttl_index",
                                           "coll_without_index", "indextestdump", "longindextestdump",
                                           "specialcharacter", "longcollectionname", "oplogdump", "indexmetadata"),
                         [](const auto& info) { return info.param; });

TEST(RestoreFixtures, TestdirsSkipsWhatMongorestoreSkips) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("badfile.txt\", skipping"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("baddir\", skipping"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("c2.txt\", skipping"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("oplog"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_TRUE(collection_exists(*c, "db1", "c2"));  // empty .bson: created, no documents
  EXPECT_TRUE(collection_exists(*c, "db1", "c3"));  // empty metadata.json
  EXPECT_TRUE(collection_exists(*c, "db2", "c1"));  // legacy .bin
}

TEST(RestoreFixtures, LongCollectionNameFromMetadata) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), (test::restore_testdata() / "longcollectionname").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  // The invalid root-level file is skipped with a message.
  EXPECT_NE(r.err.find("someMadeUpInvalidHashString.bson\", skipping"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  auto names = collection_names(*c, "db1");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_GT(names[0].size(), 238u);  // the full name, recovered from collectionName
}

// A full restore loads admin's users and roles as mongorestore does (details: users_roles_test.cpp);
// --restoreDbUsersAndRoles needs --db, as in mongorestore.
TEST(RestoreFixtures, UsersdumpRestoresAdminUsersAndRoles) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), (test::restore_testdata() / "usersdump").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("1 from admin.system.users, 1 from admin.system.roles"), std::string::npos) << r.err;
  auto r2 = bsonpipe({"restore", "--uri", server.uri(), "--restoreDbUsersAndRoles",
                      (test::restore_testdata() / "usersdump").string()});
  EXPECT_NE(r2.exit_code, 0);
  EXPECT_NE(r2.err.find("without a specified database"), std::string::npos) << r2.err;
}

// Its unique index only builds after the oplog (not replayed) deletes a duplicate: the index build
// fails, as it does with mongorestore without --oplogReplay, and the run says so.
TEST(RestoreFixtures, DuplicateIndexKeyWithoutOplogFailsClearly) {
  test::MiniMongod server;
  auto r = bsonpipe(
      {"restore", "--uri", server.uri(), (test::restore_testdata() / "duplicate_index_key_with_oplog").string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("creating indexes on test.foo: DuplicateKey"), std::string::npos) << r.err;
}

// A dump without an oplog cannot be replayed: a clear error and nothing written. (Replay itself
// is covered by restore_oplog_test.cpp.)
TEST(RestoreFixtures, OplogReplayWithoutAnOplogIsRefusedClearly) {
  test::MiniMongod server;
  auto r =
      bsonpipe({"restore", "--uri", server.uri(), "--oplogReplay", (test::restore_testdata() / "foodump").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no oplog to replay"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_FALSE(collection_exists(*c, "test", "foo"));
}

// Archive fixtures: counts per namespace from an independent pass of the archive reader.
class FixtureArchiveTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureArchiveTest, RestoresCounts) {
  test::MiniMongod server;
  fs::path file = test::restore_testdata() / GetParam();
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--archive=" + file.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  Bytes data = test::read_file(file);
  formats::archive::Reader reader(formats::archive::span_source(data));
  auto prelude = reader.read_prelude();
  ASSERT_TRUE(prelude.is_ok());
  std::map<std::string, std::uint64_t> counts;
  for (;;) {
    auto ev = reader.next();
    ASSERT_TRUE(ev.is_ok()) << ev.status().to_string();
    if (ev->kind == formats::archive::EventKind::kEnd) break;
    if (ev->kind == formats::archive::EventKind::kDocuments && !ev->entry->is_oplog())
      counts[ev->entry->db + "." + ev->entry->collection] += ev->document_count;
  }
  auto c = connect(server.uri());
  std::size_t checked = 0;
  for (auto& e : (*prelude)->collections) {
    if (e.is_oplog() || e.collection.starts_with("system.")) continue;
    EXPECT_EQ(doc_count(*c, e.db, e.collection), static_cast<std::int64_t>(counts[e.ns()])) << e.ns();
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(MongoToolsArchives, FixtureArchiveTest,
                         ::testing::Values("test.bar.archive", "dump-w-oplog.archive"), [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(RestoreArchive, FromStdinAndGzip) {
  test::MiniMongod server;
  fs::path file = test::restore_testdata() / "test.bar.archive";
  std::string data = test::read_text(file);
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--archive"}, data);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "test", "bar"), 1);

  fs::path tmp = test::temp_dir("restore_gz_archive");
  auto gz = test::run_shell("gzip -c '" + file.string() + "' > '" + (tmp / "a.archive.gz").string() + "'");
  ASSERT_EQ(gz.exit_code, 0);
  auto r2 =
      bsonpipe({"restore", "--uri", server.uri(), "--drop", "--gzip", "--archive=" + (tmp / "a.archive.gz").string()});
  ASSERT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_EQ(doc_count(*c, "test", "bar"), 1);
}

// ---- flags --------------------------------------------------------------------------------------

TEST(RestoreFlags, NsFromNsToRenames) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--nsFrom", "db1.$c$", "--nsTo", "renamed.$c$_copy",
                     (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "renamed", "c1_copy"), 100);
  EXPECT_EQ(doc_count(*c, "renamed", "c4_copy"), 10);
  EXPECT_FALSE(collection_exists(*c, "db1", "c1"));
  EXPECT_TRUE(collection_exists(*c, "db2", "c1"));  // not matched: unchanged name
}

TEST(RestoreFlags, NsIncludeExclude) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--nsInclude", "db1.*", "--nsExclude", "db1.c4",
                     (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 100);
  EXPECT_FALSE(collection_exists(*c, "db1", "c4"));
  EXPECT_FALSE(collection_exists(*c, "db2", "c1"));
}

TEST(RestoreFlags, SingleFileWithDbAndCollection) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--db", "x", "--collection", "y",
                     (test::restore_testdata() / "testdirs/db1/c1.bson").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "x", "y"), 100);
}

TEST(RestoreFlags, DropReplacesAndDuplicatesAreCounted) {
  test::MiniMongod server;
  std::string dir = (test::restore_testdata() / "testdirs").string();
  ASSERT_EQ(bsonpipe({"restore", "--uri", server.uri(), "--nsInclude", "db1.c1", dir}).exit_code, 0);
  auto c = connect(server.uri());
  // An extra document that --drop must remove.
  Builder b;
  b.append_string("_id", "extra");
  Bytes doc = b.finish();
  auto ins = io::insert(*c, "db1", "c1", doc);
  ASSERT_TRUE(ins.is_ok());
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 101);

  // Without --drop: every document is a duplicate, counted and reported, not fatal.
  auto again = bsonpipe({"restore", "--uri", server.uri(), "--nsInclude", "db1.c1", dir});
  EXPECT_EQ(again.exit_code, 0) << show(again);
  EXPECT_NE(again.err.find("100 duplicate key error(s)"), std::string::npos) << again.err;
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 101);

  // --stopOnError makes the first duplicate fatal.
  auto stop = bsonpipe({"restore", "--uri", server.uri(), "--nsInclude", "db1.c1", "--stopOnError", dir});
  EXPECT_NE(stop.exit_code, 0) << show(stop);

  auto dropped = bsonpipe({"restore", "--uri", server.uri(), "--nsInclude", "db1.c1", "--drop", dir});
  EXPECT_EQ(dropped.exit_code, 0) << show(dropped);
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 100);
}

TEST(RestoreFlags, DryRunWritesNothing) {
  test::MiniMongod server;
  auto r = bsonpipe(
      {"restore", "--uri", server.uri(), "--dryRun", "--drop", (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("would restore collection db1.c1 -> db1.c1 (100 documents"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_TRUE(collection_names(*c, "db1").empty());
  EXPECT_TRUE(collection_names(*c, "db2").empty());
}

// The dry run reads an archive as a real run does (each namespace from its share of the stream):
// every namespace's documents are counted, nothing is written.
TEST(RestoreFlags, DryRunOfAnArchiveCountsEveryNamespaceAndWritesNothing) {
  test::MiniMongod src(
      {"--generate", "shop.orders:300:100:1", "--generate", "shop.users:40:80:2", "--generate", "other.items:7:60:3"});
  fs::path tmp = test::temp_dir("restore_dry_archive");
  auto d = bsonpipe({"dump", "--uri", src.uri(), "--archive=" + (tmp / "a.archive").string()});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--dryRun", "--archive=" + (tmp / "a.archive").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("would restore collection shop.orders -> shop.orders (300 documents"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("would restore collection shop.users -> shop.users (40 documents"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("would restore collection other.items -> other.items (7 documents"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("finished restoring"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_TRUE(collection_names(*c, "shop").empty());
  EXPECT_TRUE(collection_names(*c, "other").empty());
}

TEST(RestoreFlags, RequireEmptyRefusesAndWritesNothing) {
  test::MiniMongod server({"--generate", "db1.c4:3:100"});
  auto r =
      bsonpipe({"restore", "--uri", server.uri(), "--require-empty", (test::restore_testdata() / "testdirs").string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("db1.c4 (3 documents)"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "db1", "c4"), 3);
  EXPECT_FALSE(collection_exists(*c, "db1", "c1"));
}

TEST(RestoreFlags, PreserveUuidNeedsDrop) {
  test::MiniMongod server;
  auto r =
      bsonpipe({"restore", "--uri", server.uri(), "--preserveUUID", (test::restore_testdata() / "foodump").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--preserveUUID without --drop"), std::string::npos) << r.err;
  auto c = connect(server.uri());
  EXPECT_FALSE(collection_exists(*c, "test", "foo"));
}

TEST(RestoreFlags, WorkersBatchSizeAndOrder) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--numInsertionWorkersPerCollection", "3", "--batchSize", "7",
                     "-j", "2", "--objcheck", (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 100);
  auto r2 = bsonpipe({"restore", "--uri", server.uri(), "--drop", "--maintainInsertionOrder", "--writeConcern",
                      "majority", (test::restore_testdata() / "testdirs").string()});
  ASSERT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_EQ(doc_count(*c, "db1", "c1"), 100);
}

// ---- --swap -------------------------------------------------------------------------------------

// A dump directory with `n` documents in db.coll and an index on {k: 1}.
fs::path make_dump(const std::string& name, const std::string& db, const std::string& coll, int n) {
  fs::path root = test::temp_dir(name);
  fs::create_directories(root / db);
  Bytes all;
  for (int i = 0; i < n; ++i) {
    Builder b;
    b.append_int32("_id", i).append_int32("k", i % 97).append_string("pad", std::string(200, 'x'));
    Bytes d = b.finish();
    all.insert(all.end(), d.begin(), d.end());
  }
  test::write_file(root / db / (coll + ".bson"), all);
  std::string md =
      R"({"options":{},"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},)"
      R"({"v":{"$numberInt":"2"},"key":{"k":{"$numberInt":"1"}},"name":"k_1"}],"collectionName":")" +
      coll + "\"}";
  test::write_file(root / db / (coll + ".metadata.json"),
                   {reinterpret_cast<const std::uint8_t*>(md.data()), md.size()});
  return root;
}

TEST(RestoreSwap, ConcurrentReaderSeesOldThenNewOnly) {
  test::MiniMongod server({"--generate", "live.data:500:100"});
  fs::path dump = make_dump("restore_swap_ok", "live", "data", 20000);
  std::atomic<bool> stop{false};
  std::vector<std::int64_t> seen;
  std::thread reader([&] {
    auto c = connect(server.uri());
    while (!stop.load()) seen.push_back(doc_count(*c, "live", "data"));
    seen.push_back(doc_count(*c, "live", "data"));
  });
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--swap", "--numInsertionWorkersPerCollection", "2",
                     "--batchSize", "500", dump.string()});
  stop = true;
  reader.join();
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_FALSE(seen.empty());
  bool went_new = false;
  for (auto n : seen) {
    ASSERT_TRUE(n == 500 || n == 20000) << "reader saw " << n;
    if (n == 20000) went_new = true;
    if (went_new) {
      ASSERT_EQ(n, 20000) << "went back to the old collection";
    }
  }
  EXPECT_EQ(seen.back(), 20000);
  auto c = connect(server.uri());
  auto ix = io::list_indexes(*c, "live", "data");
  ASSERT_TRUE(ix.is_ok());
  EXPECT_EQ(ix->size(), 2u);
  for (auto& n : collection_names(*c, "live")) EXPECT_EQ(n, "data");
}

TEST(RestoreSwap, FailureBeforeSwapLeavesLiveUntouched) {
  // createIndexes fails once: the temporary collection is loaded but must never be swapped in.
  test::MiniMongod server({"--generate", "live.data:500:100", "--fault-fail", "createIndexes:67:1"});
  fs::path dump = make_dump("restore_swap_fail", "live", "data", 3000);
  auto c = connect(server.uri());
  auto before = server_digest(*c, "live", "data");
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--swap", dump.string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("creating indexes on live.data"), std::string::npos) << r.err;
  EXPECT_EQ(doc_count(*c, "live", "data"), 500);
  EXPECT_EQ(server_digest(*c, "live", "data"), before);
  auto names = collection_names(*c, "live");
  ASSERT_EQ(names.size(), 1u) << "temporary collection left behind: " << names.back();
  EXPECT_EQ(names[0], "data");
}

TEST(RestoreSwap, BadIndexSpecLeavesLiveUntouched) {
  test::MiniMongod server({"--generate", "live.data:200:100"});
  fs::path dump = make_dump("restore_swap_badindex", "live", "data", 1000);
  std::string md = R"({"options":{},"indexes":[{"v":2,"key":{},"name":"empty_key"}],"collectionName":"data"})";
  test::write_file(dump / "live/data.metadata.json", {reinterpret_cast<const std::uint8_t*>(md.data()), md.size()});
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--swap", dump.string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "live", "data"), 200);
  EXPECT_EQ(collection_names(*c, "live").size(), 1u);
}

TEST(RestoreSwap, InterruptStopsCleanlyAndLeavesLiveUntouched) {
  // The premise is made, not hoped for: the server holds the restore's fourth insert
  // (--fault-gate), so the signal arrives while the restore is loading its temporary collection
  // (a timer could land before the handler is installed on a loaded machine, and a signal that a
  // background job gets before that is lost). The held insert is released after the signal.
  test::MiniMongod server({"--generate", "live.data:100:100", "--fault-gate"});
  fs::path dump = make_dump("restore_swap_interrupt", "live", "data", 20000);
  fs::path pid_file = test::temp_dir("restore_swap_interrupt_pid") / "pid";
  test::gate_arm(server.uri(), "insert", "", 3);
  std::string cmd = "'" + test::program("bsonpipe").string() + "' restore --uri '" + server.uri() +
                    "' --swap --batchSize 50 '" + dump.string() + "' & pid=$!; echo $pid > '" + pid_file.string() +
                    "'; wait $pid; echo \"rc=$?\"";
  auto run = std::async(std::launch::async, [&] { return test::run_shell(cmd); });
  ASSERT_TRUE(test::gate_wait_blocked(server.uri(), 1));
  const pid_t pid = static_cast<pid_t>(std::stol(test::read_text(pid_file)));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  test::gate_open(server.uri());
  auto r = run.get();
  EXPECT_EQ(r.out.find("rc=0"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << show(r);
  auto c = connect(server.uri());
  EXPECT_EQ(doc_count(*c, "live", "data"), 100);
  EXPECT_EQ(collection_names(*c, "live"), std::vector<std::string>{"data"});
}

// ---- bad input ----------------------------------------------------------------------------------

struct BadCase {
  std::string name;
  std::function<void(const fs::path& root)> corrupt;
  std::string expect;  // in stderr
};

fs::path copy_testdirs_c1(const std::string& name) {
  fs::path root = test::temp_dir(name);
  fs::create_directories(root / "db1");
  fs::copy_file(test::restore_testdata() / "testdirs/db1/c1.bson", root / "db1/c1.bson");
  fs::permissions(root / "db1/c1.bson", fs::perms::owner_write, fs::perm_options::add);
  return root;
}

TEST(RestoreBadInput, EachFailsClearly) {
  test::MiniMongod server;
  std::vector<BadCase> cases = {
      {"truncated",
       [](const fs::path& r) {
         Bytes b = test::read_file(r / "db1/c1.bson");
         b.resize(b.size() - 3);
         test::write_file(r / "db1/c1.bson", b);
       },
       "truncated document"},
      {"badlength",
       [](const fs::path& r) {
         Bytes b = test::read_file(r / "db1/c1.bson");
         auto first = static_cast<std::size_t>(formats::load_i32(b.data()));
         b[first] = 2;  // second document's length
         b[first + 1] = b[first + 2] = b[first + 3] = 0;
         test::write_file(r / "db1/c1.bson", b);
       },
       "bad document length 2"},
      {"corruptgzip",
       [](const fs::path& r) {
         ASSERT_EQ(test::run_shell("gzip '" + (r / "db1/c1.bson").string() + "'").exit_code, 0);
         Bytes b = test::read_file(r / "db1/c1.bson.gz");
         for (std::size_t i = 20; i < 40 && i < b.size(); ++i) b[i] ^= 0x5A;
         test::write_file(r / "db1/c1.bson.gz", b);
       },
       "gzip"},
      {"badmetadata",
       [](const fs::path& r) {
         std::string bad = "{\"indexes\": [ {not json";
         test::write_file(r / "db1/c1.metadata.json", {reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size()});
       },
       "c1.metadata.json: bad metadata"},
      {"badnamespace", [](const fs::path& r) { fs::rename(r / "db1", r / "db$1"); }, "invalid database name"},
  };
  for (auto& bc : cases) {
    SCOPED_TRACE(bc.name);
    fs::path root = copy_testdirs_c1("restore_bad_" + bc.name);
    bc.corrupt(root);
    auto r = bsonpipe({"restore", "--uri", server.uri(), "--drop", root.string()});
    EXPECT_NE(r.exit_code, 0) << show(r);
    EXPECT_NE(r.err.find(bc.expect), std::string::npos) << r.err;
    // One line naming the problem, from bsonpipe restore.
    EXPECT_NE(r.err.find("bsonpipe restore: "), std::string::npos) << r.err;
  }
  // Offsets are named for BSON faults.
  fs::path root = copy_testdirs_c1("restore_bad_offset");
  Bytes b = test::read_file(root / "db1/c1.bson");
  b.resize(b.size() - 3);
  test::write_file(root / "db1/c1.bson", b);
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--drop", root.string()});
  EXPECT_NE(r.err.find("c1.bson"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at offset"), std::string::npos) << r.err;
}

TEST(RestoreBadInput, BadArchives) {
  test::MiniMongod server;
  auto r = bsonpipe(
      {"restore", "--uri", server.uri(), "--archive=" + (test::restore_testdata() / "bad-format.archive").string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("bsonpipe restore: archive"), std::string::npos) << r.err;

  Bytes a = test::read_file(test::restore_testdata() / "test.bar.archive");
  fs::path tmp = test::temp_dir("restore_bad_archive");
  Bytes cut(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a.size() - 10));
  test::write_file(tmp / "cut.archive", cut);
  auto r2 = bsonpipe({"restore", "--uri", server.uri(), "--archive=" + (tmp / "cut.archive").string()});
  EXPECT_NE(r2.exit_code, 0) << show(r2);
  EXPECT_NE(r2.err.find("offset"), std::string::npos) << r2.err;

  // Not gzip although --gzip says so.
  auto r3 = bsonpipe({"restore", "--uri", server.uri(), "--gzip",
                      "--archive=" + (test::restore_testdata() / "test.bar.archive").string()});
  EXPECT_NE(r3.exit_code, 0) << show(r3);
  EXPECT_NE(r3.err.find("not gzip"), std::string::npos) << r3.err;
}

// ---- round trips with bsonpipe dump ---------------------------------------------------------------

TEST(RestoreRoundTrip, DirectoryGzipArchive) {
  test::MiniMongod source(
      {"--generate", "rt.small:300:200", "--generate", "rt.big:5000:700", "--generate", "other.c:1000:50"});
  fs::path tmp = test::temp_dir("restore_roundtrip");
  struct Format {
    std::string name;
    std::vector<std::string> dump;
    std::vector<std::string> restore;
  };
  std::vector<Format> formats_ = {
      {"dir", {"--out", (tmp / "dir").string()}, {(tmp / "dir").string()}},
      {"gzip", {"--gzip", "--out", (tmp / "gz").string()}, {(tmp / "gz").string()}},
      {"archive", {"--archive=" + (tmp / "a.archive").string()}, {"--archive=" + (tmp / "a.archive").string()}},
      {"archivegz",
       {"--gzip", "--archive=" + (tmp / "a.archive.gz").string()},
       {"--archive=" + (tmp / "a.archive.gz").string()}},
  };
  auto src = connect(source.uri());
  std::map<std::string, formats::MultisetDigest> want;
  for (auto ns : {std::pair{"rt", "small"}, {"rt", "big"}, {"other", "c"}})
    want[std::string(ns.first) + "." + ns.second] = server_digest(*src, ns.first, ns.second);
  for (auto& f : formats_) {
    SCOPED_TRACE(f.name);
    std::vector<std::string> d = {"dump", "--uri", source.uri()};
    d.insert(d.end(), f.dump.begin(), f.dump.end());
    auto dr = bsonpipe(d);
    ASSERT_EQ(dr.exit_code, 0) << show(dr);
    test::MiniMongod target;
    std::vector<std::string> r = {"restore", "--uri", target.uri(), "--numInsertionWorkersPerCollection", "3"};
    r.insert(r.end(), f.restore.begin(), f.restore.end());
    auto rr = bsonpipe(r);
    ASSERT_EQ(rr.exit_code, 0) << show(rr);
    auto dst = connect(target.uri());
    for (auto& [ns, digest] : want) {
      auto dot = ns.find('.');
      EXPECT_EQ(server_digest(*dst, ns.substr(0, dot), ns.substr(dot + 1)), digest) << ns;
    }
  }
}

}  // namespace
}  // namespace bsonpipe
