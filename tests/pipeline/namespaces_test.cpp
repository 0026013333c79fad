// pipeline/core/namespaces.hpp beyond mongorestore's tables (those are in ns_table_test.cpp): the
// filter's include/exclude logic, the one-line errors, and long inputs.
#include <gtest/gtest.h>

#include <string>

#include "pipeline/core/namespaces.hpp"

namespace bsonpipe::pipeline {
namespace {

TEST(Namespaces, FilterIncludesThenExcludes) {
  NsFilter f;
  EXPECT_TRUE(f.allows("anything.at_all"));
  ASSERT_TRUE(f.include("db1.*").is_ok());
  ASSERT_TRUE(f.include("db2.keep").is_ok());
  ASSERT_TRUE(f.exclude("db1.tmp*").is_ok());
  EXPECT_TRUE(f.allows("db1.users"));
  EXPECT_FALSE(f.allows("db1.tmp_1"));
  EXPECT_TRUE(f.allows("db2.keep"));
  EXPECT_FALSE(f.allows("db2.other"));
  EXPECT_FALSE(f.allows("db1x.users"));
}

TEST(Namespaces, ExcludesAloneKeepEverythingElse) {
  NsFilter f;
  ASSERT_TRUE(f.exclude("*.tmp_*").is_ok());
  EXPECT_TRUE(f.allows("shop.items"));
  EXPECT_FALSE(f.allows("shop.tmp_1"));
  EXPECT_FALSE(f.allows("a.b.tmp_x")) << "'*' spans dots";
}

TEST(Namespaces, EscapedNamesMatchOnlyThemselves) {
  for (std::string ns : {"a*b.c", R"(a\b.c*)", R"(x.\*)", "plain.name"}) {
    NsMatcher m;
    ASSERT_TRUE(m.add(escape_namespace_pattern(ns)).is_ok()) << ns;
    EXPECT_TRUE(m.has(ns)) << ns;
    EXPECT_FALSE(m.has(ns + "x")) << ns;
  }
}

TEST(Namespaces, ErrorsAreOneLineNamingThePattern) {
  Status s = check_namespace_flags({.include = {}, .exclude = {}, .from = {"shop.*"}, .to = {"shop_copy"}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "invalid rename: --nsFrom 'shop.*' --nsTo 'shop_copy': --nsFrom has 1 unescaped '*' and --nsTo has 0; "
            "they must have the same number");
  s = check_namespace_flags({.include = {"ok.*", "bad.$x$"}, .exclude = {}, .from = {}, .to = {}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "invalid --nsInclude pattern 'bad.$x$': '$' is not allowed in --nsInclude/--nsExclude patterns");
  s = check_namespace_flags({.include = {}, .exclude = {"$"}, .from = {}, .to = {}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("invalid --nsExclude pattern '$'"), std::string::npos) << s.message();
  s = check_namespace_flags({.include = {}, .exclude = {}, .from = {"a.*"}, .to = {}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "invalid rename: --nsFrom and --nsTo must be given the same number of times (1 --nsFrom, 0 --nsTo)");
  s = check_namespace_flags({.include = {}, .exclude = {}, .from = {"$db$.x"}, .to = {"$coll$.x"}});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "invalid rename: --nsFrom '$db$.x' --nsTo '$coll$.x': --nsTo: $coll$ is not a variable of the --nsFrom "
            "pattern");
  EXPECT_TRUE(check_namespace_flags({.include = {"a.*"}, .exclude = {"a.b"}, .from = {"a.*"}, .to = {"b.*"}}).is_ok());
}

TEST(Namespaces, PairsAreCheckedLastFirst) {
  // mongorestore builds its renamer from the last pair back: the last bad pair is reported.
  auto r = NsRenamer::create({"a.*", "b.*"}, {"x", "y"});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("--nsFrom 'b.*' --nsTo 'y'"), std::string::npos) << r.status().message();
}

TEST(Namespaces, ManyWildcardsOnALongNameStayPolynomial) {
  // Without remembering failed positions this is ~n^7 steps.
  NsMatcher m;
  ASSERT_TRUE(m.add("*a*a*a*a*a*a*a*b").is_ok());
  const std::string ns(200, 'a');
  EXPECT_FALSE(m.has(ns));
  EXPECT_TRUE(m.has(ns + "b"));
  auto r = NsRenamer::create({"*a*a*a*a*a*a*a*b"}, {"*.*.*.*.*.*.*.*"});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->rename(ns), ns);
  // Shortest first: seven empty captures before the last, which takes what is left.
  EXPECT_EQ(r->rename("aaaaaaaXb"), ".......X");
}

}  // namespace
}  // namespace bsonpipe::pipeline
