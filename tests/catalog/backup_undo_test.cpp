// Undoing `restore --backup-first ROOT` (real minimongod, real bsonpipe binary): the backup
// records the target namespaces the restore was about to create ("absentNamespaces" in its
// manifest), and the undo printed by the restore (restore --catalog ROOT --id ID --drop) brings the
// replaced namespaces back document for document and drops the created ones. Also: --dryRun and a
// restore without --drop drop nothing, an ordinary catalog dump records no list, a backup whose
// manifest has no list (older bsonpipe) still restores, and a malformed list is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "formats/bson.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Bytes;
using test::bsonpipe;
using test::connect;
using test::show;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The documents inserted by the tests, built here: {_id: i, v: "<tag> i", n: i * 7}.
std::vector<Bytes> make_docs(const std::string& tag, int from, int n) {
  std::vector<Bytes> out;
  for (int i = from; i < from + n; ++i)
    out.push_back(formats::Builder()
                      .append_int32("_id", i)
                      .append_string("v", tag + " " + std::to_string(i))
                      .append_int64("n", static_cast<std::int64_t>(i) * 7)
                      .finish());
  return out;
}

void insert(io::Connection& c, const std::string& db, const std::string& coll, const std::vector<Bytes>& docs) {
  Bytes all;
  for (const auto& d : docs) all.insert(all.end(), d.begin(), d.end());
  auto r = io::insert(c, db, coll, all);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  ASSERT_TRUE(r->ok());
}

// db.coll's documents on the server as a sorted list of their bytes (content, not just count).
std::vector<Bytes> contents(io::Connection& c, const std::string& db, const std::string& coll) {
  auto docs = test::server_documents(c, db, coll);
  std::sort(docs.begin(), docs.end());
  return docs;
}

std::vector<Bytes> sorted(std::vector<Bytes> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::set<std::string> collections(io::Connection& c, const std::string& db) {
  std::set<std::string> out;
  auto l = io::list_collections(c, db);
  EXPECT_TRUE(l.is_ok()) << l.error().to_string();
  if (l)
    for (const auto& i : *l) out.insert(i.name);
  return out;
}

boost::json::object manifest_json(const fs::path& dump) {
  auto text = test::read_text(dump / "manifest.json");
  boost::json::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// The undo command the restore printed ("... undo with: bsonpipe restore ..."), as arguments
// after "bsonpipe" (the test paths and URIs hold no characters that need shell quoting).
std::vector<std::string> printed_undo(const std::string& err) {
  auto hits = lines_with(err, "undo with: ");
  EXPECT_EQ(hits.size(), 1u) << err;
  if (hits.empty()) return {};
  std::istringstream in(hits[0].substr(hits[0].find("undo with: ") + 11));
  std::vector<std::string> args;
  std::string w;
  while (in >> w) args.push_back(w);
  EXPECT_GE(args.size(), 2u);
  if (args.empty() || args[0] != "bsonpipe") {
    ADD_FAILURE() << "not a bsonpipe command: " << hits[0];
    return {};
  }
  args.erase(args.begin());
  return args;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(BackupFirstUndo, BringsTheTargetBackExactlyAndDropsWhatTheRestoreCreated) {
  fs::path tmp = test::temp_dir("backup_undo");
  // The dump to restore: a.x with 5 documents, a.y (new to the target) with 4.
  test::MiniMongod other;
  auto o = connect(other.uri());
  ASSERT_TRUE(o);
  const auto new_x = make_docs("new", 100, 5);
  const auto new_y = make_docs("why", 0, 4);
  insert(*o, "a", "x", new_x);
  insert(*o, "a", "y", new_y);
  fs::path dump = tmp / "new";
  auto d = bsonpipe({"dump", "--uri", other.uri(), "--db", "a", "--out", dump.string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);

  // The target: a.x with 3 documents, and a.keep, which the restore does not touch.
  test::MiniMongod live;
  auto c = connect(live.uri());
  ASSERT_TRUE(c);
  const auto old_x = make_docs("old", 0, 3);
  const auto keep = make_docs("keep", 0, 2);
  insert(*c, "a", "x", old_x);
  insert(*c, "a", "keep", keep);
  ASSERT_EQ(collections(*c, "a"), (std::set<std::string>{"x", "keep"}));
  fs::path root = tmp / "cat";

  const mode_t old_umask = ::umask(022);  // the child inherits a permissive umask
  auto r = bsonpipe(
      {"restore", "--uri", live.uri(), dump.string(), "--drop", "--backup-first", root.string(), "--progress", "none"});
  ::umask(old_umask);
  ASSERT_EQ(r.exit_code, 0) << show(r);
  const std::string id = trim(r.out);
  ASSERT_TRUE(fs::is_directory(root / id)) << show(r);
  // The restore did its job: the undo below has something to undo.
  ASSERT_EQ(contents(*c, "a", "x"), sorted(new_x));
  ASSERT_EQ(contents(*c, "a", "y"), sorted(new_y));

  // The backup: a.x's old documents; a.y listed as absent, in a manifest that stays readable,
  // with "complete" still last.
  auto m = manifest_json(root / id);
  ASSERT_TRUE(m.contains("absentNamespaces")) << test::read_text(root / id / "manifest.json");
  auto& absent = m["absentNamespaces"].as_array();
  ASSERT_EQ(absent.size(), 1u);
  EXPECT_EQ(absent[0].as_string(), "a.y");
  EXPECT_EQ(m["complete"].as_bool(), true);
  EXPECT_EQ(std::prev(m.end())->key(), "complete");
  auto parsed = formats::manifest_from_json(test::read_text(root / id / "manifest.json"));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  std::set<std::string> backed_up;
  for (const auto& f : parsed->files)
    if (!f.ns.empty()) backed_up.insert(f.ns);
  EXPECT_EQ(backed_up, (std::set<std::string>{"a.x"}));
  auto info = bsonpipe({"catalog", "info", root.string(), id});
  ASSERT_EQ(info.exit_code, 0) << show(info);
  EXPECT_EQ(lines_with(info.out, "a.y").size(), 1u) << info.out;
  // Owner-only, as dump writes by default (whatever this process's umask), the rewritten
  // manifest included.
  EXPECT_EQ(mode_of(root / id), 0700u);
  EXPECT_EQ(mode_of(root / id / "manifest.json"), 0600u);
  EXPECT_EQ(mode_of(root / id / "a" / "x.bson"), 0600u);
  // The backup verifies (the manifest rewritten with the list still matches its files).
  auto v = bsonpipe({"verify", (root / id).string()});
  EXPECT_EQ(v.exit_code, 0) << show(v);

  // The printed undo is an exact command: the target's URI, the catalog, the id, --drop.
  auto undo = printed_undo(r.err);
  ASSERT_FALSE(undo.empty()) << show(r);
  EXPECT_EQ(undo, (std::vector<std::string>{"restore", "--uri", live.uri(), "--catalog",
                                            fs::absolute(root).lexically_normal().string(), "--id", id, "--drop"}))
      << r.err;

  // --dryRun says what it would drop and drops nothing.
  auto dry = bsonpipe(plus(undo, {"--dryRun", "--progress", "none"}));
  ASSERT_EQ(dry.exit_code, 0) << show(dry);
  EXPECT_EQ(lines_with(dry.err, "would drop a.y").size(), 1u) << show(dry);
  EXPECT_EQ(contents(*c, "a", "y"), sorted(new_y));

  // The undo.
  auto u = bsonpipe(plus(undo, {"--progress", "none"}));
  ASSERT_EQ(u.exit_code, 0) << show(u);
  EXPECT_EQ(lines_with(u.err, "dropped a.y").size(), 1u) << show(u);
  EXPECT_EQ(contents(*c, "a", "x"), sorted(old_x));
  EXPECT_EQ(contents(*c, "a", "keep"), sorted(keep));
  EXPECT_EQ(collections(*c, "a"), (std::set<std::string>{"x", "keep"}));

  // Again: nothing left to drop, not an error.
  auto again = bsonpipe(plus(undo, {"--progress", "none"}));
  ASSERT_EQ(again.exit_code, 0) << show(again);
  EXPECT_EQ(lines_with(again.err, "dropped a.y").size(), 0u) << show(again);
  EXPECT_EQ(lines_with(again.err, "a.y").size(), 1u) << show(again);
  EXPECT_EQ(contents(*c, "a", "x"), sorted(old_x));

  // An ordinary catalog dump records no list.
  auto plain = bsonpipe({"dump", "--uri", live.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(plain.exit_code, 0) << show(plain);
  auto pm = manifest_json(root / trim(plain.out));
  EXPECT_EQ(pm["complete"].as_bool(), true);
  EXPECT_FALSE(pm.contains("absentNamespaces")) << test::read_text(root / trim(plain.out) / "manifest.json");
}

TEST(BackupFirstUndo, WithoutDropNothingIsDroppedAndOldBackupsStillRestore) {
  fs::path tmp = test::temp_dir("backup_undo_old");
  test::MiniMongod other;
  auto o = connect(other.uri());
  ASSERT_TRUE(o);
  insert(*o, "a", "x", make_docs("new", 100, 5));
  insert(*o, "a", "y", make_docs("why", 0, 4));
  fs::path dump = tmp / "new";
  auto d = bsonpipe({"dump", "--uri", other.uri(), "--out", dump.string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);

  test::MiniMongod live;
  auto c = connect(live.uri());
  ASSERT_TRUE(c);
  const auto old_x = make_docs("old", 0, 3);
  insert(*c, "a", "x", old_x);
  fs::path root = tmp / "cat";
  auto r = bsonpipe(
      {"restore", "--uri", live.uri(), dump.string(), "--drop", "--backup-first", root.string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  const std::string id = trim(r.out);

  // Without --drop: one line says the recorded namespaces are not dropped; a.y stays.
  auto nodrop =
      bsonpipe({"restore", "--uri", live.uri(), "--catalog", root.string(), "--id", id, "--progress", "none"});
  ASSERT_EQ(nodrop.exit_code, 0) << show(nodrop);
  EXPECT_EQ(lines_with(nodrop.err, "not dropped").size(), 1u) << show(nodrop);
  EXPECT_EQ(test::server_documents(*c, "a", "y").size(), 4u);

  // A manifest without the list (as written before it existed): restores, drops nothing.
  fs::path mp = root / id / "manifest.json";
  const std::string with_list = test::read_text(mp);
  auto m = formats::manifest_from_json(with_list);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  std::ofstream(mp, std::ios::trunc) << formats::manifest_to_json(*m);
  ASSERT_EQ(test::read_text(mp).find("absentNamespaces"), std::string::npos);
  auto old = bsonpipe(
      {"restore", "--uri", live.uri(), "--catalog", root.string(), "--id", id, "--drop", "--progress", "none"});
  ASSERT_EQ(old.exit_code, 0) << show(old);
  EXPECT_EQ(lines_with(old.err, "a.y").size(), 0u) << show(old);
  EXPECT_EQ(contents(*c, "a", "x"), sorted(old_x));
  EXPECT_EQ(test::server_documents(*c, "a", "y").size(), 4u);

  // A malformed list: the entry is not a complete backup, and restoring it is refused in one line.
  std::string bad = with_list;
  auto pos = bad.find("\"a.y\"");
  ASSERT_NE(pos, std::string::npos) << bad;
  bad.replace(pos, 5, "42");
  std::ofstream(mp, std::ios::trunc) << bad;
  auto refused = bsonpipe(
      {"restore", "--uri", live.uri(), "--catalog", root.string(), "--id", id, "--drop", "--progress", "none"});
  EXPECT_EQ(refused.exit_code, 1) << show(refused);
  EXPECT_EQ(lines_with(refused.err, "absentNamespaces").size(), 1u) << show(refused);
  EXPECT_EQ(test::server_documents(*c, "a", "y").size(), 4u);
}

TEST(BackupFirstUndo, EveryTargetNewBackupHoldsNothingAndTheUndoDropsThemAll) {
  fs::path tmp = test::temp_dir("backup_undo_new");
  test::MiniMongod other;
  auto o = connect(other.uri());
  ASSERT_TRUE(o);
  insert(*o, "fresh", "p", make_docs("p", 0, 3));
  insert(*o, "fresh", "q", make_docs("q", 0, 2));
  fs::path dump = tmp / "new";
  auto d = bsonpipe({"dump", "--uri", other.uri(), "--out", dump.string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);

  test::MiniMongod live;
  auto c = connect(live.uri());
  ASSERT_TRUE(c);
  insert(*c, "other", "k", make_docs("k", 0, 2));
  fs::path root = tmp / "cat";
  auto r = bsonpipe(
      {"restore", "--uri", live.uri(), dump.string(), "--drop", "--backup-first", root.string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_EQ(collections(*c, "fresh"), (std::set<std::string>{"p", "q"}));
  auto m = manifest_json(root / trim(r.out));
  ASSERT_TRUE(m.contains("absentNamespaces"));
  auto& absent = m["absentNamespaces"].as_array();
  ASSERT_EQ(absent.size(), 2u);
  EXPECT_EQ(absent[0].as_string(), "fresh.p");
  EXPECT_EQ(absent[1].as_string(), "fresh.q");

  auto undo = printed_undo(r.err);
  ASSERT_FALSE(undo.empty()) << show(r);
  // A partial undo (--nsInclude) drops only what it selects.
  auto part = bsonpipe(plus(undo, {"--nsInclude", "fresh.p", "--progress", "none"}));
  ASSERT_EQ(part.exit_code, 0) << show(part);
  EXPECT_EQ(lines_with(part.err, "dropped fresh.p").size(), 1u) << show(part);
  EXPECT_EQ(lines_with(part.err, "fresh.q").size(), 0u) << show(part);
  EXPECT_EQ(collections(*c, "fresh"), (std::set<std::string>{"q"}));
  // With --nsFrom/--nsTo the recorded names are not this restore's targets: nothing is dropped.
  auto renamed = bsonpipe(plus(undo, {"--nsFrom", "fresh.$c$", "--nsTo", "elsewhere.$c$", "--progress", "none"}));
  ASSERT_EQ(renamed.exit_code, 0) << show(renamed);
  EXPECT_EQ(lines_with(renamed.err, "not dropped").size(), 1u) << show(renamed);
  EXPECT_EQ(collections(*c, "fresh"), (std::set<std::string>{"q"}));
  // The whole undo.
  auto u = bsonpipe(plus(undo, {"--progress", "none"}));
  ASSERT_EQ(u.exit_code, 0) << show(u);
  EXPECT_EQ(lines_with(u.err, "dropped fresh.q").size(), 1u) << show(u);
  EXPECT_EQ(lines_with(u.err, "fresh.p").size(), 1u) << show(u);  // already gone: said, not an error
  EXPECT_EQ(lines_with(u.err, "dropped fresh.p").size(), 0u) << show(u);
  EXPECT_EQ(collections(*c, "fresh"), std::set<std::string>{});
  EXPECT_EQ(test::server_documents(*c, "other", "k").size(), 2u);

  // The help says so.
  auto help = bsonpipe({"restore", "--help"});
  ASSERT_EQ(help.exit_code, 0) << show(help);
  EXPECT_EQ(lines_with(help.out, "--catalog /backup/db1 --id ID --drop     # the undo").size(), 1u) << help.out;
  auto chelp = bsonpipe({"catalog", "--help"});
  ASSERT_EQ(chelp.exit_code, 0) << show(chelp);
  EXPECT_EQ(lines_with(chelp.out, "absentNamespaces").size(), 1u) << chelp.out;
}

}  // namespace
}  // namespace bsonpipe
