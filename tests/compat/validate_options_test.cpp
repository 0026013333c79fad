// mongodump's ValidateOptions and mongorestore's namespace checks (mongodump/mongodump.go,
// mongorestore/mongorestore.go), ported as a table: each refused command line exits 1 with
// mongo-tools' words and leaves nothing behind. Then the deprecated flags scripts still use:
// --forceTableScan, restore's --excludeCollection(sWithPrefix), and --archive=DIR on dump.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"
#include "tests/support/server_suite.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::bsonpipe;
using test::show;

// shop.orders (30 documents), shop.items (7), shop.other (5) and crm.people (11).
class ValidateOptions : public test::ServerSuite<ValidateOptions> {
 public:
  static std::vector<std::string> server_flags() {
    return {"--generate", "shop.orders:30:64", "--generate", "shop.items:7:64",
            "--generate", "shop.other:5:64",   "--generate", "crm.people:11:64"};
  }
  static constexpr const char* kDirPrefix = "validate_";
};

struct Refused {
  std::vector<std::string> args;  // after "dump --uri URI" or "restore --uri TARGET"
  std::string message;            // mongo-tools' words
};

TEST_F(ValidateOptions, DumpRefusesWhatMongodumpRefuses) {
  const std::vector<Refused> cases = {
      {{"-d", "shop", "-c", "orders", "-q", "{}", "--forceTableScan"},
       "cannot use --forceTableScan when specifying --query"},
      {{"-d", "shop", "-c", "system.buckets.weather"},
       "cannot specify a system.buckets collection in --collection. Specifying the timeseries collection will dump "
       "the system.buckets collection"},
      {{"-d", "shop", "-c", "orders", "--excludeCollection", "items"},
       "--collection is not allowed when --excludeCollection is specified"},
      {{"-d", "shop", "-c", "orders", "--excludeCollectionsWithPrefix", "it"},
       "--collection is not allowed when --excludeCollectionsWithPrefix is specified"},
      {{"--excludeCollection", "items"}, "--db is required when --excludeCollection is specified"},
      {{"--excludeCollectionsWithPrefix", "it"}, "--db is required when --excludeCollectionsWithPrefix is specified"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    fs::path out = dir("dump_refused") / std::to_string(i);
    std::vector<std::string> args = {"dump", "--uri", uri(), "--out", out.string()};
    args.insert(args.end(), cases[i].args.begin(), cases[i].args.end());
    auto r = bsonpipe(args);
    SCOPED_TRACE(cases[i].message);
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find(cases[i].message), std::string::npos) << show(r);
    EXPECT_FALSE(fs::exists(out)) << "nothing written";
  }
}

TEST_F(ValidateOptions, RestoreRefusesOplogReplayWithNamespaceSelection) {
  const std::string d = full_dump().string();
  const std::vector<Refused> cases = {
      {{"--oplogReplay", "--nsInclude", "shop.*", d}, "cannot use --oplogReplay with includes specified"},
      {{"--oplogReplay", "-d", "shop", d + "/shop"}, "cannot use --oplogReplay with includes specified"},
      {{"--oplogReplay", "--nsExclude", "crm.*", d}, "cannot use --oplogReplay with excludes specified"},
      {{"--oplogReplay", "--excludeCollection", "items", d}, "cannot use --oplogReplay with excludes specified"},
      {{"--oplogReplay", "--nsFrom", "shop.*", "--nsTo", "shop2.*", d},
       "cannot use --oplogReplay with namespace renames specified"},
      {{"-d", "shop", "-c", "orders", "--excludeCollection", "items", d + "/shop/orders.bson"},
       "--collection is not allowed when --excludeCollection is specified"},
      {{"-d", "shop", "-c", "orders", "--excludeCollectionsWithPrefix", "it", d + "/shop/orders.bson"},
       "--collection is not allowed when --excludeCollectionsWithPrefix is specified"},
  };
  test::MiniMongod target;
  for (const auto& c : cases) {
    std::vector<std::string> args = {"restore", "--uri", target.uri()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = bsonpipe(args);
    SCOPED_TRACE(c.message);
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << show(r);
    EXPECT_EQ(count(target.uri(), "shop", "orders"), 0u) << "nothing restored";
  }
}

// mongorestore turns --excludeCollection C into the nsExclude "*.C" and
// --excludeCollectionsWithPrefix P into "*.P*", with a deprecation line.
TEST_F(ValidateOptions, RestoreExcludeCollectionFlags) {
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--excludeCollection", "items", "--excludeCollectionsWithPrefix",
                     "oth", full_dump().string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("options are deprecated"), std::string::npos) << show(r);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 30u);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
  EXPECT_EQ(count(target.uri(), "shop", "items"), 0u);
  EXPECT_EQ(count(target.uri(), "shop", "other"), 0u);
}

// --forceTableScan: accepted (scripts pass it), one cursor per collection, same documents.
TEST_F(ValidateOptions, DumpForceTableScan) {
  fs::path out = dir("table_scan") / "dump";
  auto r = bsonpipe({"dump", "--uri", uri(), "--forceTableScan", "--readers", "4", "--split-threshold", "1", "--out",
                     out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", "--uri", target.uri(), out.string(), "--quiet"});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 30u);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
}

// mongo-tools' hidden connection and general flags run unchanged: timeouts (seconds) become the
// URI's, the rest are accepted; --compressors=none is its own default (no compression).
TEST_F(ValidateOptions, HiddenFlagsOfMongoToolsAreAccepted) {
  fs::path out = dir("hidden") / "dump";
  auto r = bsonpipe({"dump", "--uri", uri(), "-d", "crm", "--dialTimeout", "5", "--socketTimeout=60",
                     "--serverSelectionTimeout", "10", "--TCPKeepAliveSeconds", "30", "--numThreads", "4", "--trace",
                     "--compressors=none", "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(out / "crm" / "people.bson"));
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", "--uri", target.uri(), "--dialTimeout=5", "--compressors", "none", out.string()});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
}

// mongodump --archive=DIR writes DIR/archive, DIR/archive.gz with --gzip (getArchiveOut).
TEST_F(ValidateOptions, DumpArchiveIntoADirectory) {
  fs::path d = dir("archive_dir");
  fs::create_directories(d);
  auto plain = bsonpipe({"dump", "--uri", uri(), "-d", "crm", "--archive=" + d.string(), "--quiet"});
  ASSERT_EQ(plain.exit_code, 0) << show(plain);
  EXPECT_TRUE(fs::is_regular_file(d / "archive"));
  auto gz = bsonpipe({"dump", "--uri", uri(), "-d", "crm", "--gzip", "--archive=" + d.string(), "--quiet"});
  ASSERT_EQ(gz.exit_code, 0) << show(gz);
  ASSERT_TRUE(fs::is_regular_file(d / "archive.gz"));
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--gzip", "--archive=" + d.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
}

}  // namespace
}  // namespace bsonpipe
