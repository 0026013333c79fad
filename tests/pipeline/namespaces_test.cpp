// mongorestore's namespace pattern rules: wildcards, escapes, $var$ renaming.
#include <gtest/gtest.h>

#include "pipeline/namespaces.hpp"

namespace bsonpipe::pipeline {
namespace {

TEST(Namespaces, WildcardsAndEscapes) {
  auto p = NsPattern::compile("test.*");
  ASSERT_TRUE(p.is_ok());
  EXPECT_TRUE(p->match("test.foo"));
  EXPECT_TRUE(p->match("test.foo.bar"));
  EXPECT_FALSE(p->match("testx.foo"));
  EXPECT_FALSE(p->match("other.foo"));
  auto lit = NsPattern::compile("a\\*b.c");
  ASSERT_TRUE(lit.is_ok());
  EXPECT_TRUE(lit->match("a*b.c"));
  EXPECT_FALSE(lit->match("axb.c"));
  EXPECT_FALSE(NsPattern::compile("bad\\").is_ok());
  EXPECT_FALSE(NsPattern::compile("a.$unclosed").is_ok());
}

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
}

TEST(Namespaces, RenameWithVariables) {
  NsRenamer r;
  ASSERT_TRUE(r.add("$db$.events_$year$", "archive_$year$.$db$_events").is_ok());
  ASSERT_TRUE(r.add("src.*", "dst.fixed").is_ok()) << "a rule without variables";
  EXPECT_EQ(*r.rename("shop.events_2025"), "archive_2025.shop_events");
  EXPECT_EQ(*r.rename("untouched.coll"), "untouched.coll");
  EXPECT_EQ(*r.rename("src.x"), "dst.fixed");
  NsRenamer bad;
  EXPECT_FALSE(bad.add("src.*", "dst.*").is_ok()) << "'*' cannot be expanded in --nsTo";
  EXPECT_FALSE(bad.add("$a$.x", "$b$.x").is_ok());
}

}  // namespace
}  // namespace bsonpipe::pipeline
