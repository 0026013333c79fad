// Black-box tests of `bsonpipe copy --follow` between two minimongod --replSet processes: a writer
// changes the source (inserts, `$v: 2` delta and whole-replacement updates, deletes, DDL, over
// several namespaces, one renamed by --nsFrom/--nsTo) while the copy reads it and while the follow
// runs; after cutover (--cutover-file) the target equals the source document for document and
// --verify agrees; without --follow it differs. An entry kind the follow cannot apply stops it
// (exit 1, one line); a resume point gone from the source's oplog stops --resume (exit 1, one line).
// Timing premises are made to happen: the copy is held on the source with --fault-gate while the
// writer works, and the follow phase starts once bsonpipe_follow.state exists on the target.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "formats/extjson.hpp"
#include "io/storage.hpp"
#include "pipeline/ops/follow_apply.hpp"
#include "pipeline/ops/follow_state.hpp"
#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

using formats::DocView;

// Runs one command given as Extended JSON against db; fails the test on an error.
void cmd(io::Connection& c, const std::string& db, const std::string& json) {
  auto body = formats::extjson::parse(json);
  ASSERT_TRUE(body.is_ok()) << json;
  auto r = io::run_command(c, db, DocView(*body));
  ASSERT_TRUE(r.is_ok()) << json << ": " << r.error().to_string();
}

std::vector<std::string> source_flags(const std::string& oplog_mb = "64") {
  return {"--replSet",        "rs0",
          "--oplogV2Updates", "--fault-gate",
          "--oplogSizeMB",    oplog_mb,
          "--generate",       "shop.orders:300:120:1",
          "--generate",       "shop.users:100:80:2",
          "--generate",       "other.items:60:80:3"};
}

// Writes made while the copy is held reading shop.orders: every kind, in three namespaces.
void write_during_copy(io::Connection& s) {
  std::string ins = R"({"insert":"orders","documents":[)";
  for (int i = 0; i < 40; ++i) ins += (i ? "," : "") + std::string(R"({"_id":)") + std::to_string(5000 + i) + "}";
  cmd(s, "shop", ins + "]}");
  cmd(s, "shop", R"({"update":"orders","updates":[{"q":{},"u":{"$set":{"phase":"copy"}},"multi":true}]})");
  cmd(s, "shop", R"({"update":"orders","updates":[{"q":{"_id":5001},"u":{"whole":1}}]})");
  cmd(s, "shop", R"({"delete":"orders","deletes":[{"q":{"_id":5002},"limit":1},{"q":{"_id":5003},"limit":1}]})");
  cmd(s, "shop", R"({"update":"users","updates":[{"q":{},"u":{"$set":{"seen":true}},"multi":true}]})");
  cmd(s, "shop", R"({"insert":"users","documents":[{"_id":"late-user","n":1}]})");
  cmd(s, "other", R"({"insert":"items","documents":[{"_id":"late-item"}]})");
}

// Writes made during the follow, DDL included (a collection created, indexed, renamed, dropped).
void write_during_follow(io::Connection& s) {
  cmd(s, "shop", R"({"update":"orders","updates":[{"q":{"_id":5000},"u":{"$set":{"phase":"follow","n":2}}}]})");
  cmd(s, "shop", R"({"update":"orders","updates":[{"q":{"_id":5004},"u":{"replaced":true}}]})");
  cmd(s, "shop", R"({"update":"orders","updates":[{"q":{},"u":{"$unset":{"phase":""}},"multi":true}]})");
  cmd(s, "shop", R"({"delete":"orders","deletes":[{"q":{"_id":5005},"limit":1}]})");
  cmd(s, "shop", R"({"insert":"orders","documents":[{"_id":"f1"},{"_id":"f2"}]})");
  cmd(s, "shop", R"({"delete":"users","deletes":[{"q":{"_id":"late-user"},"limit":1}]})");
  cmd(s, "shop", R"({"insert":"users","documents":[{"_id":"follow-user"}]})");
  cmd(s, "shop", R"({"create":"staging"})");
  cmd(s, "shop", R"({"insert":"staging","documents":[{"_id":1,"x":1},{"_id":2,"x":2}]})");
  cmd(s, "shop", R"({"createIndexes":"staging","indexes":[{"key":{"x":1},"name":"x_1"}]})");
  cmd(s, "admin", R"({"renameCollection":"shop.staging","to":"shop.final"})");
  cmd(s, "shop", R"({"update":"final","updates":[{"q":{"_id":1},"u":{"$set":{"x":10}}}]})");
  cmd(s, "other", R"({"create":"gone"})");
  cmd(s, "other", R"({"drop":"gone"})");
  cmd(s, "other", R"({"delete":"items","deletes":[{"q":{"_id":"late-item"},"limit":1}]})");
}

// Source namespace -> target namespace (shop.users is renamed to shop.people).
const std::vector<std::pair<std::string, std::string>> kCompared = {
    {"shop.orders", "shop.orders"}, {"shop.users", "shop.people"},    {"other.items", "other.items"},
    {"shop.final", "shop.final"},   {"shop.staging", "shop.staging"}, {"other.gone", "other.gone"}};

// Whether every compared namespace has the same documents (digest) on both sides.
bool same_content(const std::string& from, const std::string& to, std::string& diff) {
  auto s = test::connect(from);
  auto t = test::connect(to);
  if (!s || !t) return false;
  for (auto& [sn, tn] : kCompared) {
    auto sd = test::server_digest(*s, sn.substr(0, sn.find('.')), sn.substr(sn.find('.') + 1));
    auto td = test::server_digest(*t, tn.substr(0, tn.find('.')), tn.substr(tn.find('.') + 1));
    if (!(sd == td)) diff += sn + " -> " + tn + ": " + sd.hex() + " vs " + td.hex() + "\n";
  }
  return diff.empty();
}

// Waits (up to a minute) until the follow recorded its first point on the target.
bool wait_follow_state(const std::string& to) {
  auto t = test::connect(to);
  for (int i = 0; t && i < 6000; ++i) {
    if (!test::server_documents(*t, "bsonpipe_follow", "state").empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// When the follow last recorded its point on the target (ms since the epoch; -1: none).
std::int64_t recorded_ms(const std::string& to) {
  auto t = test::connect(to);
  if (!t) return -1;
  auto docs = test::server_documents(*t, "bsonpipe_follow", "state");
  if (docs.empty()) return -1;
  auto e = DocView(docs[0]).find("recorded");
  return e.valid() ? e.as_datetime() : -1;
}

void touch(const std::filesystem::path& p) {
  auto w = io::local_storage().create(p);
  ASSERT_TRUE(w.is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
}

std::vector<std::string> copy_args(const test::MiniMongod& src, const test::MiniMongod& dst) {
  return {"copy",        "--from",  src.uri(),  "--to",       dst.uri(), "--readBatchSize", "20",
          "--nsExclude", "admin.*", "--nsFrom", "shop.users", "--nsTo",  "shop.people"};
}

// The scenario: copy (held on shop.orders while the writer works), then follow (when asked),
// writes during the follow, cutover. Returns the copy's result.
test::RunResult run_scenario(test::MiniMongod& src, test::MiniMongod& dst, bool follow,
                             const std::filesystem::path& cut) {
  auto args = copy_args(src, dst);
  args.push_back("--verify");
  if (follow) args.insert(args.end(), {"--follow", "--cutover-file", cut.string()});
  // Hold the copy's second read of shop.orders: part of it is read, the rest is not yet.
  test::gate_arm(src.uri(), "getMore", "shop.orders", 0);
  auto run = std::async(std::launch::async, [args] { return test::bsonpipe(args); });
  EXPECT_TRUE(test::gate_wait_blocked(src.uri(), 1));
  auto s = test::connect(src.uri());
  write_during_copy(*s);
  test::gate_open(src.uri());
  if (follow) {
    EXPECT_TRUE(wait_follow_state(dst.uri()));
    write_during_follow(*s);
    touch(cut);
  } else {
    auto r = run.get();
    write_during_follow(*s);
    return r;
  }
  return run.get();
}

TEST(CopyFollow, TargetEqualsSourceAfterCutover) {
  test::MiniMongod src(source_flags());
  test::MiniMongod dst({"--replSet", "rs1"});
  auto cut = test::temp_dir("follow_cutover") / "cutover";
  auto r = run_scenario(src, dst, true, cut);
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  EXPECT_NE(r.out.find("cutover at "), std::string::npos) << test::show(r);
  EXPECT_NE(r.err.find("verified: every namespace matches"), std::string::npos) << test::show(r);
  // The apply rate, for the record (bench/RESULTS.md is kept elsewhere).
  auto done = r.err.find("follow: done");
  std::printf("%s\n", done == std::string::npos ? "no apply rate line"
                                                : r.err.substr(done, r.err.find('\n', done) - done).c_str());
  std::string diff;
  EXPECT_TRUE(same_content(src.uri(), dst.uri(), diff)) << diff << test::show(r);
}

TEST(CopyFollow, WithoutFollowTheTargetDiffers) {
  test::MiniMongod src(source_flags());
  test::MiniMongod dst({"--replSet", "rs1"});
  auto r = run_scenario(src, dst, false, {});
  // The writes made while the copy was held are missed: --verify says so.
  EXPECT_EQ(r.exit_code, 1) << test::show(r);
  EXPECT_NE(r.err.find("verify failed: the target differs from the source"), std::string::npos) << test::show(r);
  std::string diff;
  EXPECT_FALSE(same_content(src.uri(), dst.uri(), diff));
}

TEST(CopyFollow, RefusedEntryKindStopsInOneLine) {
  test::MiniMongod src(source_flags());
  test::MiniMongod dst({"--replSet", "rs1"});
  auto cut = test::temp_dir("follow_refused") / "cutover";
  auto args = copy_args(src, dst);
  args.insert(args.end(), {"--follow", "--cutover-file", cut.string()});
  auto run = std::async(std::launch::async, [args] { return test::bsonpipe(args); });
  ASSERT_TRUE(wait_follow_state(dst.uri()));
  auto s = test::connect(src.uri());
  cmd(*s, "other", R"({"dropDatabase":1})");
  auto r = run.get();
  EXPECT_EQ(r.exit_code, 1) << test::show(r);
  EXPECT_NE(r.err.find("follow: cannot apply oplog entry ts "), std::string::npos) << test::show(r);
  EXPECT_NE(r.err.find("ns other.$cmd, command dropDatabase)"), std::string::npos) << test::show(r);
  EXPECT_EQ(r.out.find("cutover at"), std::string::npos) << test::show(r);
}

TEST(CopyFollow, ResumePointGoneFromTheOplog) {
  test::MiniMongod src(source_flags("1"));
  test::MiniMongod dst({"--replSet", "rs1"});
  auto args = copy_args(src, dst);
  args.insert(args.end(), {"--follow", "--until", "now"});
  auto r = test::bsonpipe(args);
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  // Roll the 1 MiB oplog over: 3 MB of new entries.
  auto s = test::connect(src.uri());
  std::string pad(1000, 'p');
  for (int b = 0; b < 30; ++b) {
    std::string ins = R"({"insert":"filler","documents":[)";
    for (int i = 0; i < 100; ++i) ins += (i ? "," : "") + std::string(R"({"p":")") + pad + "\"}";
    cmd(*s, "other", ins + "]}");
  }
  args.push_back("--resume");
  r = test::bsonpipe(args);
  EXPECT_EQ(r.exit_code, 1) << test::show(r);
  EXPECT_NE(r.err.find("is no longer in the source's oplog (oldest entry "), std::string::npos) << test::show(r);
  EXPECT_NE(r.err.find("the copy must start over"), std::string::npos) << test::show(r);
}

TEST(CopyFollow, UntilATimestampCutsOverThere) {
  test::MiniMongod src(source_flags());
  test::MiniMongod dst({"--replSet", "rs1"});
  auto s = test::connect(src.uri());
  cmd(*s, "shop", R"({"insert":"orders","documents":[{"_id":"before-until"}]})");
  auto newest = pipeline::oplog_edge(*s, true);
  ASSERT_TRUE(newest.is_ok() && newest->has_value());
  std::string until = pipeline::format_ts(**newest);
  cmd(*s, "shop", R"({"insert":"orders","documents":[{"_id":"after-until"}]})");
  auto args = copy_args(src, dst);
  args.insert(args.end(), {"--follow", "--until", until});
  auto r = test::bsonpipe(args);
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  EXPECT_NE(r.out.find("cutover at " + until + "\n"), std::string::npos) << test::show(r);
  r = test::bsonpipe({"copy", "--from", src.uri(), "--to", dst.uri(), "--follow", "--until", "yesterday"});
  EXPECT_EQ(r.exit_code, 1) << test::show(r);
  EXPECT_NE(r.err.find("--until must be now or <seconds>[:ordinal]"), std::string::npos) << test::show(r);
}

// bsonpipe started in the background through sh, its pid written to `pid_file` (for SIGKILL).
std::future<test::RunResult> start_background(const std::vector<std::string>& args,
                                              const std::filesystem::path& pid_file) {
  std::string line = "'" + test::program("bsonpipe").string() + "'";
  for (auto& a : args) line += " '" + a + "'";
  line += " & echo $! > '" + pid_file.string() + "'; wait $!";
  (void)io::local_storage().remove(pid_file);
  return std::async(std::launch::async, [line] { return test::run_shell(line); });
}

pid_t wait_pid(const std::filesystem::path& pid_file) {
  for (int i = 0; i < 6000; ++i) {
    auto ex = io::local_storage().exists(pid_file);
    if (ex.is_ok() && *ex) {
      std::string t = test::read_text(pid_file);
      if (!t.empty() && t.back() == '\n') return static_cast<pid_t>(std::stol(t));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

// A burst of random writes (inserts, delta and replacement updates, deletes) on shop.orders and
// shop.users, drawn from `rng`.
void random_writes(io::Connection& s, std::mt19937& rng, int round) {
  for (int i = 0; i < 60; ++i) {
    int id = static_cast<int>(rng() % 400);
    std::string coll = rng() % 3 == 0 ? "users" : "orders";
    std::string key = std::to_string(id);
    switch (rng() % 5) {
      case 0:
        cmd(s, "shop",
            R"({"insert":")" + coll + R"(","documents":[{"_id":"r)" + std::to_string(round) + "-" + std::to_string(i) +
                R"(","v":)" + key + "}]}");
        break;
      case 1:
        cmd(s, "shop",
            R"({"update":")" + coll + R"(","updates":[{"q":{"_id":)" + key + R"(},"u":{"$set":{"k":)" +
                std::to_string(rng() % 1000) + R"(},"$unset":{"gone":""}}}]})");
        break;
      case 2:
        cmd(s, "shop",
            R"({"update":")" + coll + R"(","updates":[{"q":{"_id":)" + key + R"(},"u":{"whole":)" +
                std::to_string(round) + R"(,"gone":1}}]})");
        break;
      case 3:
        cmd(s, "shop",
            R"({"update":")" + coll + R"(","updates":[{"q":{"_id":{"$gte":)" + key + R"(}},"u":{"$set":{"m":)" +
                std::to_string(round) + R"(}},"multi":true}]})");
        break;
      default: cmd(s, "shop", R"({"delete":")" + coll + R"(","deletes":[{"q":{"_id":)" + key + R"(},"limit":1}]})");
    }
  }
}

TEST(CopyFollow, SigkillAtRandomPointsThenResume) {
  std::random_device rd;
  unsigned seed =
      std::getenv("FOLLOW_SEED") != nullptr ? static_cast<unsigned>(std::stoul(std::getenv("FOLLOW_SEED"))) : rd();
  std::printf("SigkillAtRandomPointsThenResume seed %u (FOLLOW_SEED=%u reruns it)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  test::MiniMongod src(source_flags());
  test::MiniMongod dst({"--replSet", "rs1"});
  auto dir = test::temp_dir("follow_sigkill");
  auto pid_file = dir / "pid";
  auto args = copy_args(src, dst);
  args.push_back("--follow");
  auto run = start_background(args, pid_file);
  ASSERT_TRUE(wait_follow_state(dst.uri()));
  auto s = test::connect(src.uri());
  args.push_back("--resume");
  for (int round = 0; round < 5; ++round) {
    pid_t pid = wait_pid(pid_file);
    ASSERT_GT(pid, 0);
    random_writes(*s, rng, round);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    ::kill(pid, SIGKILL);
    auto r = run.get();
    EXPECT_EQ(r.exit_code, 137) << test::show(r);  // sh reports the SIGKILLed child
    run = start_background(args, pid_file);
  }
  pid_t pid = wait_pid(pid_file);
  ASSERT_GT(pid, 0);
  std::int64_t before = recorded_ms(dst.uri());
  random_writes(*s, rng, 99);
  // The last one cuts over on SIGTERM, once it is seen following (it recorded a new point).
  for (int i = 0; i < 6000 && recorded_ms(dst.uri()) == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_NE(recorded_ms(dst.uri()), before);
  touch(dir / "cut");
  ::kill(pid, SIGTERM);
  auto r = run.get();
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  // One more resume with the cutover file already there: nothing left to apply, same content.
  auto last = args;
  last.insert(last.end(), {"--cutover-file", (dir / "cut").string(), "--verify"});
  r = test::bsonpipe(last);
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  EXPECT_NE(r.err.find("verified: every namespace matches"), std::string::npos) << test::show(r);
  std::string diff;
  EXPECT_TRUE(same_content(src.uri(), dst.uri(), diff)) << diff;
}

}  // namespace
}  // namespace bsonpipe
