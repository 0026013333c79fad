// SIGKILL of a dump at random points (nothing may look complete afterwards, and the next dump to
// the same place succeeds), a read error on restore input, and a randomized soak: many dump and
// restore cycles through faulted servers, every namespace checked by count and content hash.
// The seed is printed; set BSONPIPE_SOAK_SEED to replay a run, BSONPIPE_SOAK_SECONDS to run longer.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "tests/support/cli_support.hpp"

namespace bsonpipe::test {
namespace {

namespace fs = std::filesystem;

std::uint64_t seed_from_env() {
  if (const char* s = std::getenv("BSONPIPE_SOAK_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

const std::vector<std::pair<std::string, std::string>> kNamespaces = {
    {"shop", "orders"}, {"shop", "items"}, {"logs", "events"}};

std::vector<std::string> generate_flags() {
  return {"--generate", "shop.orders:4000:600:21", "--generate", "shop.items:1500:300:22",
          "--generate", "logs.events:6000:900:23"};
}

std::map<std::string, formats::MultisetDigest> digests(const std::string& uri) {
  std::map<std::string, formats::MultisetDigest> out;
  auto conn = connect(uri);
  if (!conn) return out;
  for (auto& [db, coll] : kNamespaces) out[db + "." + coll] = server_digest(*conn, db, coll);
  return out;
}

// Starts bsonpipe in the background (a shell that execs it, so the pid is bsonpipe's).
Child start_bsonpipe(const std::vector<std::string>& args, const fs::path& err_file) {
  std::string cmd = "echo started; exec '" + program("bsonpipe").string() + "'";
  for (auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>'" + err_file.string() + "'";
  std::string line;
  return Child::start({"/bin/sh", "-c", cmd}, "started", &line);
}

// A dump "looks complete" if its final path exists with a manifest marked complete (directory)
// or its archive file exists under the final name.
bool looks_complete(const fs::path& out, bool archive) {
  if (archive) return fs::exists(out);
  if (!fs::exists(out / "manifest.json")) return false;
  auto m = formats::manifest_from_json(read_text(out / "manifest.json"));
  return m.is_ok() && m->complete;
}

TEST(DumpKill, SigkillAtRandomPointsLeavesNothingComplete) {
  const std::uint64_t seed = seed_from_env();
  std::printf("[dump-kill] seed %llu (BSONPIPE_SOAK_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto flags = generate_flags();
  flags.push_back("--fault-gate");
  MiniMongod server(flags);
  auto want = digests(server.uri());
  auto tmp = temp_dir("dump-kill");
  constexpr int kRuns = 12;
  int killed = 0;
  for (int run = 0; run < kRuns; ++run) {
    const int mode = static_cast<int>(rng() % 3);  // 0 dir, 1 dir+gzip, 2 archive
    const bool archive = mode == 2;
    fs::path out = tmp / ("run" + std::to_string(run) + (archive ? ".archive" : ""));
    std::vector<std::string> args = {"dump", "--uri", server.uri(), "--progress", "none", "--batchSize", "200"};
    if (archive)
      args.push_back("--archive=" + out.string());
    else
      args.insert(args.end(), {"--out", out.string()});
    if (mode == 1) args.push_back("--gzip");
    fs::path err = tmp / ("run" + std::to_string(run) + ".err");
    // Every run stops at a sync point, so the signal surely lands mid-dump (a timer could land
    // after the output was committed but before the process exited: killed, yet complete). Even
    // runs: the server holds every getMore after the first K (random; the dump needs about 58
    // batches of 200). Odd runs: it holds the find that starts the K-th collection's read (K < 3,
    // the three collections), so some runs stop before any data is written.
    const bool on_find = run % 2 == 1;
    const std::int64_t gate_after = static_cast<std::int64_t>(on_find ? rng() % kNamespaces.size() : rng() % 40);
    const std::string gate_cmd = on_find ? "find" : "getMore";
    gate_arm(server.uri(), gate_cmd, "", gate_after);
    Child child = start_bsonpipe(args, err);
    ASSERT_TRUE(gate_wait_blocked(server.uri(), 1))
        << "run " << run << ": the dump never reached " << gate_cmd << " " << gate_after + 1 << "\n"
        << read_text(err);
    // SIGKILL half the time; SIGINT or SIGTERM otherwise (those are caught: the dump stops,
    // cleans up and exits 1, or had already finished with 0).
    const int sig = rng() % 2 == 0 ? SIGKILL : (rng() % 2 == 0 ? SIGINT : SIGTERM);
    child.signal(sig);
    gate_open(server.uri());  // a caught signal is acted on once the held reads return
    int rc = child.wait();
    // (A signal that lands before bsonpipe installed its handlers kills it outright: rc == -sig.)
    const bool stopped = rc == -sig || (sig != SIGKILL && rc == 1);
    std::printf("[dump-kill] run %d mode %d %s at %s %lld: %s\n", run, mode, strsignal(sig), gate_cmd.c_str(),
                static_cast<long long>(gate_after + 1), stopped ? "stopped" : "had finished");
    EXPECT_TRUE(stopped) << "run " << run << ": a dump held mid-read was not stopped (exit " << rc << ")";
    if (stopped) {
      ++killed;
      EXPECT_FALSE(looks_complete(out, archive)) << "run " << run << ": a stopped dump looks complete at " << out;
      if (rc == 1) {
        // A caught signal also removes the staging files: nothing is left at all.
        EXPECT_FALSE(fs::exists(out)) << "run " << run;
        EXPECT_FALSE(fs::exists(out.string() + ".partial")) << "run " << run;
        EXPECT_NE(read_text(err).find("interrupted"), std::string::npos) << read_text(err);
      }
    } else {
      ASSERT_EQ(rc, 0) << read_text(err);
      EXPECT_TRUE(looks_complete(out, archive));
    }
    // Whatever the kill left behind, the same command then completes, with the source's documents.
    auto again = bsonpipe(args);
    ASSERT_EQ(again.exit_code, 0) << "run " << run << ": " << show(again);
    ASSERT_TRUE(looks_complete(out, archive));
    MiniMongod check;
    std::vector<std::string> restore = {"restore", "--uri", check.uri(), "--progress", "none"};
    if (archive)
      restore.push_back("--archive=" + out.string());
    else
      restore.push_back(out.string());
    auto r = bsonpipe(restore);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(digests(check.uri()) == want) << "run " << run << ": the dump after a kill differs from the source";
  }
  std::printf("[dump-kill] seed %llu: %d runs, %d stopped mid-run\n", static_cast<unsigned long long>(seed), kRuns,
              killed);
  EXPECT_GE(killed, kRuns / 2);  // every run, gated
}

TEST(RestoreInput, ReadErrorNamesTheFile) {
  // A .bson file whose read fails: a link to /proc/self/mem opens fine, and reading at offset 0
  // (never mapped) fails with EIO, as a failing disk would.
  auto dir = temp_dir("restore-read-error");
  fs::create_directories(dir / "app");
  fs::create_symlink("/proc/self/mem", dir / "app" / "broken.bson");
  MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), dir.string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("broken.bson"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << show(r);
  EXPECT_EQ(r.err.find("restored successfully"), std::string::npos) << show(r);
}

TEST(Soak, FaultedDumpRestoreCyclesKeepEveryDocument) {
  const std::uint64_t seed = seed_from_env();
  double budget_s = 60;
  if (const char* s = std::getenv("BSONPIPE_SOAK_SECONDS")) budget_s = std::atof(s);
  std::printf("[soak] seed %llu, %.0f s (BSONPIPE_SOAK_SEED / BSONPIPE_SOAK_SECONDS)\n",
              static_cast<unsigned long long>(seed), budget_s);
  std::mt19937_64 rng(seed);
  auto tmp = temp_dir("soak");
  std::map<std::string, formats::MultisetDigest> want;
  {
    MiniMongod clean(generate_flags());
    want = digests(clean.uri());
  }
  auto fault = [&](bool writes) -> std::vector<std::string> {
    switch (rng() % 4) {
      // Catalog work (dump's plan: one connection, started over after a failure; restore's create,
      // drop, createIndexes: not retried) needs ~15-20 replies on one connection here, so
      // connections live at least that long; range reads and insert workers are cut mid-way.
      case 0: return {"--fault-close-after", std::to_string(writes ? 24 + rng() % 16 : 20 + rng() % 20)};
      case 1:
        return {"--fault-fail", std::string(writes ? "insert" : "getMore") + ":91:" + std::to_string(1 + rng() % 3)};
      case 2:
        return {"--fault-fail", std::string(writes ? "insert" : "find") + ":11602:" + std::to_string(1 + rng() % 2)};
      default: return {"--fault-delay-ms", std::to_string(rng() % 3)};
    }
  };
  // At least kMinCycles whatever the machine's load (the budget only adds cycles: under load, two
  // cycles once took the whole 60 s), then more while the budget lasts.
  constexpr int kMinCycles = 3;
  auto started = std::chrono::steady_clock::now();
  int cycles = 0;
  while (cycles < kMinCycles ||
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() < budget_s) {
    auto src_flags = generate_flags();
    auto sf = fault(false);
    src_flags.insert(src_flags.end(), sf.begin(), sf.end());
    auto tf = fault(true);
    const int mode = static_cast<int>(rng() % 4);  // dir, gzip, zstd, archive+gzip
    const std::string readers = std::to_string(1 + rng() % 3);
    const std::string workers = std::to_string(1 + rng() % 3);
    std::string what = "cycle " + std::to_string(cycles) + " mode " + std::to_string(mode) + " source";
    for (auto& f : sf) what += " " + f;
    what += " target";
    for (auto& f : tf) what += " " + f;
    std::printf("[soak] %s, readers %s, workers %s\n", what.c_str(), readers.c_str(), workers.c_str());
    MiniMongod source(src_flags);
    MiniMongod target(tf);
    fs::path out = tmp / ("c" + std::to_string(cycles));
    std::vector<std::string> dump = {"dump", "--uri",     source.uri(), "--progress",        "none",   "--batchSize",
                                     "150",  "--readers", readers,      "--split-threshold", "1000000"};
    std::vector<std::string> restore = {"restore", "--uri",       target.uri(), "--progress",
                                        "none",    "--batchSize", "100",        "--numInsertionWorkersPerCollection",
                                        workers,   "--drop"};
    if (mode == 3) {
      dump.insert(dump.end(), {"--archive=" + out.string() + ".archive.gz", "--gzip"});
      restore.insert(restore.end(), {"--archive=" + out.string() + ".archive.gz", "--gzip"});
    } else {
      dump.insert(dump.end(), {"--out", out.string()});
      if (mode == 1) dump.push_back("--gzip");
      if (mode == 2) dump.push_back("--zstd");
      restore.push_back(out.string());
    }
    auto d = bsonpipe(dump);
    ASSERT_EQ(d.exit_code, 0) << what << ": " << show(d);
    auto r = bsonpipe(restore);
    ASSERT_EQ(r.exit_code, 0) << what << ": " << show(r);
    auto got = digests(target.uri());
    for (auto& [ns, digest] : want) {
      EXPECT_EQ(got[ns].count(), digest.count()) << what << ": " << ns;
      EXPECT_TRUE(got[ns] == digest) << what << ": " << ns << " differs from the source";
    }
    if (HasFailure()) return;
    ++cycles;
  }
  std::printf("[soak] seed %llu: %d cycles, every namespace exact\n", static_cast<unsigned long long>(seed), cycles);
  EXPECT_GE(cycles, kMinCycles);
}

}  // namespace
}  // namespace bsonpipe::test
