// bsonpipe verify --catalog ROOT --id ID|latest (real minimongod, real bsonpipe binary): the same
// as verifying ROOT/<id>; "latest" is the newest complete dump (a newer incomplete one is passed
// over, as restore --catalog does); with --against; an unknown id, an incomplete one and a
// catalog without a complete dump each give one line on stderr and exit 1; bad combinations of
// flags exit 2. Expected counts come from the documents inserted here, never from verify.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "formats/bson.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::bsonpipe;
using test::show;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) ++n;
  return n;
}

void insert_docs(io::Connection& c, const std::string& db, const std::string& coll, int from, int n) {
  formats::Bytes docs;
  for (int i = from; i < from + n; ++i) {
    auto d = formats::Builder().append_int32("_id", i).append_string("v", "doc " + std::to_string(i)).finish();
    docs.insert(docs.end(), d.begin(), d.end());
  }
  auto r = io::insert(c, db, coll, docs);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
}

// "2026-11-22T01-00-00Z" for a UTC time, computed with the C library.
std::string id_at(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H-%M-%SZ", &tm);
  return buf;
}

TEST(VerifyCatalog, IdAndLatestVerifyTheNamedDump) {
  test::MiniMongod server;
  auto c = test::connect(server.uri());
  ASSERT_TRUE(c);
  insert_docs(*c, "vc", "a", 0, 120);
  insert_docs(*c, "vc", "b", 0, 30);
  fs::path root = test::temp_dir("verify_catalog_id") / "cat";
  auto d1 = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(d1.exit_code, 0) << show(d1);
  insert_docs(*c, "vc", "a", 1000, 45);  // the second dump holds 45 more
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto d2 = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--gzip", "--progress", "none"});
  ASSERT_EQ(d2.exit_code, 0) << show(d2);
  const std::string id1 = trim(d1.out), id2 = trim(d2.out);
  ASSERT_NE(id1, id2);
  // A newer entry that never completed: not "latest".
  const auto later_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(1))
                            .count();
  const std::string incomplete = id_at(later_ms);
  fs::create_directories(root / incomplete / "vc");
  {
    formats::Manifest m;
    m.tool_version = "test";
    m.format = "directory";
    m.compression = "none";
    m.start_ms = later_ms;
    m.end_ms = later_ms;
    m.complete = false;
    std::ofstream(root / incomplete / "manifest.json") << formats::manifest_to_json(m);
  }

  // latest = the second dump: its path, its document count, recorded as verified.
  auto l = bsonpipe({"verify", "--catalog", root.string(), "--id", "latest"});
  EXPECT_EQ(l.exit_code, 0) << show(l);
  EXPECT_TRUE(contains(l.out, (root / id2).string())) << show(l);
  EXPECT_TRUE(contains(l.out, "195 document(s)")) << show(l);
  EXPECT_TRUE(fs::exists(root / ".verified" / (id2 + ".json"))) << show(l);
  EXPECT_FALSE(fs::exists(root / ".verified" / (id1 + ".json")));

  // By id: the first one, 150 documents.
  auto one = bsonpipe({"verify", "--catalog", root.string(), "--id", id1});
  EXPECT_EQ(one.exit_code, 0) << show(one);
  EXPECT_TRUE(contains(one.out, (root / id1).string())) << show(one);
  EXPECT_TRUE(contains(one.out, "150 document(s)")) << show(one);
  EXPECT_TRUE(fs::exists(root / ".verified" / (id1 + ".json")));
  // Same report as the long form.
  auto longform = bsonpipe({"verify", (root / id1).string()});
  EXPECT_EQ(longform.exit_code, 0) << show(longform);
  EXPECT_EQ(one.out, longform.out);

  // With --against: latest matches the server, the first dump differs on vc.a.
  auto al = bsonpipe({"verify", "--catalog", root.string(), "--id", "latest", "--against", server.uri()});
  EXPECT_EQ(al.exit_code, 0) << show(al);
  EXPECT_TRUE(contains(al.out, "2 namespace(s) compared, 2 equal, 0 differ")) << show(al);
  auto a1 = bsonpipe({"verify", "--catalog", root.string(), "--id", id1, "--against", server.uri()});
  EXPECT_EQ(a1.exit_code, 1) << show(a1);
  EXPECT_TRUE(contains(a1.out, "2 namespace(s) compared, 1 equal, 1 differ")) << show(a1);
  EXPECT_TRUE(contains(a1.out, "[vc.a]")) << show(a1);
  // A failed check takes the "verified" mark away again.
  EXPECT_FALSE(fs::exists(root / ".verified" / (id1 + ".json")));

  // Unknown id, incomplete id: one line each, exit 1, nothing checked.
  auto unknown = bsonpipe({"verify", "--catalog", root.string(), "--id", "2001-01-01T00-00-00Z"});
  EXPECT_EQ(unknown.exit_code, 1) << show(unknown);
  EXPECT_EQ(line_count(unknown.err), 1u) << show(unknown);
  EXPECT_TRUE(contains(unknown.err, "no dump with id 2001-01-01T00-00-00Z")) << show(unknown);
  EXPECT_EQ(unknown.out, "") << show(unknown);
  auto inc = bsonpipe({"verify", "--catalog", root.string(), "--id", incomplete});
  EXPECT_EQ(inc.exit_code, 1) << show(inc);
  EXPECT_EQ(line_count(inc.err), 1u) << show(inc);
  EXPECT_TRUE(contains(inc.err, incomplete + " is incomplete")) << show(inc);
  EXPECT_EQ(inc.out, "") << show(inc);
}

TEST(VerifyCatalog, NoCompleteDumpAndUsageErrors) {
  fs::path root = test::temp_dir("verify_catalog_none") / "cat";
  fs::create_directories(root / "2026-01-01T00-00-00Z.partial");
  auto none = bsonpipe({"verify", "--catalog", root.string(), "--id", "latest"});
  EXPECT_EQ(none.exit_code, 1) << show(none);
  EXPECT_EQ(line_count(none.err), 1u) << show(none);
  EXPECT_TRUE(contains(none.err, "has no complete dump")) << show(none);
  auto missing_root = bsonpipe({"verify", "--catalog", (root / "nope").string(), "--id", "latest"});
  EXPECT_EQ(missing_root.exit_code, 1) << show(missing_root);
  EXPECT_EQ(line_count(missing_root.err), 1u) << show(missing_root);

  auto id_only = bsonpipe({"verify", "--id", "latest"});
  EXPECT_EQ(id_only.exit_code, 2) << show(id_only);
  auto cat_only = bsonpipe({"verify", "--catalog", root.string()});
  EXPECT_EQ(cat_only.exit_code, 2) << show(cat_only);
  auto both = bsonpipe({"verify", "--catalog", root.string(), "--id", "latest", "somedir"});
  EXPECT_EQ(both.exit_code, 2) << show(both);
  auto with_archive = bsonpipe({"verify", "--catalog", root.string(), "--id", "latest", "--archive", "x"});
  EXPECT_EQ(with_archive.exit_code, 2) << show(with_archive);

  auto help = bsonpipe({"verify", "--help"});
  EXPECT_EQ(help.exit_code, 0) << show(help);
  EXPECT_TRUE(contains(help.out, "--catalog")) << help.out;
  EXPECT_TRUE(contains(help.out, "bsonpipe verify --catalog /backup/db1 --id latest")) << help.out;
}

}  // namespace
}  // namespace bsonpipe
