// `bsonpipe dump` and `restore` with s3:// locations, black-box: the real binary against
// minimongod and a real s3rver (tests/support/s3rver.hpp). What lands in the bucket is read back
// with an independent client (Debian's /usr/bin/aws) and compared with the same dump on disk;
// restores from the bucket equal the source; a wrong secret fails in one line without printing it.
#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/s3rver.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::show;

const char* kBucket = "bsonpipe-cli";

class S3CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      s3_ = new test::S3Server(kBucket);
      source_ = new test::MiniMongod({"--generate", "shop.orders:3000:700:11", "--generate", "shop.items:200:300:12",
                                      "--generate", "logs.x:50:90:3"});
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete source_;
    source_ = nullptr;
    delete s3_;  // kills s3rver
    s3_ = nullptr;
  }
  void SetUp() override {
    // Fails (never skips) where node, the pinned package or minimongod is missing.
    ASSERT_NE(s3_, nullptr) << "cannot start s3rver or minimongod: " << failure_;
    ASSERT_NE(source_, nullptr) << failure_;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // bsonpipe with s3rver's credentials in the environment (no CA bundle: plain http), run in a
  // scratch directory: an s3:// location wrongly taken as a local path lands there.
  static test::RunResult bsonpipe(const std::vector<std::string>& args, const std::string& secret = "S3RVER") {
    static const fs::path scratch = test::temp_dir("s3-cli-cwd");
    std::vector<std::string> argv = test::s3rver_env(scratch, secret);
    argv.push_back(test::program("bsonpipe").string());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
  // /usr/bin/aws against s3rver.
  static test::RunResult aws(const std::string& args) { return test::aws_cli(s3_->endpoint(), args); }
  std::string url(const std::string& key) const { return std::string("s3://") + kBucket + "/" + name_ + "/" + key; }

  // `bsonpipe dump` of the source with `extra` arguments (one collection at a time and one
  // cursor per collection, so that two runs write the same bytes).
  test::RunResult dump(std::vector<std::string> extra) const {
    std::vector<std::string> args{"dump",      "--uri", source_->uri(),  "--progress",   "none", "-j", "1",
                                  "--readers", "1",     "--s3-endpoint", s3_->endpoint()};
    args.insert(args.end(), extra.begin(), extra.end());
    return bsonpipe(args);
  }
  // Every regular file below `root` (relative, '/'-separated) with its bytes.
  static std::map<std::string, formats::Bytes> files_under(const fs::path& root) {
    std::map<std::string, formats::Bytes> out;
    for (auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file()) out[e.path().lexically_relative(root).generic_string()] = test::read_file(e.path());
    return out;
  }
  static std::vector<formats::ManifestFile> manifest_files(const formats::Bytes& bytes) {
    auto m = formats::manifest_from_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    if (!m) return {};
    EXPECT_TRUE(m->complete);
    return m->files;
  }
  // A directory dump to s3:// and to disk with the same flags: the same files, byte for byte
  // (the manifest, which holds times and the location, by its per-file entries).
  void expect_directory_dump_matches_local(const std::vector<std::string>& flags) {
    fs::path local = test::temp_dir(name_ + "-local") / "dump";
    auto extra = flags;
    extra.insert(extra.end(), {"--out", url("d")});
    auto r = dump(extra);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    extra = flags;
    extra.insert(extra.end(), {"--out", local.string()});
    auto l = dump(extra);
    ASSERT_EQ(l.exit_code, 0) << show(l);
    fs::path back = test::temp_dir(name_ + "-back");
    auto cp = aws("s3 cp --recursive " + url("d") + " " + back.string());
    ASSERT_EQ(cp.exit_code, 0) << show(cp);
    auto remote_files = files_under(back), local_files = files_under(local);
    ASSERT_EQ(remote_files.size(), local_files.size());
    ASSERT_GE(local_files.size(), 7u);  // prelude, manifest and two files per collection
    for (auto& [rel, bytes] : local_files) {
      SCOPED_TRACE(rel);
      ASSERT_EQ(remote_files.count(rel), 1u);
      if (rel == "manifest.json")
        EXPECT_EQ(manifest_files(remote_files[rel]), manifest_files(bytes));
      else
        EXPECT_TRUE(remote_files[rel] == bytes);
    }
  }
  // The source's digests of every generated collection equal the target's.
  static void expect_equal_to_source(const std::string& target_uri) {
    auto src = test::connect(source_->uri());
    auto dst = test::connect(target_uri);
    ASSERT_TRUE(src && dst);
    for (auto [db, coll] : {std::pair{"shop", "orders"}, {"shop", "items"}, {"logs", "x"}}) {
      SCOPED_TRACE(std::string(db) + "." + coll);
      auto want = test::server_digest(*src, db, coll);
      EXPECT_EQ(test::server_digest(*dst, db, coll), want);
      EXPECT_EQ(test::server_documents(*dst, db, coll, 0).size(), test::server_documents(*src, db, coll, 0).size());
    }
  }

  static test::S3Server* s3_;
  static test::MiniMongod* source_;
  static std::string failure_;
  std::string name_;
};

test::S3Server* S3CliTest::s3_ = nullptr;
test::MiniMongod* S3CliTest::source_ = nullptr;
std::string S3CliTest::failure_;

TEST_F(S3CliTest, DirectoryDumpToS3EqualsTheLocalDump) {
  expect_directory_dump_matches_local({});
}

TEST_F(S3CliTest, GzipDirectoryDumpToS3EqualsTheLocalDump) {
  expect_directory_dump_matches_local({"--gzip"});
}

TEST_F(S3CliTest, ZstdDirectoryDumpToS3EqualsTheLocalDump) {
  expect_directory_dump_matches_local({"--zstd=3"});
}

// Every archive format: plain, gzip and zstd, each read back by awscli and compared with the
// same archive on disk.
TEST_F(S3CliTest, ArchiveDumpToS3EqualsTheLocalArchive) {
  const std::vector<std::vector<std::string>> formats{{}, {"--gzip"}, {"--zstd=3"}};
  const fs::path local_dir = test::temp_dir(name_);
  for (std::size_t i = 0; i < formats.size(); ++i) {
    const std::string name = "a" + std::to_string(i) + ".archive";
    SCOPED_TRACE(name);
    fs::path local = local_dir / name;
    auto flags = formats[i];
    flags.push_back("--archive=" + url(name));
    auto r = dump(flags);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    flags.back() = "--archive=" + local.string();
    auto l = dump(flags);
    ASSERT_EQ(l.exit_code, 0) << show(l);
  }
  fs::path back = test::temp_dir(name_ + "-back");
  auto cp = aws("s3 cp --recursive " + url("") + " " + back.string());
  ASSERT_EQ(cp.exit_code, 0) << show(cp);
  auto got = files_under(back);
  ASSERT_EQ(got.size(), formats.size());  // the archives only: nothing staged is left behind
  for (std::size_t i = 0; i < formats.size(); ++i) {
    const std::string name = "a" + std::to_string(i) + ".archive";
    ASSERT_EQ(got.count(name), 1u) << name;
    EXPECT_TRUE(got[name] == test::read_file(local_dir / name)) << name;
  }
  // The compressed ones really are: gzip's magic, zstd's frame magic.
  EXPECT_EQ(got["a1.archive"].at(0), 0x1f);
  EXPECT_EQ(got["a2.archive"].at(0), 0x28);
}

TEST_F(S3CliTest, RestoreOfADirectoryDumpInS3EqualsTheSource) {
  auto r = dump({"--gzip", "--out", url("d")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  test::MiniMongod target;
  auto rr =
      bsonpipe({"restore", "--uri", target.uri(), "--progress", "none", "--s3-endpoint", s3_->endpoint(), url("d")});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  expect_equal_to_source(target.uri());
}

TEST_F(S3CliTest, RestoreOfAnArchiveInS3EqualsTheSource) {
  auto r = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", "--uri", target.uri(), "--progress", "none", "--s3-endpoint", s3_->endpoint(),
                      "--archive=" + url("a.archive")});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  expect_equal_to_source(target.uri());
}

TEST_F(S3CliTest, AWrongSecretFailsInOneLineWithoutPrintingIt) {
  const std::string secret = "Wr0ngS3cretV4lue";
  auto d = bsonpipe(
      {"dump", "--uri", source_->uri(), "--progress", "none", "--s3-endpoint", s3_->endpoint(), "--out", url("d")},
      secret);
  EXPECT_EQ(d.exit_code, 1) << show(d);
  EXPECT_EQ(d.err.find(secret), std::string::npos) << d.err;
  EXPECT_EQ(d.out.find(secret), std::string::npos) << d.out;
  ASSERT_FALSE(d.err.empty());
  EXPECT_EQ(d.err.find('\n'), d.err.size() - 1) << d.err;
  EXPECT_EQ(d.err.rfind("bsonpipe dump: ", 0), 0u) << d.err;
  // Nothing visible in the bucket.
  EXPECT_EQ(aws("s3 ls --recursive " + url("")).out, "");

  auto ok = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(ok.exit_code, 0) << show(ok);
  for (std::vector<std::string> input : {std::vector<std::string>{url("d")}, {"--archive=" + url("a.archive")}}) {
    std::vector<std::string> args{"restore", "--uri",    source_->uri(),  "--progress",
                                  "none",    "--dryRun", "--s3-endpoint", s3_->endpoint()};
    args.insert(args.end(), input.begin(), input.end());
    auto r = bsonpipe(args, secret);
    SCOPED_TRACE(input[0]);
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_EQ(r.err.rfind("bsonpipe restore: ", 0), 0u) << r.err;
  }
}

// What object storage cannot hold is refused in one line, and nothing is left behind: a
// symbolic link in an --include-path tree going to an s3:// dump.
TEST_F(S3CliTest, SymbolicLinksInBundledFilesAreRefusedInOneLine) {
  fs::path src = test::temp_dir(name_) / "files";
  fs::create_directories(src);
  test::write_file(src / "a.conf", formats::Bytes{0x78, 0x0a});
  fs::create_symlink("a.conf", src / "link");
  auto r = dump({"--include-path", src.string(), "--out", url("withfiles")});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << show(r);
  EXPECT_NE(r.err.find((src / "link").string() + ": a symbolic link cannot be stored in object storage"),
            std::string::npos)
      << show(r);
  EXPECT_EQ(aws("s3 ls --recursive " + url("withfiles")).out, "");
}

}  // namespace
}  // namespace bsonpipe
