// bsonpipe restore --oplogReplay (+ --oplogLimit): a dump --oplog taken while a writer inserts,
// updates and deletes restores to exactly the source's final state; the mongo-tools oplog
// fixtures (directory and archive) end with the documents their oplogs imply; --oplogLimit cuts
// at the right entry; a truncated oplog.bson is a clear error naming the file and the offset.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "formats/bson.hpp"
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
using test::show;

// The values of an int32 field of every document, sorted.
std::vector<int> field_values(io::Connection& c, const std::string& db, const std::string& coll,
                              const std::string& field) {
  std::vector<int> out;
  for (auto& d : test::server_documents(c, db, coll)) out.push_back(DocView(d).find(field).as_int32());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

bool collection_exists(io::Connection& c, const std::string& db, const std::string& coll) {
  auto l = io::list_collections(c, db);
  if (!l) return false;
  for (auto& ci : *l)
    if (ci.name == coll) return true;
  return false;
}

Status run_write(io::Connection& c, std::string_view kind, DocView body) {
  auto r = io::run_command(c, "w", body);
  if (!r) return Status{ErrorCode::kServer, std::string(kind) + ": " + r.error().to_string()};
  return {};
}

// Inserts, updates and deletes on w.c (and w.d) from another connection, `ops` of them, seeded.
struct MixedWriter {
  MixedWriter(const std::string& uri, int ops, std::uint64_t seed) {
    thread = std::thread([this, uri, ops, seed] {
      auto conn = connect(uri);
      std::mt19937_64 rng(seed);
      int next_id = 0;
      for (int i = 0; i < ops; ++i) {
        int choice = static_cast<int>(rng() % 10);
        Status s;
        std::string coll = rng() % 4 == 0 ? "d" : "c";
        if (choice < 5 || next_id < 5) {
          Builder b;
          b.append_string("insert", coll).open_array("documents").open_document("0");
          b.append_int32("_id", next_id++).append_int32("v", 0).append_string("pad", std::string(rng() % 200, 'p'));
          b.close().close();
          Bytes body = b.finish();
          s = run_write(*conn, "insert", DocView(body));
        } else if (choice < 8) {
          Builder b;
          b.append_string("update", coll).open_array("updates").open_document("0");
          b.open_document("q").append_int32("_id", static_cast<int>(rng() % next_id)).close();
          if (choice == 7) {
            b.open_document("u").append_int32("v", -1).append_string("replaced", "yes").close();
          } else {
            b.open_document("u").open_document("$inc").append_int32("v", 1).close().close();
          }
          b.close().close();
          Bytes body = b.finish();
          s = run_write(*conn, "update", DocView(body));
        } else {
          Builder b;
          b.append_string("delete", coll).open_array("deletes").open_document("0");
          b.open_document("q").append_int32("_id", static_cast<int>(rng() % next_id)).close();
          b.append_int32("limit", 1).close().close();
          Bytes body = b.finish();
          s = run_write(*conn, "delete", DocView(body));
        }
        if (!s) {
          error = s.to_string();
          break;
        }
        written = i + 1;
      }
      done_at = std::chrono::steady_clock::now();
    });
  }
  ~MixedWriter() {
    if (thread.joinable()) thread.join();
  }
  std::atomic<int> written{0};
  std::string error;
  std::chrono::steady_clock::time_point done_at;
  std::thread thread;
};

// Creates w.c and w.d, the collections MixedWriter writes to.
void create_writer_collections(const std::string& uri) {
  auto conn = connect(uri);
  ASSERT_TRUE(conn);
  for (const char* name : {"c", "d"}) {
    Bytes create = Builder().append_string("create", name).finish();
    ASSERT_TRUE(io::run_command(*conn, "w", DocView(create)).is_ok()) << name;
  }
}

// Every namespace the writer and the generator fill holds the same documents on both servers.
void expect_same_documents(const std::string& source_uri, const std::string& target_uri) {
  auto src = connect(source_uri);
  auto dst = connect(target_uri);
  for (auto [db, coll] : {std::pair{"w", "c"}, std::pair{"w", "d"}, std::pair{"s", "big"}}) {
    auto want = test::server_digest(*src, db, coll);
    auto got = test::server_digest(*dst, db, coll);
    EXPECT_EQ(got.count(), want.count()) << db << "." << coll;
    EXPECT_TRUE(got == want) << db << "." << coll << ": the target's documents differ from the source's";
  }
}

// Whether w.c and w.d (the writer's collections) hold the same documents on both servers.
bool writer_collections_equal(const std::string& source_uri, const std::string& target_uri) {
  auto src = connect(source_uri);
  auto dst = connect(target_uri);
  return test::server_digest(*src, "w", "c") == test::server_digest(*dst, "w", "c") &&
         test::server_digest(*src, "w", "d") == test::server_digest(*dst, "w", "d");
}

// Ten documents in w.c with ids the writer never uses, so that w.c's first batch of 5 is full
// and a getMore follows it.
void seed_writer_collection(const std::string& uri) {
  auto conn = connect(uri);
  ASSERT_TRUE(conn);
  Builder b;
  b.append_string("insert", "c").open_array("documents");
  for (int i = 0; i < 10; ++i)
    b.open_document(std::to_string(i)).append_int32("_id", 1000000 + i).append_int32("v", 0).close();
  b.close();
  Bytes body = b.finish();
  ASSERT_TRUE(io::run_command(*conn, "w", DocView(body)).is_ok());
}

// Changes every document of w.c: whichever of them the client had read already is now stale.
void touch_every_writer_document(const std::string& uri) {
  auto conn = connect(uri);
  ASSERT_TRUE(conn);
  Builder b;
  b.append_string("update", "c").open_array("updates").open_document("0");
  b.open_document("q").close();
  b.open_document("u").open_document("$inc").append_int32("v", 1000).close().close();
  b.append_bool("multi", true).close().close();
  Bytes body = b.finish();
  auto r = io::run_command(*conn, "w", DocView(body));
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
}

// Runs `args` (a dump or a copy reading w.c 5 documents a batch) while the writer writes, with a
// sync point instead of timing: minimongod (--fault-gate) holds the client's first getMore on
// w.c, so the client has read w.c's first batch and is still reading when the writer finishes and
// every document of w.c changes once more. Only then is the client let go.
test::RunResult run_during_writes(const std::string& uri, const std::vector<std::string>& args, std::uint64_t seed,
                                  std::chrono::steady_clock::time_point* writer_done,
                                  std::chrono::steady_clock::time_point* client_done) {
  constexpr int kOps = 150;
  create_writer_collections(uri);
  seed_writer_collection(uri);
  test::gate_arm(uri, "getMore", "w.c", 0);
  MixedWriter w(uri, kOps, seed);
  while (w.written < 20 && w.error.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  test::RunResult r;
  std::thread client([&] {
    r = bsonpipe(args);
    *client_done = std::chrono::steady_clock::now();
  });
  const bool held = test::gate_wait_blocked(uri, 1);
  w.thread.join();
  touch_every_writer_document(uri);
  test::gate_open(uri);
  client.join();
  EXPECT_TRUE(held) << "the client never asked for w.c's second batch\n" << show(r);
  EXPECT_TRUE(w.error.empty()) << w.error;
  EXPECT_EQ(w.written, kOps);
  *writer_done = w.done_at;
  return r;
}

TEST(RestoreOplog, DumpDuringWritesRestoresTheFinalState) {
  test::MiniMongod source({"--replSet", "rs0", "--generate", "s.big:4000:200:3", "--fault-gate"});
  auto dir = test::temp_dir("restore-oplog-live");
  std::chrono::steady_clock::time_point writer_done, dump_end;
  auto r = run_during_writes(source.uri(),
                             {"dump", "--uri", source.uri(), "--out", (dir / "d").string(), "--oplog", "--batchSize",
                              "5", "--progress", "none"},
                             77, &writer_done, &dump_end);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_TRUE(writer_done < dump_end);

  test::MiniMongod target;
  r = bsonpipe({"restore", "--uri", target.uri(), (dir / "d").string(), "--oplogReplay", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::printf("[restore-oplog] %s", r.err.c_str());
  EXPECT_NE(r.err.find("oplog replay:"), std::string::npos) << r.err;
  expect_same_documents(source.uri(), target.uri());
  // Without the replay the restore is not the final state (the test can fail): the first batch of
  // w.c was dumped before every document of w.c changed.
  test::MiniMongod plain;
  r = bsonpipe({"restore", "--uri", plain.uri(), (dir / "d").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_FALSE(writer_collections_equal(source.uri(), plain.uri())) << "the dumped data alone has every write";
}

// copy --oplog: the same, streamed. The source is read while a writer inserts, updates and deletes;
// the captured oplog is replayed on the target, so --verify (run after the writer stopped) finds
// the target equal to the source's final state.
TEST(RestoreOplog, CopyDuringWritesEndsAtTheFinalState) {
  test::MiniMongod source({"--replSet", "rs0", "--generate", "s.big:4000:200:3", "--fault-gate"});
  test::MiniMongod target;
  std::chrono::steady_clock::time_point writer_done, copy_end;
  auto r = run_during_writes(source.uri(),
                             {"copy", "--from", source.uri(), "--to", target.uri(), "--oplog", "--readBatchSize", "5",
                              "--readers", "1", "-v", "--progress", "none"},
                             78, &writer_done, &copy_end);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_TRUE(writer_done < copy_end);
  EXPECT_NE(r.err.find("oplog replay:"), std::string::npos) << r.err;
  expect_same_documents(source.uri(), target.uri());
  // The same run without --oplog does not end at the final state (the test can fail).
  test::MiniMongod source2({"--replSet", "rs0", "--generate", "s.big:4000:200:3", "--fault-gate"});
  test::MiniMongod plain;
  r = run_during_writes(source2.uri(),
                        {"copy", "--from", source2.uri(), "--to", plain.uri(), "--readBatchSize", "5", "--readers", "1",
                         "--progress", "none"},
                        78, &writer_done, &copy_end);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_FALSE(writer_collections_equal(source2.uri(), plain.uri())) << "the copied data alone has every write";
}

// oplogdump/: db1.c1.bson holds x = 1451..1455 (5 documents); oplog.bson holds, in order,
//   ts 1511064038:28  insert x=1456
//   ts 1511064038:29  applyOps [insert x=1457, x=1458, x=1459] (a command entry on admin.$cmd)
//   ts 1511064038:32  insert x=1460
// (read with a throwaway BSON decoder and by hand). So the full replay ends with x = 1451..1460;
// a limit of 1511064038:29 stops before the applyOps (x = 1451..1456); 1511064038:32 stops before
// the last insert (x = 1451..1459). admin.system.version is never restored.
TEST(RestoreOplog, FixtureDirectory) {
  fs::path dump = test::restore_testdata() / "oplogdump";
  struct Case {
    std::string limit;
    int last;
    std::uint64_t after_limit;
  };
  for (const Case& c : {Case{"", 1460, 0}, Case{"1511064038:29", 1456, 2}, Case{"1511064038:32", 1459, 1},
                        Case{"1511064038", 1455, 3}, Case{"1511064039", 1460, 0}}) {
    test::MiniMongod server;
    std::vector<std::string> args = {"restore",       "--uri",      server.uri(), dump.string(),
                                     "--oplogReplay", "--progress", "none"};
    if (!c.limit.empty()) {
      args.push_back("--oplogLimit");
      args.push_back(c.limit);
    }
    auto r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << "limit '" << c.limit << "': " << show(r);
    auto conn = connect(server.uri());
    EXPECT_EQ(field_values(*conn, "db1", "c1", "x"), range(1451, c.last)) << "limit '" << c.limit << "'";
    EXPECT_NE(r.err.find(std::to_string(c.after_limit) + " at or after --oplogLimit"), std::string::npos)
        << "limit '" << c.limit << "': " << r.err;
    EXPECT_FALSE(collection_exists(*conn, "admin", "system.version"));
  }
  // With a rename or an exclude, mongorestore refuses --oplogReplay (mongorestore.go), and so
  // do we: nothing is restored.
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string(), "--oplogReplay", "--nsFrom", "db1.c1", "--nsTo",
                     "other.renamed", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("cannot use --oplogReplay with namespace renames specified"), std::string::npos) << show(r);
  r = bsonpipe(
      {"restore", "--uri", server.uri(), dump.string(), "--oplogReplay", "--nsExclude", "db1.*", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("cannot use --oplogReplay with excludes specified"), std::string::npos) << show(r);
  auto conn = connect(server.uri());
  EXPECT_FALSE(collection_exists(*conn, "db1", "c1"));
  EXPECT_FALSE(collection_exists(*conn, "other", "renamed"));
}

// dump-w-oplog.archive: test.foo holds a = 1..25 (25 documents); its oplog re-inserts a = 10..25
// (the same _ids: the dump raced with the inserts) and inserts two config.system.sessions
// documents. Replayed, test.foo still holds exactly a = 1..25 (oplog inserts of an existing _id
// replace it) and config.system.sessions is not restored (an internal collection).
TEST(RestoreOplog, FixtureArchive) {
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(),
                     "--archive=" + (test::restore_testdata() / "dump-w-oplog.archive").string(), "--oplogReplay",
                     "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto conn = connect(server.uri());
  EXPECT_EQ(field_values(*conn, "test", "foo", "a"), range(1, 25));
  EXPECT_FALSE(collection_exists(*conn, "config", "system.sessions"));
  EXPECT_NE(r.err.find("oplog replay: 16 entr(ies) applied, 2 skipped"), std::string::npos) << r.err;
  // Without --oplogReplay the oplog is left alone.
  test::MiniMongod plain;
  r = bsonpipe({"restore", "--uri", plain.uri(),
                "--archive=" + (test::restore_testdata() / "dump-w-oplog.archive").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("not replaying the oplog"), std::string::npos) << r.err;
}

// A restore whose oplog replay fails (the server refuses the first applyOps) resumes: the
// collections the journal says are done are not touched again, and the oplog is applied once.
TEST(RestoreOplog, ReplayFailureResumes) {
  fs::path dump = test::temp_dir("restore-oplog-resume") / "dump";
  fs::create_directories(dump);
  fs::copy(test::restore_testdata() / "oplogdump", dump, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(dump))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dump, fs::perms::owner_write, fs::perm_options::add);
  test::MiniMongod server({"--fault-fail", "applyOps:8:1"});
  std::vector<std::string> cmd = {"restore", "--uri",    server.uri(), dump.string(), "--oplogReplay",
                                  "--drop",  "--resume", "--progress", "none"};
  auto r = bsonpipe(cmd);
  ASSERT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("applyOps"), std::string::npos) << r.err;
  auto conn = connect(server.uri());
  EXPECT_EQ(field_values(*conn, "db1", "c1", "x"), range(1451, 1455)) << "data restored, oplog not applied";
  r = bsonpipe(cmd);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("resuming from"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("finished restoring db1.c1"), std::string::npos) << "db1.c1 was done: " << r.err;
  EXPECT_EQ(field_values(*conn, "db1", "c1", "x"), range(1451, 1460));
  r = bsonpipe(cmd);
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("already complete"), std::string::npos) << r.err;
}

TEST(RestoreOplog, BadOplogAndBadFlags) {
  fs::path dump = test::temp_dir("restore-oplog-bad") / "dump";
  fs::create_directories(dump);
  fs::copy(test::restore_testdata() / "oplogdump", dump, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(dump))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dump, fs::perms::owner_write, fs::perm_options::add);
  Bytes oplog = test::read_file(dump / "oplog.bson");
  ASSERT_EQ(oplog.size(), 681u);
  test::write_file(dump / "oplog.bson", formats::ByteSpan(oplog.data(), oplog.size() - 10));
  std::size_t last = oplog.size();
  {
    // Offset of the last entry: walk the lengths.
    std::size_t pos = 0;
    while (pos < oplog.size()) {
      last = pos;
      pos += formats::load_u32(oplog.data() + pos);
    }
  }
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string(), "--oplogReplay", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("oplog.bson"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at offset " + std::to_string(last)), std::string::npos) << r.err;
  auto conn = connect(server.uri());
  EXPECT_FALSE(collection_exists(*conn, "db1", "c1")) << "a bad oplog is found before anything is written";

  r = bsonpipe({"restore", "--uri", server.uri(), dump.string(), "--oplogLimit", "5", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--oplogReplay"), std::string::npos) << r.err;
  r = bsonpipe(
      {"restore", "--uri", server.uri(), dump.string(), "--oplogReplay", "--oplogLimit", "x:1", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--oplogLimit must be"), std::string::npos) << r.err;
  // --db is an include: mongorestore refuses it with --oplogReplay before it looks for the oplog.
  r = bsonpipe({"restore", "--uri", server.uri(), (test::restore_testdata() / "oplogdump" / "db1").string(), "--db",
                "db1", "--oplogReplay", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot use --oplogReplay with includes specified"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bsonpipe
