// Every case of mongorestore's namespace tables (mongo-tools mongorestore/ns/ns_test.go: TestEscape,
// TestUnescape, TestReplacer, TestMatcher), plus cases worked out by hand from the rules in
// mongorestore/ns/ns.go (marked "ns.go rule"), run against pipeline/core/namespaces.hpp.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "pipeline/core/namespaces.hpp"

namespace bsonpipe::pipeline {
namespace {

using Strings = std::vector<std::string>;

// --- adapters: the only place that knows the API shape ---

Result<NsRenamer> make_renamer(const Strings& from, const Strings& to) {
  return NsRenamer::create(from, to);
}
std::string renamed(const NsRenamer& r, const std::string& ns) {
  return r.rename(ns);
}
Result<NsMatcher> make_matcher(const Strings& patterns) {
  return NsMatcher::create(patterns);
}
bool has(const NsMatcher& m, const std::string& ns) {
  return m.has(ns);
}

// --- renamer ---

struct RenameCase {
  const char* source;  // where the case comes from
  Strings from, to;
  std::vector<std::pair<std::string, std::string>> expect;  // namespace -> renamed
};

const std::vector<RenameCase>& rename_cases() {
  static const std::vector<RenameCase> cases = {
      {"ns_test.go TestReplacer: '$db$.user$$' -> 'test.user$$_$db$', 'pr\\*d\\.*' -> 'st\\*g\\\\ing.*'",
       {"$db$.user$$", R"(pr\*d\\.*)"},
       {"test.user$$_$db$", R"(st\*g\\ing.*)"},
       {{"stuff.user", "test.user_stuff"},
        {"stuff.users", "test.users_stuff"},
        {R"(pr*d\.users)", R"(st*g\ing.users)"},
        {R"(pr*d\.turbo.encabulators)", R"(st*g\ing.turbo.encabulators)"},
        {R"(st*g\ing.turbo.encabulators)", R"(st*g\ing.turbo.encabulators)"}}},
      {"ns_test.go TestReplacer: '$:)*$.us(?:2)er$?$' -> 'test.us(?:2)er$?$_$:)*$'",
       {"$:)*$.us(?:2)er$?$"},
       {"test.us(?:2)er$?$_$:)*$"},
       {{"stuff.us(?:2)er", "test.us(?:2)er_stuff"}, {"stuff.us(?:2)ers", "test.us(?:2)ers_stuff"}}},
      {"ns_test.go TestReplacer: '*.*' -> '*_test.*'",
       {"*.*"},
       {"*_test.*"},
       {{"stuff.user", "stuff_test.user"},
        {"stuff.users", "stuff_test.users"},
        {"prod.turbo.encabulators", "prod_test.turbo.encabulators"}}},
      {"ns_test.go TestReplacer: special characters",
       {"restaurants.cafés", "ÿœz.tāx", "normal.characters"},
       {"ÿœp.tāx", "yes.tax", "special.charâctęrs"},
       {{"restaurants.cafés", "ÿœp.tāx"}, {"ÿœz.tāx", "yes.tax"}, {"normal.characters", "special.charâctęrs"}}},
      // ns.go rule: a namespace no pair matches keeps its name.
      {"ns.go rule: unmatched namespaces are left alone",
       {"shop.*"},
       {"shop_copy.*"},
       {{"shop.items", "shop_copy.items"}, {"shop.a.b", "shop_copy.a.b"}, {"shopx.items", "shopx.items"}}},
      // ns.go rule: pairs are tried last to first (NewRenamer reverses them), so the last match wins.
      {"ns.go rule: the last matching pair wins", {"a.*", "a.b"}, {"x.*", "y.b"}, {{"a.b", "y.b"}, {"a.c", "x.c"}}},
      {"ns.go rule: the last matching pair wins (general pair given last)",
       {"a.b", "a.*"},
       {"y.b", "x.*"},
       {{"a.b", "x.b"}, {"a.c", "x.c"}}},
      // ns.go rule: variables are non-greedy, tried left to right.
      {"ns.go rule: $vars$ are shortest-first and may span dots",
       {"$db$.$coll$"},
       {"$coll$.$db$"},
       {{"a.b", "b.a"}, {"a.b.c", "b.c.a"}}},
      {"ns.go rule: '*_*' -> '*-*' splits at the first '_'", {"*_*"}, {"*-*"}, {{"a_b_c", "a-b_c"}}},
      // ns.go rule: the stars become $1$, $2$, ...: a leading star is $1$, the others count from
      // the right end (replaceWildCards' regular expression tries its empty alternative first).
      {"ns.go rule: a leading '*' is $1$", {"*.*"}, {"*-*.$1$"}, {{"shop.items", "shop-items.shop"}}},
      {"ns.go rule: without a leading '*' the last star is $1$", {"a.*.*"}, {"b.*.*.$1$"}, {{"a.x.y", "b.x.y.y"}}},
      {"ns.go rule: stars that line up pair left to right", {"db.*_*"}, {"db2.*-*"}, {{"db.a_b", "db2.a-b"}}},
      {"ns.go rule (mongorestore quirk): a leading star on one side only pairs the stars crosswise",
       {"a*.*"},
       {"*.*"},
       {{"ab.c", "c.b"}}},
      // ns.go rule: with a '$' in --nsFrom, '*' and '\' are ordinary characters on both sides.
      {"ns.go rule: '*' is literal when --nsFrom has $vars$",
       {R"($db$.a*\b)"},
       {"x_$db$.*"},
       {{R"(q.a*\b)", "x_q.*"}, {"q.axb", "q.axb"}}},
      // ns.go rule: '\*' and '\\' escape; a '*' right after a backslash is never a wildcard.
      {"ns.go rule: escaped star", {R"(a\*b.*)"}, {"c.*"}, {{"a*b.x", "c.x"}, {"axb.x", "axb.x"}}},
      {"ns.go rule: '\\\\*' is a literal backslash and a literal star",
       {R"(a\\*.x)"},
       {"b.x"},
       {{R"(a\*.x)", "b.x"}, {R"(a\zz.x)", R"(a\zz.x)"}}},
      {"ns.go rule: a backslash before another character is dropped", {R"(a\b.*)"}, {R"(c\d.*)"}, {{"ab.x", "cd.x"}}},
      {"ns.go rule: an empty $$ variable name is a variable", {"$$.x"}, {"y.$$"}, {{"abc.x", "y.abc"}}},
  };
  return cases;
}

TEST(NsTable, Renamer) {
  for (const auto& c : rename_cases()) {
    SCOPED_TRACE(c.source);
    auto r = make_renamer(c.from, c.to);
    if (!r.is_ok()) {
      ADD_FAILURE() << "refused: " << r.status().to_string();
      continue;
    }
    for (const auto& [ns, want] : c.expect) EXPECT_EQ(renamed(*r, ns), want) << "renaming " << ns;
  }
}

struct BadRename {
  const char* source;
  Strings from, to;
};

TEST(NsTable, RenamerRefuses) {
  const std::vector<BadRename> cases = {
      {"ns_test.go TestReplacer invalid: '$db$.user$db$' -> 'test.user-$db$'", {"$db$.user$db$"}, {"test.user-$db$"}},
      {"ns_test.go TestReplacer invalid: '$db$.us$er$table$' -> 'test.user$table$_$db$'",
       {"$db$.us$er$table$"},
       {"test.user$table$_$db$"}},
      {"ns.go rule: different number of asterisks", {"shop.*"}, {"shop_copy"}},
      {"ns.go rule: different number of asterisks (2 vs 1)", {"*.*"}, {"*_test"}},
      {"ns.go rule: an escaped star does not count", {"shop.*"}, {R"(shop\*.x)"}},
      {"ns.go rule: different number of froms and tos", {"a.*", "b.*"}, {"c.*"}},
      {"ns.go rule: unknown variable in --nsTo", {"$a$.x"}, {"$b$.x"}},
      {"ns.go rule: unknown variable in --nsTo when --nsFrom has only '*'", {"a.*"}, {"$x$.*"}},
      {"ns.go rule: odd number of '$' in --nsTo", {"$a$.x"}, {"$a$.$x"}},
      {"ns.go rule: odd number of '$' in --nsFrom", {"$a$.x$"}, {"$a$.x"}},
      {"ns.go rule: stray '$' in --nsTo when --nsFrom has only '*'", {"a.*"}, {"*.x$"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.source);
    auto r = make_renamer(c.from, c.to);
    EXPECT_FALSE(r.is_ok());
  }
}

// --- matcher (--nsInclude / --nsExclude) ---

struct MatchCase {
  const char* source;
  Strings patterns;
  std::vector<std::pair<std::string, bool>> expect;
};

TEST(NsTable, Matcher) {
  const std::vector<MatchCase> cases = {
      {"ns_test.go TestMatcher: '*.user*', 'pr\\*d\\.*'",
       {"*.user*", R"(pr\*d\.*)"},
       {{"stuff.user", true},
        {"stuff.users", true},
        {"pr*d.users", true},
        {"pr*d.magic", true},
        {R"(pr*d\.magic)", false},
        {"prod.magic", false},
        {"pr*d.turbo.encabulators", true},
        {"st*ging.turbo.encabulators", false}}},
      {"ns_test.go TestMatcher: '*.*'",
       {"*.*"},
       {{"stuff", false}, {"stuff.user", true}, {"stuff.users", true}, {"prod.turbo.encabulators", true}}},
      {"ns_test.go TestMatcher: special characters",
       {"restaurants.cafés", "ÿœp.tāx"},
       {{"restaurants.cafés", true}, {"ÿœp.tāx", true}, {"restaurants.cafes", false}}},  // the last case is ours
      // ns_test.go TestUnescape, as exact patterns: Unescape(pattern) is the one name it matches.
      {"ns_test.go TestUnescape: '(blah)'", {"(blah)"}, {{"(blah)", true}, {"blah", false}}},
      {"ns_test.go TestUnescape: 'bl\\*h\\*\\\\\\\\'",
       {R"(bl\*h\*\\\\)"},
       {{R"(bl*h*\\)", true}, {R"(blah\\)", false}}},
      {"ns_test.go TestUnescape: 'blah\\*\\*'", {R"(blah\*\*)"}, {{"blah**", true}, {"blahxy", false}}},
      {"ns.go rule: '*' alone matches everything", {"*"}, {{"a.b", true}, {"x.y.z", true}}},
      {"ns.go rule: regex characters are literal", {"a.b+c"}, {{"a.b+c", true}, {"axbbc", false}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.source);
    auto m = make_matcher(c.patterns);
    if (!m.is_ok()) {
      ADD_FAILURE() << "refused: " << m.status().to_string();
      continue;
    }
    for (const auto& [ns, want] : c.expect) EXPECT_EQ(has(*m, ns), want) << "matching " << ns;
  }
}

TEST(NsTable, MatcherRefuses) {
  // ns_test.go TestMatcher invalid: '$.user$' and '*.user$'; ns.go rule: any '$', escaped or not.
  for (const char* p : {"$.user$", "*.user$", R"(a.\$b)"}) {
    SCOPED_TRACE(p);
    EXPECT_FALSE(make_matcher({p}).is_ok());
  }
}

// ns_test.go TestEscape.
TEST(NsTable, Escape) {
  EXPECT_EQ(escape_namespace_pattern("(blah)"), "(blah)");
  EXPECT_EQ(escape_namespace_pattern(""), "");
  EXPECT_EQ(escape_namespace_pattern(R"(bl*h*\\)"), R"(bl\*h\*\\\\)");
  EXPECT_EQ(escape_namespace_pattern("blah**"), R"(blah\*\*)");
}

}  // namespace
}  // namespace bsonpipe::pipeline
