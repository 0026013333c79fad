// `bsonpipe dump` to s3:// under faults, black-box: the real binary against minimongod and a real
// s3rver behind a loopback proxy (tests/support/tcp_proxy.hpp) that cuts an upload part's
// connection mid-body, answers 503 SlowDown to a part, or holds parts while the dump is killed.
// Retried faults leave the same bytes as a local dump (read back with /usr/bin/aws); a killed
// dump leaves nothing that looks complete, and the next dump to the same place restores equal.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "formats/manifest.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/s3rver.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::show;

const char* kBucket = "bsonpipe-faults";

class S3FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      s3_ = new test::S3Server(kBucket);
      // shop.orders is about 20 MB: three 8 MiB parts as an archive or as a data file.
      source_ =
          new test::MiniMongod({"--generate", "shop.orders:20000:1000:21", "--generate", "shop.items:300:200:22"});
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete source_;
    source_ = nullptr;
    delete s3_;
    s3_ = nullptr;
  }
  void SetUp() override {
    // Fails (never skips) where node, the pinned package or minimongod is missing.
    ASSERT_NE(s3_, nullptr) << "cannot start s3rver or minimongod: " << failure_;
    ASSERT_NE(source_, nullptr) << failure_;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    proxy_ = std::make_unique<test::TcpProxy>(std::stoi(s3_->endpoint().substr(s3_->endpoint().rfind(':') + 1)));
  }

  // The command line of bsonpipe with s3rver's credentials (plain http: no CA bundle) and
  // `env` (e.g. "AWS_MAX_ATTEMPTS=1") in its environment.
  static std::vector<std::string> bsonpipe_argv(const std::vector<std::string>& args,
                                                const std::vector<std::string>& env = {}) {
    static const fs::path scratch = test::temp_dir("s3-fault-cwd");
    std::vector<std::string> argv = test::s3rver_env(scratch, test::kS3rverSecret, env);
    argv.push_back(test::program("bsonpipe").string());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  // `bsonpipe dump` of the source through the proxy (one collection and one cursor at a time,
  // so that two runs write the same bytes).
  std::vector<std::string> dump_args(const std::vector<std::string>& extra) const {
    std::vector<std::string> args{"dump",      "--uri", source_->uri(),  "--progress",      "none", "-j", "1",
                                  "--readers", "1",     "--s3-endpoint", proxy_->endpoint()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  test::RunResult dump(const std::vector<std::string>& extra, const std::vector<std::string>& env = {}) const {
    return test::run(bsonpipe_argv(dump_args(extra), env));
  }
  // /usr/bin/aws straight to s3rver (not through the proxy).
  static test::RunResult aws(const std::string& args) { return test::aws_cli(s3_->endpoint(), args); }
  std::string url(const std::string& key) const { return std::string("s3://") + kBucket + "/" + name_ + "/" + key; }

  static std::map<std::string, formats::Bytes> files_under(const fs::path& root) {
    std::map<std::string, formats::Bytes> out;
    if (!fs::exists(root)) return out;
    for (auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file()) out[e.path().lexically_relative(root).generic_string()] = test::read_file(e.path());
    return out;
  }
  // Every object below this test's prefix, read back with awscli.
  std::map<std::string, formats::Bytes> bucket_objects() const {
    fs::path back = test::temp_dir(name_ + "-back");
    fs::remove_all(back);
    auto cp = aws("s3 cp --recursive " + url("") + " " + back.string());
    EXPECT_EQ(cp.exit_code, 0) << show(cp);
    return files_under(back);
  }
  static std::vector<formats::ManifestFile> manifest_files(const formats::Bytes& bytes) {
    auto m = formats::manifest_from_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    if (!m) return {};
    EXPECT_TRUE(m->complete);
    return m->files;
  }

  // The archive in the bucket equals the same dump on local disk, byte for byte.
  void expect_archive_equals_local() {
    fs::path local = test::temp_dir(name_) / "a.archive";
    auto l = test::run(bsonpipe_argv(dump_args({"--archive=" + local.string()})));
    ASSERT_EQ(l.exit_code, 0) << show(l);
    auto got = bucket_objects();
    ASSERT_EQ(got.count("a.archive"), 1u);
    EXPECT_GT(got["a.archive"].size(), 16u << 20);  // three parts at least
    EXPECT_TRUE(got["a.archive"] == test::read_file(local));
  }
  // The directory dump "d" in the bucket equals the same dump on local disk, file for file
  // (the manifest, which holds times and the location, by its per-file entries).
  void expect_directory_equals_local() {
    fs::path local = test::temp_dir(name_ + "-local") / "dump";
    auto l = test::run(bsonpipe_argv(dump_args({"--out", local.string()})));
    ASSERT_EQ(l.exit_code, 0) << show(l);
    auto remote = bucket_objects();
    auto want = files_under(local);
    ASSERT_GE(want.size(), 6u);  // prelude, manifest and two files per collection
    for (auto& [rel, bytes] : want) {
      SCOPED_TRACE(rel);
      ASSERT_EQ(remote.count("d/" + rel), 1u);
      if (rel == "manifest.json")
        EXPECT_EQ(manifest_files(remote["d/" + rel]), manifest_files(bytes));
      else
        EXPECT_TRUE(remote["d/" + rel] == bytes);
    }
    EXPECT_EQ(remote.size(), want.size());  // nothing staged is left behind
  }
  // A restore of `input` (straight from s3rver) into a fresh server equals the source.
  void expect_restore_equals_source(const std::vector<std::string>& input) {
    test::MiniMongod target;
    std::vector<std::string> args{"restore", "--uri",         target.uri(),   "--progress",
                                  "none",    "--s3-endpoint", s3_->endpoint()};
    args.insert(args.end(), input.begin(), input.end());
    auto r = test::run(bsonpipe_argv(args));
    ASSERT_EQ(r.exit_code, 0) << show(r);
    auto src = test::connect(source_->uri());
    auto dst = test::connect(target.uri());
    ASSERT_TRUE(src && dst);
    for (const char* coll : {"orders", "items"}) {
      SCOPED_TRACE(coll);
      EXPECT_EQ(test::server_digest(*dst, "shop", coll), test::server_digest(*src, "shop", coll));
    }
  }
  // Starts the dump in the background, waits until the proxy holds one of its part uploads and
  // kills it (SIGKILL) there.
  void kill_dump_while_a_part_uploads(const std::vector<std::string>& extra) {
    proxy_->hold_parts(true);
    std::vector<std::string> argv{"/bin/sh", "-c", "echo started; exec \"$@\"", "sh"};
    auto cmd = bsonpipe_argv(dump_args(extra));
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    std::string line;
    auto child = test::Child::start(argv, "started", &line, std::chrono::seconds(30));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (proxy_->parts_held() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_GE(proxy_->parts_held(), 1) << "no part upload started";
    child.signal(SIGKILL);
    EXPECT_EQ(child.wait(), -SIGKILL);
    proxy_->hold_parts(false);
  }

  static test::S3Server* s3_;
  static test::MiniMongod* source_;
  static std::string failure_;
  std::unique_ptr<test::TcpProxy> proxy_;
  std::string name_;
};

test::S3Server* S3FaultTest::s3_ = nullptr;
test::MiniMongod* S3FaultTest::source_ = nullptr;
std::string S3FaultTest::failure_;

TEST_F(S3FaultTest, AConnectionCutMidPartIsRetriedAndTheArchiveEqualsTheLocalOne) {
  proxy_->cut_parts(1, 1u << 20);  // the first part's connection dies after 1 MiB of its body
  auto r = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(proxy_->faults_done(), 1);
  EXPECT_GE(proxy_->parts_seen(), 4);  // three parts and the retried one
  expect_archive_equals_local();
}

TEST_F(S3FaultTest, AConnectionCutMidPartIsRetriedAndTheDirectoryEqualsTheLocalOne) {
  proxy_->cut_parts(2, 3u << 20);  // two connections die, 3 MiB into a data file's parts
  auto r = dump({"--out", url("d")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(proxy_->faults_done(), 2);
  expect_directory_equals_local();
}

// The fault is real: without retries (AWS_MAX_ATTEMPTS=1) the same cut fails the dump in one
// line naming the part, and no archive object appears.
TEST_F(S3FaultTest, WithoutRetriesAConnectionCutFailsTheDumpInOneLine) {
  proxy_->cut_parts(1, 1u << 20);
  auto r = dump({"--archive=" + url("a.archive")}, {"AWS_MAX_ATTEMPTS=1"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(proxy_->faults_done(), 1);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_EQ(r.err.rfind("bsonpipe dump: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("cannot write s3://" + std::string(kBucket) + "/" + name_ + "/a.archive part "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(bucket_objects().count("a.archive"), 0u);
}

TEST_F(S3FaultTest, SlowDownAnswersToPartsAreRetriedAndTheArchiveEqualsTheLocalOne) {
  proxy_->slow_down_parts(2);
  auto r = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(proxy_->faults_done(), 2);
  expect_archive_equals_local();
}

TEST_F(S3FaultTest, WithoutRetriesSlowDownFailsTheDumpInOneLine) {
  proxy_->slow_down_parts(1);
  auto r = dump({"--archive=" + url("a.archive")}, {"AWS_MAX_ATTEMPTS=1"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find("S3 error SlowDown: Please reduce your request rate. (HTTP 503)"), std::string::npos) << r.err;
  EXPECT_EQ(bucket_objects().count("a.archive"), 0u);
}

TEST_F(S3FaultTest, AnArchiveDumpKilledMidUploadLeavesNoArchiveAndTheNextDumpRestoresEqual) {
  kill_dump_while_a_part_uploads({"--archive=" + url("a.archive")});
  // The multipart upload was never completed: no object under the archive's name.
  EXPECT_EQ(bucket_objects().count("a.archive"), 0u);
  auto r = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_restore_equals_source({"--archive=" + url("a.archive")});
}

TEST_F(S3FaultTest, ADirectoryDumpKilledMidUploadLeavesNoDumpAndTheNextDumpRestoresEqual) {
  kill_dump_while_a_part_uploads({"--out", url("d")});
  // Files are staged in d.partial and moved into d, manifest last, only at the end: nothing is in d.
  for (auto& [key, bytes] : bucket_objects()) EXPECT_NE(key.rfind("d/", 0), 0u) << key;
  auto r = dump({"--out", url("d")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto objects = bucket_objects();
  ASSERT_EQ(objects.count("d/manifest.json"), 1u);
  manifest_files(objects["d/manifest.json"]);  // complete
  for (auto& [key, bytes] : objects) EXPECT_EQ(key.rfind("d.partial/", 0), std::string::npos) << key;
  expect_restore_equals_source({url("d")});
}

}  // namespace
}  // namespace bsonpipe
