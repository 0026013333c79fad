// Drop-in use: `cmake --install` into a temporary prefix, then typical mongodump / mongorestore
// command lines run through the installed links (argv[0] dispatch), found on PATH the way a
// script would find them, against minimongod; restored data equals the source.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::server_digest;
using test::show;

// Single-quoted for sh.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

class InstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_ = new fs::path(test::temp_dir("install_prefix") / "usr");
    install_ =
        test::run_shell("cmake --install " + q(test::binary_dir().string()) + " --prefix " + q(prefix_->string()));
  }
  static void TearDownTestSuite() {
    delete prefix_;
    prefix_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(install_.exit_code, 0) << show(install_); }

  static fs::path bin() { return *prefix_ / "bin"; }
  static fs::path compat() { return *prefix_ / "libexec" / "bsonpipe" / "mongo-compat"; }

  // Runs `command` with the compat directory first on PATH, as the README tells users to.
  static test::RunResult with_compat(const std::string& command) {
    return test::run_shell("PATH=" + q(compat().string()) + ":\"$PATH\" " + command);
  }

  static void expect_same(io::Connection& a, const std::string& adb, io::Connection& b, const std::string& bdb,
                          const std::vector<std::pair<std::string, std::uint64_t>>& colls) {
    for (auto& [c, n] : colls) {
      auto da = server_digest(a, adb, c);
      auto dbb = server_digest(b, bdb, c);
      EXPECT_EQ(da.count(), n) << adb << "." << c;
      EXPECT_EQ(dbb.count(), n) << bdb << "." << c;
      EXPECT_EQ(da, dbb) << adb << "." << c << " vs " << bdb << "." << c;
    }
  }

  static fs::path* prefix_;
  static test::RunResult install_;
};
fs::path* InstallTest::prefix_ = nullptr;
test::RunResult InstallTest::install_;

const std::vector<std::pair<std::string, std::uint64_t>> kColls{{"a", 400}, {"b", 150}};

TEST_F(InstallTest, InstallsBinaryAliasesAndCompatLinks) {
  EXPECT_TRUE(fs::is_regular_file(bin() / "bsonpipe"));
  for (auto name : {"bsonpipe-dump", "bsonpipe-restore"}) {
    fs::path p = bin() / name;
    EXPECT_TRUE(fs::is_symlink(p)) << p;
    EXPECT_EQ(fs::read_symlink(p), fs::path("bsonpipe")) << p;
  }
  for (auto name : {"mongodump", "mongorestore"}) {
    fs::path p = compat() / name;
    EXPECT_TRUE(fs::is_symlink(p)) << p;
    EXPECT_TRUE(fs::read_symlink(p).is_relative()) << p;  // the installed tree can be moved
    EXPECT_TRUE(fs::equivalent(p, bin() / "bsonpipe")) << p;
  }
  // Nothing named mongodump lands in bin/, where it would shadow a real one.
  EXPECT_FALSE(fs::exists(bin() / "mongodump"));
  EXPECT_FALSE(fs::exists(bin() / "mongorestore"));
  auto ver = with_compat("mongodump --version");
  EXPECT_EQ(ver.exit_code, 0) << show(ver);
  EXPECT_NE(ver.out.find("bsonpipe"), std::string::npos) << show(ver);
  // Found on PATH under the stock name, it is bsonpipe's dump (its help says so).
  auto v = with_compat("mongodump --help");
  EXPECT_EQ(v.exit_code, 0) << show(v);
  EXPECT_NE(v.out.find("dump"), std::string::npos) << show(v);
  EXPECT_NE(v.out.find("--gzip"), std::string::npos) << show(v);
}

TEST_F(InstallTest, MongodumpAndMongorestoreCommandLinesThroughTheLinks) {
  test::MiniMongod src({"--generate", "d.a:400:200:1", "--generate", "d.b:150:90:2", "--generate", "other.x:50:64:3"});
  test::MiniMongod dst;
  auto s = test::connect(src.uri());
  auto t = test::connect(dst.uri());
  ASSERT_TRUE(s && t);
  std::string sport = std::to_string(src.port()), dport = std::to_string(dst.port());
  fs::path work = test::temp_dir("install_run");

  // mongodump --host --port --db --gzip --out, as a nightly script writes it.
  fs::path out = work / "dump";
  auto d = with_compat("mongodump --host 127.0.0.1 --port " + sport + " --db d --gzip --out " + q(out.string()));
  ASSERT_EQ(d.exit_code, 0) << show(d);
  EXPECT_TRUE(fs::exists(out / "d" / "a.bson.gz"));
  EXPECT_FALSE(fs::exists(out / "other"));  // --db honoured

  // mongorestore --host --port --drop --gzip DIR
  auto r = with_compat("mongorestore --host 127.0.0.1 --port " + dport + " --drop --gzip " + q(out.string()));
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_same(*s, "d", *t, "d", kColls);
  // --drop really drops: run it again, counts stay the same.
  r = with_compat("mongorestore --host 127.0.0.1 --port " + dport + " --drop --gzip " + q(out.string()));
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_same(*s, "d", *t, "d", kColls);

  // --nsFrom/--nsTo
  r = with_compat("mongorestore --host 127.0.0.1 --port " + dport + " --gzip --nsFrom 'd.$c$' --nsTo 'renamed.$c$' " +
                  q(out.string()));
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_same(*s, "d", *t, "renamed", kColls);

  // --archive=FILE both ways.
  fs::path archive = work / "d.archive";
  d = with_compat("mongodump --host 127.0.0.1 --port " + sport + " --db d --archive=" + q(archive.string()));
  ASSERT_EQ(d.exit_code, 0) << show(d);
  ASSERT_TRUE(fs::is_regular_file(archive));
  r = with_compat("mongorestore --host 127.0.0.1 --port " + dport +
                  " --nsFrom 'd.$c$' --nsTo 'fromarchive.$c$' --archive=" + q(archive.string()));
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_same(*s, "d", *t, "fromarchive", kColls);

  // The bin/ aliases, and the installed verify on what they wrote.
  fs::path out2 = work / "dump2";
  d = test::run({(bin() / "bsonpipe-dump").string(), "--uri", src.uri(), "--db", "other", "--out", out2.string()});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  r = test::run({(bin() / "bsonpipe-restore").string(), "--uri", dst.uri(), "--drop", out2.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  expect_same(*s, "other", *t, "other", {{"x", 50}});
  auto v = test::run({(bin() / "bsonpipe").string(), "verify", out2.string(), "--against", src.uri()});
  EXPECT_EQ(v.exit_code, 0) << show(v);
  EXPECT_NE(v.out.find("1 namespace(s) compared, 1 equal"), std::string::npos) << show(v);
}

}  // namespace
}  // namespace bsonpipe
