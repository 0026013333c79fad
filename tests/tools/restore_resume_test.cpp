// bsonpipe restore --resume: a restore interrupted at random points (SIGKILL of bsonpipe at a
// random delay, or a server that closes every connection after N replies) and resumed until it
// succeeds ends with exactly the dump's documents, each once; the journal refuses a different
// restore, says "already complete" after success, and cannot be used with standard input.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
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
using formats::Bytes;
using formats::DocView;
using test::bsonpipe;
using test::connect;
using test::show;

const std::vector<std::pair<std::string, std::string>> kNamespaces = {{"ra", "c1"}, {"ra", "c2"}, {"rb", "c3"}};

formats::MultisetDigest file_digest(const fs::path& p) {
  formats::MultisetDigest d;
  for (auto& doc : test::split_documents(test::read_file(p))) d.add(doc);
  return d;
}

formats::MultisetDigest server_digest(io::Connection& c, const std::string& db, const std::string& coll) {
  // One batch: a server with --fault-close-after N closes this connection too after N replies.
  return test::server_digest(c, db, coll, 1'000'000);
}

// The source: a few namespaces of generated documents (each with an ObjectId _id), dumped once as
// a directory and once as an archive.
struct Source {
  fs::path root;
  fs::path dir;
  fs::path archive;
  std::map<std::string, formats::MultisetDigest> expected;  // "db.coll" -> documents
};

const Source& source() {
  static Source s = [] {
    Source s;
    s.root = test::temp_dir("restore-resume-src");
    test::MiniMongod server(
        {"--generate", "ra.c1:1500:200:1", "--generate", "ra.c2:900:300:2", "--generate", "rb.c3:700:120:3"});
    s.dir = s.root / "dump";
    s.archive = s.root / "dump.archive";
    auto r = bsonpipe({"dump", "--uri", server.uri(), "--out", s.dir.string(), "--progress", "none"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    r = bsonpipe({"dump", "--uri", server.uri(), "--archive=" + s.archive.string(), "--progress", "none"});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    for (auto& [db, coll] : kNamespaces) s.expected[db + "." + coll] = file_digest(s.dir / db / (coll + ".bson"));
    return s;
  }();
  return s;
}

// Exactly the source's documents, each once, in every namespace.
void expect_exact(const std::string& uri, const std::string& what) {
  for (auto& [db, coll] : kNamespaces) {
    auto conn = connect(uri);
    const auto& want = source().expected.at(db + "." + coll);
    auto got = server_digest(*conn, db, coll);
    EXPECT_EQ(got.count(), want.count()) << what << ": " << db << "." << coll;
    EXPECT_TRUE(got == want) << what << ": " << db << "." << coll << " differs from the dump (lost or duplicated)";
  }
}

// Starts bsonpipe in the background (through a shell that execs it, so the pid is bsonpipe's).
test::Child start_bsonpipe(const std::vector<std::string>& args, const fs::path& err_file) {
  std::string cmd = "echo started; exec '" + test::program("bsonpipe").string() + "'";
  for (auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>'" + err_file.string() + "'";
  std::string line;
  return test::Child::start({"/bin/sh", "-c", cmd}, "started", &line);
}

TEST(RestoreResume, InterruptedAtRandomPointsEndsWithEveryDocumentOnce) {
  const Source& src = source();
  ASSERT_EQ(src.expected.size(), 3u);
  std::uint64_t seed = 20261122;
  if (const char* env = std::getenv("BSONPIPE_RESUME_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("[restore-resume] seed %llu (set BSONPIPE_RESUME_SEED to replay)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  fs::path tmp = test::temp_dir("restore-resume-runs");

  // How long an uninterrupted restore takes here: kill delays are drawn up to a bit beyond it.
  double full_ms = 0;
  {
    test::MiniMongod server;
    auto t0 = std::chrono::steady_clock::now();
    auto r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "40", "--progress", "none"});
    full_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(r.exit_code, 0) << show(r);
    expect_exact(server.uri(), "uninterrupted");
  }

  constexpr int kRuns = 24;
  int kills = 0, finished_before_kill = 0, fault_failures = 0, resumes = 0;
  int journal_resumes = 0;   // attempts that found a journal to continue
  int skipping_resumes = 0;  // ... and skipped journaled batches or found re-sent ones in already
  int resent_dups = 0;       // ... where a re-sent (unjournaled) batch met duplicate keys on _id
  for (int run = 0; run < kRuns; ++run) {
    bool archive = rng() % 2 == 1;
    bool use_kill = rng() % 2 == 0;
    int workers = 1 + static_cast<int>(rng() % 3);
    std::string what = "run " + std::to_string(run) + (archive ? " (archive" : " (directory") +
                       (use_kill ? ", SIGKILL" : ", fault-close-after");
    fs::path journal = archive ? fs::path(src.archive.string() + ".journal") : src.dir / ".bsonpipe-restore-journal";
    fs::remove(journal);
    std::vector<std::string> flags;
    int close_after = 0;
    if (!use_kill) {
      // Each connection of every attempt gets N replies: small enough to cut most runs several
      // times, large enough (handshake, catalog commands) for every attempt to make progress.
      close_after = 6 + static_cast<int>(rng() % 20);
      flags = {"--fault-close-after", std::to_string(close_after)};
      what += " " + std::to_string(close_after);
    }
    what += ", " + std::to_string(workers) + " worker(s))";
    test::MiniMongod server(flags);
    std::vector<std::string> cmd = {"restore", "--uri", server.uri(), "--drop", "--batchSize", "40",
                                    "--numInsertionWorkersPerCollection", std::to_string(workers), "-j", "2",
                                    "--progress", "none",
                                    // Faults must interrupt the run here (not be retried away):
                                    // this test is about --resume.
                                    "--retries", "0", "--resume"};
    if (archive) {
      cmd.push_back("--archive=" + src.archive.string());
    } else {
      cmd.push_back(src.dir.string());
    }

    bool done = false;
    if (use_kill) {
      auto delay = std::chrono::microseconds(
          static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(1000 * (full_ms * 1.2 + 1))));
      fs::path err = tmp / ("run" + std::to_string(run) + ".err");
      test::Child child = start_bsonpipe(cmd, err);
      std::this_thread::sleep_for(delay);
      // SIGKILL mostly; SIGINT or SIGTERM one time in four (caught: the restore stops and exits 1).
      const int sig = rng() % 4 != 0 ? SIGKILL : (rng() % 2 == 0 ? SIGINT : SIGTERM);
      child.signal(sig);
      int rc = child.wait();
      if (rc == -sig || (sig != SIGKILL && rc == 1)) {
        ++kills;
      } else {
        ++finished_before_kill;
        ASSERT_EQ(rc, 0) << what << ": " << test::read_text(err);
        done = true;
      }
      std::printf("[restore-resume] %s: %s after %.1f ms%s\n", what.c_str(), strsignal(sig), delay.count() / 1000.0,
                  done ? " (had already finished)" : "");
    }
    // Resume (the first attempt, for fault runs) until it succeeds.
    int attempts = 0;
    while (!done) {
      ASSERT_LT(attempts, 200) << what << ": no progress";
      auto r = bsonpipe(cmd);
      ++attempts;
      if (r.err.find("resuming from") != std::string::npos) ++journal_resumes;
      if (r.err.find("already restored by the interrupted run") != std::string::npos) ++skipping_resumes;
      if (auto at = r.err.find(" of them were found inserted"); at != std::string::npos) {
        auto start = r.err.rfind(' ', at - 1);
        if (std::strtoull(r.err.c_str() + start + 1, nullptr, 10) > 0) ++resent_dups;
      }
      if (r.exit_code == 0) {
        done = true;
        break;
      }
      ASSERT_FALSE(use_kill) << what << ": a resume after a kill failed without a fault: " << show(r);
      ASSERT_EQ(r.err.find("different restore"), std::string::npos) << what << ": " << show(r);
      ASSERT_EQ(r.err.find("corrupt"), std::string::npos) << what << ": " << show(r);
      if (fault_failures == 0) std::printf("[restore-resume] a fault-injected failure: %s", r.err.c_str());
      ++fault_failures;
    }
    resumes += use_kill ? attempts : std::max(0, attempts - 1);
    std::printf("[restore-resume] %s: %d attempt(s) after the first run\n", what.c_str(),
                use_kill ? attempts : attempts - 1);
    expect_exact(server.uri(), what);
    if (HasFailure()) return;
    // Done means done: a further --resume finds the completed journal.
    auto again = bsonpipe(cmd);
    EXPECT_EQ(again.exit_code, 0) << show(again);
    EXPECT_NE(again.err.find("already complete"), std::string::npos) << what << ": " << again.err;
  }
  std::printf(
      "[restore-resume] seed %llu: %d runs, %d SIGKILLs (%d runs finished before their kill), %d "
      "fault-injected failures, %d resumed runs in all (%d continued a journal, %d of them finding documents "
      "already in, %d re-sending a batch that was partly or wholly in)\n",
      static_cast<unsigned long long>(seed), kRuns, kills, finished_before_kill, fault_failures, resumes,
      journal_resumes, skipping_resumes, resent_dups);
  EXPECT_GT(kills, 0);
  EXPECT_GT(fault_failures, 0);
  // The loop proves something only if resumes really continued interrupted restores.
  EXPECT_GT(skipping_resumes, kRuns / 4);
}

TEST(RestoreResume, RefusesADifferentRestoreAndStandardInput) {
  const Source& src = source();
  test::MiniMongod server;
  fs::path journal = test::temp_dir("restore-resume-refuse") / "j";
  auto r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "40", "--journal",
                     journal.string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_TRUE(fs::exists(journal));
  // Different batch options: refused, naming the option.
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "41", "--journal", journal.string(),
                "--resume", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("different restore"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("batchDocuments"), std::string::npos) << r.err;
  // Different filters: refused.
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "40", "--nsExclude", "rb.*",
                "--journal", journal.string(), "--resume", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nsExclude"), std::string::npos) << r.err;
  // The same: already complete.
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "40", "--journal", journal.string(),
                "--resume", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("already complete"), std::string::npos) << r.err;
  // Without --resume, a different restore replaces the journal (and then resumes from it).
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "41", "--journal", journal.string(),
                "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--batchSize", "41", "--journal", journal.string(),
                "--resume", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("already complete"), std::string::npos) << r.err;
  // Unacknowledged writes cannot be journaled.
  r = bsonpipe({"restore", "--uri", server.uri(), src.dir.string(), "--writeConcern", "0", "--resume", "--journal",
                journal.string(), "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("acknowledged"), std::string::npos) << r.err;
  // Standard input cannot resume.
  r = bsonpipe({"restore", "--uri", server.uri(), "--archive", "--resume", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("standard input"), std::string::npos) << r.err;
  expect_exact(server.uri(), "after the refusals");
}

}  // namespace
}  // namespace bsonpipe
