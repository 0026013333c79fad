// Namespace patterns through the real binary and real minimongods, with mongorestore's rules
// (mongo-tools mongorestore/ns/ns.go, mongorestore/mongorestore.go):
// - an unescaped `*` in --nsFrom/--nsTo is a variable that may span dots (`shop.*` ->
//   `shop_copy.*`, `*.*` -> `*_test.*`), `\*` a literal star;
// - with several pairs the last one that matches renames;
// - the same patterns select for dump and copy (--nsInclude/--nsExclude), and copy renames too;
// - a bad pattern (a different number of `*` on the two sides, a `$` in an include) is a
//   command-line error: one line, exit 2, before anything connects.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using test::bsonpipe;
using test::connect;
using test::show;

// Nothing listens here: a command that connected would fail with exit 1, not 2.
constexpr const char* kDeadUri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500&connectTimeoutMS=500";

void insert_ids(io::Connection& c, const std::string& db, const std::string& coll, int first, int n) {
  Bytes all;
  for (int i = first; i < first + n; ++i) {
    Bytes d = Builder().append_int32("_id", i).append_string("from", db + "." + coll).finish();
    all.insert(all.end(), d.begin(), d.end());
  }
  auto r = io::insert(c, db, coll, all);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  ASSERT_TRUE(r->write_errors.empty());
}

// The collection names of `db` on the server, sorted.
std::vector<std::string> names(io::Connection& c, const std::string& db) {
  auto list = io::list_collections(c, db);
  EXPECT_TRUE(list.is_ok());
  std::vector<std::string> out;
  if (list)
    for (auto& info : *list) out.push_back(info.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t line_count(const std::string& text) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.empty() ? 0 : 1;
  return n;
}

// A source server holding `colls` ("db.coll" -> document count), dumped to a directory.
class NsRenameTest : public ::testing::Test {
 protected:
  void make_source(const std::vector<std::pair<std::string, int>>& colls) {
    auto c = connect(source_.uri());
    ASSERT_TRUE(c);
    int next = 1;
    for (const auto& [ns, n] : colls) {
      auto dot = ns.find('.');
      insert_ids(*c, ns.substr(0, dot), ns.substr(dot + 1), next, n);
      next += n;
    }
  }

  fs::path dump_dir(const std::string& name, std::vector<std::string> extra = {}) {
    fs::path out = test::temp_dir("ns_rename_" + name) / "dump";
    std::vector<std::string> args = {"dump", "--uri", source_.uri(), "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = bsonpipe(args);
    EXPECT_EQ(d.exit_code, 0) << show(d);
    return out;
  }

  // Documents of db.coll on the target equal those of sdb.scoll on the source.
  void expect_same(io::Connection& target, const std::string& db, const std::string& coll, const std::string& sdb,
                   const std::string& scoll) {
    auto s = connect(source_.uri());
    ASSERT_TRUE(s);
    auto want = test::server_documents(*s, sdb, scoll);
    ASSERT_FALSE(want.empty()) << sdb << "." << scoll << " is empty on the source";
    EXPECT_EQ(test::server_documents(target, db, coll), want) << db << "." << coll << " vs " << sdb << "." << scoll;
  }

  test::MiniMongod source_;
  test::MiniMongod target_;
};

TEST_F(NsRenameTest, RestoreShopStarToShopCopyStar) {
  make_source({{"shop.items", 3}, {"shop.orders", 2}, {"other.x", 1}});
  fs::path dump = dump_dir("shop_star");
  auto r = bsonpipe({"restore", "--uri", target_.uri(), "--nsFrom", "shop.*", "--nsTo", "shop_copy.*", dump.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "shop_copy"), (std::vector<std::string>{"items", "orders"}));
  EXPECT_TRUE(names(*c, "shop").empty());
  expect_same(*c, "shop_copy", "items", "shop", "items");
  expect_same(*c, "shop_copy", "orders", "shop", "orders");
  expect_same(*c, "other", "x", "other", "x");
}

TEST_F(NsRenameTest, StarDotStarSpansDots) {
  // ns_test.go: '*.*' -> '*_test.*' maps prod.turbo.encabulators to prod_test.turbo.encabulators.
  make_source({{"prod.turbo.encabulators", 2}, {"stuff.user", 1}});
  fs::path dump = dump_dir("star_dot_star");
  auto r = bsonpipe({"restore", "--uri", target_.uri(), "--nsFrom", "*.*", "--nsTo", "*_test.*", dump.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "prod_test"), (std::vector<std::string>{"turbo.encabulators"}));
  EXPECT_EQ(names(*c, "stuff_test"), (std::vector<std::string>{"user"}));
  EXPECT_TRUE(names(*c, "prod").empty());
  expect_same(*c, "prod_test", "turbo.encabulators", "prod", "turbo.encabulators");
  expect_same(*c, "stuff_test", "user", "stuff", "user");
}

TEST_F(NsRenameTest, TheLastMatchingPairWinsFromAnArchive) {
  make_source({{"a.b", 2}, {"a.c", 3}});
  fs::path archive = test::temp_dir("ns_rename_pairs") / "a.archive";
  auto d = bsonpipe({"dump", "--uri", source_.uri(), "--archive=" + archive.string()});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  auto r = bsonpipe({"restore", "--uri", target_.uri(), "--archive=" + archive.string(), "--nsFrom", "a.*", "--nsTo",
                     "x.*", "--nsFrom", "a.b", "--nsTo", "y.b"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "y"), (std::vector<std::string>{"b"}));
  EXPECT_EQ(names(*c, "x"), (std::vector<std::string>{"c"}));
  expect_same(*c, "y", "b", "a", "b");
  expect_same(*c, "x", "c", "a", "c");
}

TEST_F(NsRenameTest, DbJoinsTheIncludesOfAnArchiveRestore) {
  // mongorestore.go adds `<db>.*` to the --nsInclude list: a namespace matching either is restored.
  make_source({{"a.x", 1}, {"b.y", 2}, {"c.z", 1}});
  fs::path archive = test::temp_dir("ns_rename_db_include") / "all.archive";
  auto d = bsonpipe({"dump", "--uri", source_.uri(), "--archive=" + archive.string()});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  auto r =
      bsonpipe({"restore", "--uri", target_.uri(), "--archive=" + archive.string(), "--db", "a", "--nsInclude", "b.*"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "a"), (std::vector<std::string>{"x"})) << show(r);
  EXPECT_EQ(names(*c, "b"), (std::vector<std::string>{"y"})) << show(r);
  EXPECT_TRUE(names(*c, "c").empty());
}

TEST_F(NsRenameTest, DbOfAFolderIncludesTheWholeFolder) {
  // mongorestore.go: --db adds `<db>.*` to the includes, and a database folder holds nothing
  // else, so a narrower --nsInclude keeps nothing out there; --nsExclude and renames still apply.
  make_source({{"shop.a", 1}, {"shop.b", 2}, {"shop.c", 1}});
  fs::path dump = dump_dir("db_folder");
  auto r = bsonpipe({"restore", "--uri", target_.uri(), "--db", "shop", "--nsInclude", "shop.a", "--nsExclude",
                     "shop.c", "--nsFrom", "shop.*", "--nsTo", "shop2.*", (dump / "shop").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "shop2"), (std::vector<std::string>{"a", "b"})) << show(r);
  EXPECT_TRUE(names(*c, "shop").empty());
}

TEST_F(NsRenameTest, AnEscapedStarIsALiteralStar) {
  make_source({{"shop.a*b", 2}, {"shop.axb", 1}});
  fs::path dump = dump_dir("escaped_star");
  auto r =
      bsonpipe({"restore", "--uri", target_.uri(), "--nsFrom", R"(shop.a\*b)", "--nsTo", "shop2.ab", dump.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "shop2"), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(names(*c, "shop"), (std::vector<std::string>{"axb"})) << "shop.axb is not matched by 'shop.a\\*b'";
  expect_same(*c, "shop2", "ab", "shop", "a*b");
  expect_same(*c, "shop", "axb", "shop", "axb");
}

TEST_F(NsRenameTest, DumpIncludeAndExcludeWithStars) {
  make_source({{"shop.items", 1}, {"shop.tmp_1", 1}, {"shop.a.b", 1}, {"other.x", 1}});
  fs::path out = dump_dir("dump_filters", {"--nsInclude", "shop.*", "--nsExclude", "*.tmp_*"});
  EXPECT_TRUE(fs::exists(out / "shop" / "items.bson"));
  EXPECT_TRUE(fs::exists(out / "shop" / "a.b.bson")) << "'*' spans dots";
  EXPECT_FALSE(fs::exists(out / "shop" / "tmp_1.bson"));
  EXPECT_FALSE(fs::exists(out / "other"));
  // '$' has no meaning in an include: refused, as mongorestore refuses it.
  auto bad = bsonpipe({"dump", "--uri", kDeadUri, "--nsInclude", "shop.$c$", "--out", (out / "bad").string()});
  EXPECT_EQ(bad.exit_code, 1) << show(bad);  // mongo-tools' util.ExitFailure
  EXPECT_EQ(line_count(bad.err), 1U) << show(bad);
  EXPECT_NE(bad.err.find("'shop.$c$'"), std::string::npos) << show(bad);
}

TEST_F(NsRenameTest, CopyRenamesWithStars) {
  make_source({{"shop.items", 3}, {"shop.tmp", 1}, {"other.x", 1}});
  auto r = bsonpipe({"copy", "--from", source_.uri(), "--to", target_.uri(), "--nsInclude", "shop.*", "--nsExclude",
                     "shop.tmp", "--nsFrom", "shop.*", "--nsTo", "shop_copy.*"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_EQ(names(*c, "shop_copy"), (std::vector<std::string>{"items"}));
  EXPECT_TRUE(names(*c, "shop").empty());
  EXPECT_TRUE(names(*c, "other").empty());
  expect_same(*c, "shop_copy", "items", "shop", "items");
}

TEST(NsRenameErrors, ADifferentNumberOfStarsIsACommandLineError) {
  fs::path dump = test::temp_dir("ns_rename_mismatch");
  struct Case {
    std::vector<std::string> args;
    std::string names;  // a part of the one line
  };
  const std::vector<Case> cases = {
      {{"restore", "--uri", kDeadUri, "--nsFrom", "shop.*", "--nsTo", "shop_copy", dump.string()},
       "--nsFrom 'shop.*' --nsTo 'shop_copy'"},
      {{"restore", "--uri", kDeadUri, "--nsFrom", "*.*", "--nsTo", "*_test", dump.string()},
       "--nsFrom '*.*' --nsTo '*_test'"},
      {{"restore", "--uri", kDeadUri, "--nsFrom", "a.*", "--nsFrom", "b.*", "--nsTo", "c.*", dump.string()},
       "same number of times"},
      {{"restore", "--uri", kDeadUri, "--nsInclude", "shop.$c$", dump.string()}, "'shop.$c$'"},
      {{"copy", "--from", kDeadUri, "--to", "mongodb://127.0.0.1:2/", "--nsFrom", "shop.*", "--nsTo", "shop_copy"},
       "--nsFrom 'shop.*' --nsTo 'shop_copy'"},
      {{"copy", "--from", kDeadUri, "--to", "mongodb://127.0.0.1:2/", "--nsExclude", "x.$y$"}, "'x.$y$'"},
  };
  for (const auto& c : cases) {
    auto r = bsonpipe(c.args);
    SCOPED_TRACE(c.args[0] + " " + c.names);
    // dump and restore exit 1 as mongo-tools does (util.ExitFailure); bsonpipe's own commands 2.
    EXPECT_EQ(r.exit_code, c.args[0] == "copy" ? 2 : 1) << show(r);
    EXPECT_EQ(line_count(r.err), 1U) << show(r);
    EXPECT_NE(r.err.find(c.names), std::string::npos) << show(r);
  }
}

}  // namespace
// One collection's .bson file goes where --db/--collection (or its name) say: mongorestore applies
// no include, exclude or rename to it (mongorestore/filepath.go, CreateIntentForCollection).
TEST_F(NsRenameTest, ASingleBsonFileIgnoresIncludesExcludesAndRenames) {
  make_source({{"shop.items", 3}});
  fs::path dump = dump_dir("single_file");
  const std::string file = (dump / "shop" / "items.bson").string();
  auto r = bsonpipe({"restore", "--uri", target_.uri(), "--db", "shop", "--collection", "items", "--nsFrom", "shop.*",
                     "--nsTo", "elsewhere.*", file});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  r = bsonpipe({"restore", "--uri", target_.uri(), "--db", "kept", "--nsExclude", "kept.*", file});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = connect(target_.uri());
  ASSERT_TRUE(c);
  EXPECT_TRUE(names(*c, "elsewhere").empty());
  expect_same(*c, "shop", "items", "shop", "items");
  expect_same(*c, "kept", "items", "shop", "items");
}

}  // namespace bsonpipe
