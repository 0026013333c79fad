// The README's restic recipe, run as written against a local restic repository (Debian's restic):
// `bsonpipe dump --archive | restic backup --stdin` and `restic dump latest | bsonpipe restore
// --archive` restore equal to the source; a failing dump fails the pipeline (set -o pipefail);
// docs/examples/bsonpipe-restic-backup.sh keeps no snapshot of a failed dump, so `latest` stays
// the last complete one.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::show;

class ResticRecipeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      source_ = new test::MiniMongod({"--generate", "shop.orders:6000:800:41", "--generate", "shop.items:400:300:42"});
      // Its getMores fail: a dump of it writes the first batch (with --batchSize 6000, about 6 MB:
      // past one 4 MiB archive block) to the pipe, then fails.
      failing_ = new test::MiniMongod({"--generate", "shop.orders:8000:1000:43", "--fault-fail", "getMore:2"});
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete source_;
    source_ = nullptr;
    delete failing_;
    failing_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(source_, nullptr) << "cannot start minimongod: " << failure_;
    ASSERT_NE(failing_, nullptr) << failure_;
    // Fails (never skips) without restic: .ci/install-deps.sh installs Debian's.
    ASSERT_TRUE(fs::exists("/usr/bin/restic")) << "restic not found: apt-get install restic";
    dir_ = test::temp_dir("restic");
    const std::string password = "restic-test-pw\n";
    test::write_file(dir_ / "password",
                     formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(password.data()), password.size()));
    auto init = bash("restic init --quiet");
    ASSERT_EQ(init.exit_code, 0) << show(init);
  }

  // `script` under bash with bsonpipe first on PATH and the repository in restic's environment.
  test::RunResult bash(const std::string& script) const {
    std::string env = "export PATH='" + test::program("bsonpipe").parent_path().string() +
                      "':\"$PATH\" RESTIC_REPOSITORY='" + (dir_ / "repo").string() + "' RESTIC_PASSWORD_FILE='" +
                      (dir_ / "password").string() + "' RESTIC_CACHE_DIR='" + (dir_ / "cache").string() + "'; ";
    return test::run({"/bin/bash", "-c", env + script});
  }
  // The README's backup line for `uri` (and `extra` dump flags).
  test::RunResult readme_backup(const std::string& uri, const std::string& extra = "") const {
    return bash("set -o pipefail; bsonpipe dump --uri " + uri + extra +
                " --archive --progress none | restic backup --stdin --stdin-filename db1.archive");
  }
  test::RunResult script_backup(const std::string& uri, const std::string& extra = "") const {
    fs::path script = fs::path(BSONPIPE_SOURCE_DIR) / "docs" / "examples" / "bsonpipe-restic-backup.sh";
    return bash(script.string() + " db1 --uri " + uri + extra);
  }
  std::size_t snapshots() const {
    auto r = bash("restic snapshots --json | grep -o '\"short_id\"' | wc -l");
    EXPECT_EQ(r.exit_code, 0) << show(r);
    return std::stoul(r.out);
  }
  // The README's restore line into a fresh server: its exit code, and whether it equals the source.
  void expect_latest_restores_equal_to_source() const {
    test::MiniMongod target;
    auto r = bash("set -o pipefail; restic dump latest db1.archive | bsonpipe restore --uri " + target.uri() +
                  " --archive --progress none");
    ASSERT_EQ(r.exit_code, 0) << show(r);
    auto src = test::connect(source_->uri());
    auto dst = test::connect(target.uri());
    ASSERT_TRUE(src && dst);
    for (const char* coll : {"orders", "items"}) {
      SCOPED_TRACE(coll);
      EXPECT_EQ(test::server_digest(*dst, "shop", coll), test::server_digest(*src, "shop", coll));
      EXPECT_EQ(test::server_documents(*dst, "shop", coll).size(), test::server_documents(*src, "shop", coll).size());
    }
  }

  static test::MiniMongod* source_;
  static test::MiniMongod* failing_;
  static std::string failure_;
  fs::path dir_;
};

test::MiniMongod* ResticRecipeTest::source_ = nullptr;
test::MiniMongod* ResticRecipeTest::failing_ = nullptr;
std::string ResticRecipeTest::failure_;

TEST_F(ResticRecipeTest, AnArchiveBackedUpWithResticRestoresEqualToTheSource) {
  auto b = readme_backup(source_->uri());
  ASSERT_EQ(b.exit_code, 0) << show(b);
  EXPECT_EQ(snapshots(), 1u);
  expect_latest_restores_equal_to_source();
}

// With set -o pipefail the pipeline fails when the dump does, though restic itself succeeds and
// keeps the truncated stream as a snapshot: `latest` is then no complete dump.
TEST_F(ResticRecipeTest, AFailingDumpFailsThePipeline) {
  auto b = readme_backup(failing_->uri(), " --batchSize 6000");
  EXPECT_NE(b.exit_code, 0) << show(b);
  EXPECT_NE(b.err.find("bsonpipe dump: getMore on shop.orders failed"), std::string::npos) << b.err;
  EXPECT_EQ(snapshots(), 1u);  // restic's: a truncated archive
  test::MiniMongod target;
  auto r = bash("set -o pipefail; restic dump latest db1.archive | bsonpipe restore --uri " + target.uri() +
                " --archive --progress none");
  EXPECT_NE(r.exit_code, 0) << show(r);
}

// The nightly script keeps no snapshot of a failed dump: `latest` stays the last complete one.
TEST_F(ResticRecipeTest, TheNightlyScriptForgetsTheSnapshotOfAFailedDump) {
  auto good = script_backup(source_->uri());
  ASSERT_EQ(good.exit_code, 0) << show(good);
  auto bad = script_backup(failing_->uri(), " --batchSize 6000");
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
  EXPECT_NE(bad.err.find("bsonpipe-restic-backup: dump of db1 failed; no snapshot kept"), std::string::npos) << bad.err;
  EXPECT_EQ(snapshots(), 1u);
  expect_latest_restores_equal_to_source();
}

}  // namespace
}  // namespace bsonpipe
