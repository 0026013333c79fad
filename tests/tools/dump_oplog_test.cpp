// dump --oplog against minimongod in replica-set mode: writes made while the dump runs are each
// found in the dumped collection or in oplog.bson; a standalone server and an oplog that rolls
// over during the dump are clear errors.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

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

using test::connect;
using test::split_documents;

// Writes documents {_id: first + i} into w.c from another connection: `limit` of them, or until
// told to stop (limit 0).
struct Writer {
  Writer(const std::string& uri, std::size_t pad, int limit = 0, int first = 0) {
    thread = std::thread([this, uri, pad, limit, first] {
      auto conn = connect(uri);
      for (int i = first; !stop && (limit == 0 || i < first + limit); ++i) {
        Bytes d = Builder().append_int32("_id", i).append_string("pad", std::string(pad, 'x')).finish();
        auto r = io::insert(*conn, "w", "c", d);
        if (!r || !r->ok()) break;
        written = i + 1 - first;
      }
      done_at = std::chrono::steady_clock::now();
      done = true;
    });
  }
  ~Writer() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  // Waits until `limit` documents are written (or a write failed).
  void join() {
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> stop{false}, done{false};
  std::atomic<int> written{0};
  std::chrono::steady_clock::time_point done_at;
  std::thread thread;
};

TEST(DumpOplog, WritesDuringTheDumpAreInTheDataOrTheOplog) {
  // The premise is made, not hoped for: writes 0..49 (2 KB each) are made before the dump, so w.c
  // is the largest collection and, read by one reader (-j 1 --readers 1), the first one read. The
  // server then holds the dump's first getMore on s.small (--fault-gate) while writes 50..99 are
  // made: they come after w.c was read and before the dump ends, so only the oplog can hold them.
  test::MiniMongod server({"--replSet", "rs0", "--generate", "s.small:100:50:3", "--fault-gate"});
  auto dir = test::temp_dir("dump-oplog");
  constexpr int kBefore = 50, kWrites = 100;
  {
    Writer before(server.uri(), 2000, kBefore);
    before.join();
    ASSERT_EQ(before.written, kBefore);
  }
  test::gate_arm(server.uri(), "getMore", "s.small", 0);
  auto run = std::async(std::launch::async, [&] {
    return test::run({test::program("bsonpipe").string(), "dump", "--uri", server.uri(), "--out", (dir / "d").string(),
                      "--oplog", "--batchSize", "20", "-j", "1", "--readers", "1", "--progress", "none"});
  });
  ASSERT_TRUE(test::gate_wait_blocked(server.uri(), 1));
  Writer during(server.uri(), 10, kWrites - kBefore, kBefore);
  during.join();
  ASSERT_EQ(during.written, kWrites - kBefore);
  test::gate_open(server.uri());
  auto r = run.get();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dir / "d" / "oplog.bson"));
  std::set<int> in_data, in_oplog;
  for (auto& d : split_documents(test::read_file(dir / "d" / "w" / "c.bson")))
    in_data.insert(DocView(d).find("_id").as_int32());
  for (auto& e : split_documents(test::read_file(dir / "d" / "oplog.bson"))) {
    DocView entry(e);
    ASSERT_TRUE(entry.find("ts").valid());
    if (entry.find("op").as_string() == "i" && entry.find("ns").as_string() == "w.c")
      in_oplog.insert(entry.find("o").as_document().find("_id").as_int32());
  }
  std::printf("[dump-oplog] %d writes; %zu in the data, %zu in the oplog\n", kWrites, in_data.size(), in_oplog.size());
  // The data holds exactly the writes made before the dump; the oplog starts at the last entry
  // before the dump (inclusive, as mongodump's) and holds every write made during it.
  EXPECT_EQ(in_data.size(), static_cast<std::size_t>(kBefore));
  for (int i = 0; i < kBefore; ++i) EXPECT_TRUE(in_data.count(i)) << "write " << i << " is not in the data";
  for (int i = kBefore; i < kWrites; ++i) EXPECT_TRUE(in_oplog.count(i)) << "write " << i << " is not in the oplog";
  EXPECT_LE(in_oplog.size(), static_cast<std::size_t>(kWrites - kBefore + 1));
}

TEST(DumpOplog, StandaloneAndRolloverAreErrors) {
  auto dir = test::temp_dir("dump-oplog-errors");
  test::MiniMongod standalone({"--generate", "s.c:10:100"});
  auto r = test::run({test::program("bsonpipe").string(), "dump", "--uri", standalone.uri(), "--out",
                      (dir / "a").string(), "--oplog"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("replica-set"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "a"));

  // A 1 MB oplog and a writer of 100 KB documents roll it over while a slow dump runs.
  test::MiniMongod small(
      {"--replSet", "rs0", "--oplogSizeMB", "1", "--generate", "s.big:2000:500:3", "--fault-delay-ms", "20"});
  Writer w(small.uri(), 100000);  // until stopped: ~100 KB a write, ten of them fill the oplog
  while (w.written < 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  r = test::run({test::program("bsonpipe").string(), "dump", "--uri", small.uri(), "--out", (dir / "b").string(),
                 "--oplog", "--batchSize", "20", "--progress", "none"});
  w.finish();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("rolled over"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "b" / "manifest.json"));
}

}  // namespace
}  // namespace bsonpipe
