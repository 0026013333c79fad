// dump --oplog against minimongod in replica-set mode: writes made while the dump runs are each
// found in the dumped collection or in oplog.bson; a standalone server and an oplog that rolls
// over during the dump are clear errors.
#include <gtest/gtest.h>

#include <atomic>
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

// Writes documents {_id: i} into w.c from another connection: `limit` of them, or until told to
// stop (limit 0).
struct Writer {
  Writer(const std::string& uri, std::size_t pad, int limit = 0) {
    thread = std::thread([this, uri, pad, limit] {
      auto conn = connect(uri);
      for (int i = 0; !stop && (limit == 0 || i < limit); ++i) {
        Bytes d = Builder().append_int32("_id", i).append_string("pad", std::string(pad, 'x')).finish();
        auto r = io::insert(*conn, "w", "c", d);
        if (!r || !r->ok()) break;
        written = i + 1;
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
  std::atomic<bool> stop{false}, done{false};
  std::atomic<int> written{0};
  std::chrono::steady_clock::time_point done_at;
  std::thread thread;
};

TEST(DumpOplog, WritesDuringTheDumpAreInTheDataOrTheOplog) {
  // Every reply is delayed, so the dump (300+ round trips) outlasts the writer (100 inserts).
  test::MiniMongod server({"--replSet", "rs0", "--generate", "s.big:6000:300:3", "--fault-delay-ms", "12"});
  auto dir = test::temp_dir("dump-oplog");
  constexpr int kWrites = 100;
  Writer w(server.uri(), 10, kWrites);
  while (w.written < 10) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto r = test::run({test::program("bsonpipe").string(), "dump", "--uri", server.uri(), "--out", (dir / "d").string(),
                      "--oplog", "--batchSize", "20", "--progress", "none"});
  auto dump_end = std::chrono::steady_clock::now();
  w.finish();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(w.written, kWrites);
  ASSERT_TRUE(w.done_at < dump_end) << "inconclusive: the writer outlasted the dump";
  ASSERT_TRUE(fs::exists(dir / "d" / "oplog.bson"));
  std::set<int> seen;
  for (auto& d : split_documents(test::read_file(dir / "d" / "w" / "c.bson")))
    seen.insert(DocView(d).find("_id").as_int32());
  std::size_t in_data = seen.size(), inserts = 0;
  for (auto& e : split_documents(test::read_file(dir / "d" / "oplog.bson"))) {
    DocView entry(e);
    ASSERT_TRUE(entry.find("ts").valid());
    if (entry.find("op").as_string() == "i" && entry.find("ns").as_string() == "w.c") {
      seen.insert(entry.find("o").as_document().find("_id").as_int32());
      ++inserts;
    }
  }
  std::printf("[dump-oplog] %d writes; %zu in the data, %zu insert entries in the oplog\n", w.written.load(), in_data,
              inserts);
  EXPECT_GT(inserts, 0u) << "some writes happened during the dump";
  EXPECT_LT(in_data, static_cast<std::size_t>(kWrites)) << "some writes came after the collection was read";
  for (int i = 0; i < kWrites; ++i) EXPECT_TRUE(seen.count(i)) << "write " << i << " is lost";
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
