// The catalog of nightly dumps against a real minimongod and the real bsonpipe binary:
// dump --catalog (ids, same-second suffix, the lock), catalog list/info/remove/prune (GFS
// retention over fabricated entries at chosen times), restore --catalog --id, restore
// --backup-first, and bundled files (--include-path / --restore-paths).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "formats/manifest.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::bsonpipe;
using test::connect;
using test::server_digest;
using test::show;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-22T01-00-00Z" computed here with the C library (not with the code under test).
std::string id_at(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H-%M-%SZ", &tm);
  return buf;
}

// Milliseconds of a UTC date and time.
std::int64_t utc(int y, int mo, int d, int h = 1, int mi = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

std::set<std::string> dir_names(const fs::path& root) {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string()[0] != '.') out.insert(e.path().filename().string());
  return out;
}

std::uint64_t tree_bytes(const fs::path& dir) {
  std::uint64_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && !e.is_symlink()) n += e.file_size();
  return n;
}

// A fabricated catalog entry: ROOT/<id>/ with a manifest whose start time is `ms`.
void fabricate(const fs::path& root, const std::string& name, std::int64_t ms, bool complete) {
  fs::create_directories(root / name);
  formats::Manifest m;
  m.tool_version = "test";
  m.source = "mongodb://fabricated/";
  m.format = "directory";
  m.compression = "none";
  m.start_ms = ms;
  m.end_ms = ms + 1000;
  m.files.push_back({"db/c.bson", "db.c", "data", 3, 100, 100, std::string(32, '0')});
  m.complete = complete;
  std::ofstream(root / name / "manifest.json") << formats::manifest_to_json(m);
  std::ofstream(root / name / "db.c.bson") << std::string(100, 'x');
}

boost::json::object parse_json(const std::string& text) {
  boost::json::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << "not JSON: " << text;
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

// ---- dump --catalog and catalog list ------------------------------------------------------------

TEST(CatalogDump, TwoDumpsListedNewestFirstWithFields) {
  test::MiniMongod server({"--generate", "shop.orders:300:200", "--generate", "shop.users:50:100"});
  fs::path root = test::temp_dir("catalog_two") / "cat";
  auto a = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(a.exit_code, 0) << show(a);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a later second: no suffix needed
  auto b = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--progress", "none", "--gzip"});
  ASSERT_EQ(b.exit_code, 0) << show(b);
  std::string id1 = trim(a.out), id2 = trim(b.out);
  ASSERT_TRUE(pipeline::parse_catalog_id(id1)) << id1;
  ASSERT_TRUE(pipeline::parse_catalog_id(id2)) << id2;
  EXPECT_LT(id1, id2);
  EXPECT_EQ(dir_names(root), (std::set<std::string>{id1, id2}));
  EXPECT_TRUE(fs::exists(root / id2 / "shop" / "orders.bson.gz"));
  EXPECT_TRUE(fs::exists(root / id1 / "manifest.json"));

  auto l = bsonpipe({"catalog", "list", root.string(), "--json"});
  ASSERT_EQ(l.exit_code, 0) << show(l);
  auto doc = parse_json(l.out);
  auto& entries = doc["entries"].as_array();
  ASSERT_EQ(entries.size(), 2u) << l.out;
  const std::string ids[] = {id2, id1};
  for (std::size_t i = 0; i < 2; ++i) {
    auto& e = entries[i].as_object();
    EXPECT_EQ(e["id"].as_string(), ids[i]);
    EXPECT_EQ(e["status"].as_string(), "complete");
    EXPECT_EQ(e["complete"].as_bool(), true);
    EXPECT_EQ(e["namespaces"].to_number<int>(), 2);
    EXPECT_EQ(e["sizeBytes"].to_number<std::uint64_t>(), tree_bytes(root / ids[i]));
    EXPECT_NE(std::string(e["source"].as_string()).find("127.0.0.1:" + std::to_string(server.port())),
              std::string::npos);
  }
  // Times: the dumps' start, in the second their ids name.
  std::string time2(entries[0].as_object()["time"].as_string());
  EXPECT_EQ(time2.substr(0, 10), id2.substr(0, 10));
  EXPECT_EQ(id_at(entries[0].as_object()["timeMs"].to_number<std::int64_t>()), id2.substr(0, 20));

  auto t = bsonpipe({"catalog", "list", root.string()});
  ASSERT_EQ(t.exit_code, 0) << show(t);
  auto first_row = t.out.find('\n') + 1;
  EXPECT_EQ(t.out.substr(first_row, id2.size()), id2) << t.out;
  EXPECT_NE(t.out.find("complete"), std::string::npos);

  auto info = bsonpipe({"catalog", "info", root.string(), id1});
  ASSERT_EQ(info.exit_code, 0) << show(info);
  EXPECT_NE(info.out.find("shop.orders"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("300 documents"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("50 documents"), std::string::npos) << info.out;
  auto missing = bsonpipe({"catalog", "info", root.string(), "2001-01-01T00-00-00Z"});
  EXPECT_EQ(missing.exit_code, 1) << show(missing);
}

TEST(CatalogDump, SameSecondGetsASuffixNeverOverwrites) {
  test::MiniMongod server({"--generate", "t.c:20:50"});
  fs::path root = test::temp_dir("catalog_suffix") / "cat";
  // Ids of this second and the next few are taken already (one complete, the others staged).
  std::int64_t t0 = now_ms();
  fabricate(root, id_at(t0), t0, true);
  for (int s = 1; s <= 8; ++s) fs::create_directories(root / (id_at(t0 + s * 1000) + ".partial"));
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::string id = trim(r.out);
  ASSERT_GE(id.size(), 22u) << id;
  EXPECT_EQ(id.substr(20), "-1") << id;
  EXPECT_TRUE(fs::exists(root / id / "t" / "c.bson"));
  // The fabricated entry is untouched.
  EXPECT_EQ(test::read_text(root / id_at(t0) / "db.c.bson"), std::string(100, 'x'));
}

TEST(CatalogLock, SecondDumpFailsNamingTheHolder) {
  // The premise is made, not hoped for: the server holds the first dump's first find
  // (--fault-gate) until the second dump has run, so the first holds the lock all that time (a
  // delay per command was not enough on a loaded machine: the first dump could end before the
  // second started).
  test::MiniMongod slow({"--generate", "t.c:50:50", "--generate", "t.d:50:50", "--fault-gate"});
  test::MiniMongod fast({"--generate", "t.c:10:50"});
  fs::path root = test::temp_dir("catalog_lock") / "cat";
  test::gate_arm(slow.uri(), "find", "", 0);
  test::RunResult first;
  std::thread t([&] {
    first = bsonpipe({"dump", "--uri", slow.uri(), "--catalog", root.string(), "--progress", "none"});
  });
  // Wait until the first dump holds the lock and has named its dump.
  std::optional<pipeline::CatalogLockHolder> holder;
  for (int i = 0; i < 400 && !(holder && !holder->id.empty()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    holder = pipeline::catalog_lock_holder(root);
  }
  if (!holder || holder->id.empty() || !test::gate_wait_blocked(slow.uri(), 1)) {
    test::gate_open(slow.uri());
    t.join();  // never leave the thread (and its servers) running past a failed assertion
    FAIL() << "the first dump never took the lock and reached its first find: " << show(first);
  }
  auto second = bsonpipe({"dump", "--uri", fast.uri(), "--catalog", root.string(), "--progress", "none"});
  test::gate_open(slow.uri());
  t.join();
  EXPECT_EQ(second.exit_code, 1) << show(second);
  EXPECT_NE(second.err.find("locked"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(holder->pid)), std::string::npos) << second.err;
  EXPECT_NE(holder->pid, ::getpid());
  EXPECT_NE(second.err.find(holder->id), std::string::npos) << second.err;
  ASSERT_EQ(first.exit_code, 0) << show(first);
  EXPECT_EQ(trim(first.out), holder->id);
  EXPECT_EQ(dir_names(root), (std::set<std::string>{holder->id}));  // nothing from the second
  // Released: a third dump goes through.
  auto third = bsonpipe({"dump", "--uri", fast.uri(), "--catalog", root.string(), "--progress", "none"});
  EXPECT_EQ(third.exit_code, 0) << show(third);
}

// ---- prune and remove ---------------------------------------------------------------------------

struct Fabricated {
  fs::path root;
  std::string locked_partial;
};

// Entries at chosen times (UTC). Expected for --keep-last 2 --keep-daily 3 --keep-weekly 3:
//   2026-11-20 03:00 complete      last 1, daily 11-20, weekly W47   keep
//   2026-11-20 01:00 complete      last 2                            keep
//   2026-11-19 01:00 complete      daily 11-19                       keep
//   2026-11-18 02:00 complete      daily 11-18                       keep
//   2026-11-18 01:00 complete      -                                 remove
//   2026-11-15 01:00 complete      weekly W46 (Sun 15th)             keep
//   2026-11-12 01:00 complete      - (same week W46, older)          remove
//   2026-11-03 01:00 complete      weekly W45                        keep
//   2026-10-27 01:00 complete      - (W44: 4th week)                 remove
//   2026-11-21 01:00 incomplete, newer than newest complete, unlocked  keep
//   2026-11-19 05:00 incomplete .partial, older, unlocked            remove
//   2026-11-01 01:00 .partial, locked (being written)                keep
Fabricated fabricate_set(const std::string& name) {
  Fabricated f;
  f.root = test::temp_dir(name) / "cat";
  fabricate(f.root, "2026-11-20T03-00-00Z", utc(2026, 11, 20, 3), true);
  fabricate(f.root, "2026-11-20T01-00-00Z", utc(2026, 11, 20, 1), true);
  fabricate(f.root, "2026-11-19T01-00-00Z", utc(2026, 11, 19, 1), true);
  fabricate(f.root, "2026-11-18T02-00-00Z", utc(2026, 11, 18, 2), true);
  fabricate(f.root, "2026-11-18T01-00-00Z", utc(2026, 11, 18, 1), true);
  fabricate(f.root, "2026-11-15T01-00-00Z", utc(2026, 11, 15, 1), true);
  fabricate(f.root, "2026-11-12T01-00-00Z", utc(2026, 11, 12, 1), true);
  fabricate(f.root, "2026-11-03T01-00-00Z", utc(2026, 11, 3, 1), true);
  fabricate(f.root, "2026-10-27T01-00-00Z", utc(2026, 10, 27, 1), true);
  fabricate(f.root, "2026-11-21T01-00-00Z", utc(2026, 11, 21, 1), false);
  fs::create_directories(f.root / "2026-11-19T05-00-00Z.partial" / "db");
  f.locked_partial = "2026-11-01T01-00-00Z";
  fs::create_directories(f.root / (f.locked_partial + ".partial") / "db");
  return f;
}

TEST(CatalogPrune, KeepsExactlyTheGfsSetAndDryRunRemovesNothing) {
  Fabricated f = fabricate_set("catalog_prune");
  // A dump "being written": the lock held (in this process) for the old partial's id.
  auto lock = pipeline::CatalogLock::acquire(f.root);
  ASSERT_TRUE(lock.is_ok()) << lock.status().to_string();
  ASSERT_TRUE(lock->set_id(f.locked_partial).is_ok());
  auto before = dir_names(f.root);
  ASSERT_EQ(before.size(), 12u);

  auto dry = bsonpipe({"catalog", "prune", f.root.string(), "--keep-last", "2", "--keep-daily", "3", "--keep-weekly",
                       "3", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << show(dry);
  EXPECT_EQ(dir_names(f.root), before) << "--dry-run removed something:\n" << dry.out;
  EXPECT_NE(dry.out.find("would remove"), std::string::npos) << dry.out;

  auto r =
      bsonpipe({"catalog", "prune", f.root.string(), "--keep-last", "2", "--keep-daily", "3", "--keep-weekly", "3"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::set<std::string> expected{"2026-11-20T03-00-00Z", "2026-11-20T01-00-00Z",        "2026-11-19T01-00-00Z",
                                 "2026-11-18T02-00-00Z", "2026-11-15T01-00-00Z",        "2026-11-03T01-00-00Z",
                                 "2026-11-21T01-00-00Z", "2026-11-01T01-00-00Z.partial"};
  EXPECT_EQ(dir_names(f.root), expected) << r.out;
  // It says why.
  EXPECT_NE(r.out.find("being written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weekly 2026-W45"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("daily 2026-11-18"), std::string::npos) << r.out;
}

TEST(CatalogPrune, NeverTheNewestCompleteNorALockedPartial) {
  Fabricated f = fabricate_set("catalog_prune_zero");
  auto lock = pipeline::CatalogLock::acquire(f.root);
  ASSERT_TRUE(lock.is_ok()) << lock.status().to_string();
  ASSERT_TRUE(lock->set_id(f.locked_partial).is_ok());
  auto r =
      bsonpipe({"catalog", "prune", f.root.string(), "--keep-last", "0", "--keep-daily", "0", "--keep-weekly", "0"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(dir_names(f.root),
            (std::set<std::string>{"2026-11-20T03-00-00Z", "2026-11-21T01-00-00Z", "2026-11-01T01-00-00Z.partial"}))
      << r.out;
  // Unlocked, the old partial is a leftover and goes.
  lock->release();
  auto r2 = bsonpipe({"catalog", "prune", f.root.string(), "--keep-last", "0"});
  ASSERT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_EQ(dir_names(f.root), (std::set<std::string>{"2026-11-20T03-00-00Z", "2026-11-21T01-00-00Z"})) << r2.out;
  // No keep flag at all is refused.
  auto r3 = bsonpipe({"catalog", "prune", f.root.string()});
  EXPECT_EQ(r3.exit_code, 1) << show(r3);
}

TEST(CatalogRemove, RefusesTheDumpBeingWritten) {
  Fabricated f = fabricate_set("catalog_remove");
  auto lock = pipeline::CatalogLock::acquire(f.root);
  ASSERT_TRUE(lock.is_ok());
  ASSERT_TRUE(lock->set_id(f.locked_partial).is_ok());
  auto r = bsonpipe({"catalog", "remove", f.root.string(), f.locked_partial});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("being written"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(f.root / (f.locked_partial + ".partial")));
  auto ok = bsonpipe({"catalog", "remove", f.root.string(), "2026-11-12T01-00-00Z"});
  EXPECT_EQ(ok.exit_code, 0) << show(ok);
  EXPECT_FALSE(fs::exists(f.root / "2026-11-12T01-00-00Z"));
  EXPECT_EQ(dir_names(f.root).size(), 11u);
}

// ---- restore --catalog --id ---------------------------------------------------------------------

void insert_docs(io::Connection& c, const std::string& db, const std::string& coll, int from, int n) {
  formats::Bytes docs;
  for (int i = from; i < from + n; ++i) {
    auto d = formats::Builder().append_int32("_id", i).append_string("v", "value " + std::to_string(i)).finish();
    docs.insert(docs.end(), d.begin(), d.end());
  }
  auto r = io::insert(c, db, coll, docs);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
}

TEST(CatalogRestore, IdLatestRestoresTheNewestComplete) {
  test::MiniMongod source;
  auto c = connect(source.uri());
  insert_docs(*c, "app", "items", 0, 100);
  auto old_digest = server_digest(*c, "app", "items");
  fs::path root = test::temp_dir("catalog_latest") / "cat";
  auto d1 = bsonpipe({"dump", "--uri", source.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(d1.exit_code, 0) << show(d1);
  insert_docs(*c, "app", "items", 100, 50);
  auto new_digest = server_digest(*c, "app", "items");
  ASSERT_NE(old_digest, new_digest);
  auto d2 = bsonpipe({"dump", "--uri", source.uri(), "--catalog", root.string(), "--progress", "none"});
  ASSERT_EQ(d2.exit_code, 0) << show(d2);
  // A newer but incomplete entry must not count as latest.
  const std::int64_t later = now_ms() + 3'600'000;
  fabricate(root, id_at(later), later, false);

  test::MiniMongod target;
  auto r =
      bsonpipe({"restore", "--uri", target.uri(), "--catalog", root.string(), "--id", "latest", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto t = connect(target.uri());
  EXPECT_EQ(server_digest(*t, "app", "items"), new_digest);
  EXPECT_EQ(server_digest(*t, "app", "items").count(), 150u);

  // By id: the older one.
  auto r1 = bsonpipe({"restore", "--uri", target.uri(), "--catalog", root.string(), "--id", trim(d1.out), "--drop"});
  ASSERT_EQ(r1.exit_code, 0) << show(r1);
  EXPECT_EQ(server_digest(*t, "app", "items"), old_digest);
  // The incomplete one is refused by id.
  auto bad = bsonpipe({"restore", "--uri", target.uri(), "--catalog", root.string(), "--id", id_at(later)});
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
  EXPECT_NE(bad.err.find("incomplete"), std::string::npos) << bad.err;
}

// ---- restore --backup-first ---------------------------------------------------------------------

TEST(CatalogBackupFirst, DropBacksUpTheOldContentsAndTheyComeBack) {
  // The dump to restore holds src.items (renamed to live.items on restore).
  test::MiniMongod other;
  auto o = connect(other.uri());
  insert_docs(*o, "src", "items", 1000, 40);
  fs::path tmp = test::temp_dir("catalog_backup");
  auto d = bsonpipe({"dump", "--uri", other.uri(), "--out", (tmp / "new").string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  auto new_digest = server_digest(*o, "src", "items");

  test::MiniMongod live;
  auto c = connect(live.uri());
  insert_docs(*c, "live", "items", 0, 75);
  insert_docs(*c, "live", "untouched", 0, 5);
  auto old_digest = server_digest(*c, "live", "items");
  fs::path root = tmp / "cat";

  // The backup cannot be taken (catalog locked): nothing is restored.
  {
    auto lock = pipeline::CatalogLock::acquire(root);
    ASSERT_TRUE(lock.is_ok());
    auto r = bsonpipe({"restore", "--uri", live.uri(), "--drop", "--backup-first", root.string(), "--nsFrom", "src.$c$",
                       "--nsTo", "live.$c$", (tmp / "new").string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find("--backup-first failed"), std::string::npos) << r.err;
    EXPECT_EQ(server_digest(*c, "live", "items"), old_digest);
  }

  auto r = bsonpipe({"restore", "--uri", live.uri(), "--drop", "--backup-first", root.string(), "--nsFrom", "src.$c$",
                     "--nsTo", "live.$c$", (tmp / "new").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::string id = trim(r.out);
  ASSERT_TRUE(pipeline::parse_catalog_id(id)) << show(r);
  EXPECT_EQ(server_digest(*c, "live", "items"), new_digest);

  // The backup holds live.items (the mapped target) and nothing else.
  auto info = bsonpipe({"catalog", "info", root.string(), id, "--json"});
  ASSERT_EQ(info.exit_code, 0) << show(info);
  auto e = parse_json(info.out)["entry"].as_object();
  EXPECT_EQ(e["status"].as_string(), "complete");
  auto& nss = e["namespaceDetails"].as_array();
  ASSERT_EQ(nss.size(), 1u) << info.out;
  EXPECT_EQ(nss[0].as_object().at("ns").as_string(), "live.items");
  EXPECT_EQ(nss[0].as_object().at("documents").to_number<int>(), 75);

  // Undo: restoring that id brings the old contents back.
  auto undo = bsonpipe({"restore", "--uri", live.uri(), "--catalog", root.string(), "--id", id, "--drop"});
  ASSERT_EQ(undo.exit_code, 0) << show(undo);
  EXPECT_EQ(server_digest(*c, "live", "items"), old_digest);
  EXPECT_EQ(server_digest(*c, "live", "untouched").count(), 5u);

  // Without --drop/--swap it is refused.
  auto plain = bsonpipe({"restore", "--uri", live.uri(), "--backup-first", root.string(), (tmp / "new").string()});
  EXPECT_EQ(plain.exit_code, 1) << show(plain);
}

// Options the restore itself refuses (RestoreOptions::validate) are refused before the backup:
// no catalog entry is written for a restore that could never run.
TEST(CatalogBackupFirst, OptionsTheRestoreRefusesTakeNoBackup) {
  test::MiniMongod live;
  auto c = connect(live.uri());
  insert_docs(*c, "live", "items", 0, 20);
  fs::path tmp = test::temp_dir("catalog_backup_refused");
  auto d = bsonpipe({"dump", "--uri", live.uri(), "--out", (tmp / "dump").string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  auto before = server_digest(*c, "live", "items");
  fs::path root = tmp / "cat";

  auto r = bsonpipe(
      {"restore", "--uri", live.uri(), "--drop", "--swap", "--backup-first", root.string(), (tmp / "dump").string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(r.err, "bsonpipe restore: --swap replaces each collection already: do not combine it with --drop\n")
      << show(r);
  EXPECT_EQ(r.out, "") << show(r);  // no backup id
  EXPECT_TRUE(!fs::exists(root) || dir_names(root).empty()) << show(r);
  EXPECT_EQ(server_digest(*c, "live", "items"), before);
}

// ---- bundled files ------------------------------------------------------------------------------

void write_text(const fs::path& p, const std::string& s, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(CatalogBundle, IncludePathRoundTripWithExcludesAndTamperedManifests) {
  test::MiniMongod server({"--generate", "app.c:10:50"});
  fs::path tmp = test::temp_dir("catalog_bundle");
  fs::path src = tmp / "uploads";
  write_text(src / "top.txt", "top level\n");
  write_text(src / "a" / "b" / "deep.bin", std::string(300000, '\x07') + "end", 0640);
  write_text(src / "a" / "script.sh", "#!/bin/sh\necho hi\n", 0755);
  write_text(src / "a" / "skip.tmp", "excluded by glob\n");
  write_text(src / "cache" / "big.dat", "excluded directory\n");
  fs::create_directories(src / "empty");
  fs::create_symlink("a/script.sh", src / "link");
  fs::path root = tmp / "cat";

  auto d = bsonpipe({"dump", "--uri", server.uri(), "--catalog", root.string(), "--include-path", src.string(),
                     "--exclude", "*.tmp", "--exclude", "cache", "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  std::string id = trim(d.out);
  fs::path dump = root / id;
  auto manifest_text = test::read_text(dump / "manifest.json");
  auto m = formats::manifest_from_json(manifest_text);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  ASSERT_EQ(m->bundled_roots.size(), 1u);
  EXPECT_EQ(m->bundled_roots[0].name, "uploads");
  std::set<std::string> paths;
  for (auto& f : m->bundled) paths.insert(f.path);
  const std::string b = "bsonpipe_files/0/";
  EXPECT_EQ(paths, (std::set<std::string>{b + "a", b + "a/b", b + "a/b/deep.bin", b + "a/script.sh", b + "empty",
                                          b + "link", b + "top.txt"}));
  // The database part is untouched by the bundle, and still restorable.
  EXPECT_TRUE(fs::exists(dump / "app" / "c.bson"));

  fs::path target = tmp / "restored";
  auto r =
      bsonpipe({"restore", "--catalog", root.string(), "--id", id, "--restore-paths", target.string(), "--paths-only"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  fs::path out = target / "uploads";
  EXPECT_EQ(test::read_text(out / "top.txt"), "top level\n");
  EXPECT_EQ(test::read_text(out / "a" / "b" / "deep.bin"), std::string(300000, '\x07') + "end");
  EXPECT_EQ(mode_of(out / "a" / "b" / "deep.bin"), 0640u);
  EXPECT_EQ(mode_of(out / "a" / "script.sh"), 0755u);
  EXPECT_TRUE(fs::is_directory(out / "empty"));
  EXPECT_TRUE(fs::is_symlink(out / "link"));
  EXPECT_EQ(fs::read_symlink(out / "link"), fs::path("a/script.sh"));
  EXPECT_FALSE(fs::exists(out / "a" / "skip.tmp"));
  EXPECT_FALSE(fs::exists(out / "cache"));

  // With the databases: the bundle's directory does not disturb the database restore.
  test::MiniMongod target_server;
  fs::path target_b = tmp / "restored_b";
  auto full = bsonpipe({"restore", "--uri", target_server.uri(), "--catalog", root.string(), "--id", id,
                        "--restore-paths", target_b.string(), "--progress", "none"});
  ASSERT_EQ(full.exit_code, 0) << show(full);
  auto tc = connect(target_server.uri());
  auto sc = connect(server.uri());
  EXPECT_EQ(server_digest(*tc, "app", "c"), server_digest(*sc, "app", "c"));
  EXPECT_EQ(server_digest(*tc, "app", "c").count(), 10u);
  EXPECT_EQ(test::read_text(target_b / "uploads" / "a" / "script.sh"), "#!/bin/sh\necho hi\n");

  // Tampered: a path that climbs out of the target.
  std::string tampered = manifest_text;
  auto pos = tampered.find("\"" + b + "top.txt\"");
  ASSERT_NE(pos, std::string::npos);
  tampered.replace(pos, b.size() + 9, "\"../x\"");
  std::ofstream(dump / "manifest.json", std::ios::trunc) << tampered;
  fs::path target2 = tmp / "t2" / "inner";
  auto bad = bsonpipe(
      {"restore", "--catalog", root.string(), "--id", id, "--restore-paths", target2.string(), "--paths-only"});
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
  EXPECT_NE(bad.err.find("../x"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(tmp / "t2" / "x"));
  EXPECT_FALSE(fs::exists(target2 / "uploads"));

  // Also under the root's prefix: bsonpipe_files/0/../../x.
  std::string tampered2 = manifest_text;
  tampered2.replace(tampered2.find("\"" + b + "top.txt\""), b.size() + 9, "\"" + b + "../../x\"");
  std::ofstream(dump / "manifest.json", std::ios::trunc) << tampered2;
  auto bad2 = bsonpipe(
      {"restore", "--catalog", root.string(), "--id", id, "--restore-paths", target2.string(), "--paths-only"});
  EXPECT_EQ(bad2.exit_code, 1) << show(bad2);
  EXPECT_NE(bad2.err.find("leaves"), std::string::npos) << bad2.err;

  // A changed byte in a bundled file is found by its hash, and the file is not put in place.
  std::ofstream(dump / "manifest.json", std::ios::trunc) << manifest_text;
  {
    std::fstream f(dump / "bsonpipe_files" / "0" / "a" / "b" / "deep.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x08');
  }
  fs::path target3 = tmp / "t3";
  auto bad3 = bsonpipe(
      {"restore", "--catalog", root.string(), "--id", id, "--restore-paths", target3.string(), "--paths-only"});
  EXPECT_EQ(bad3.exit_code, 1) << show(bad3);
  EXPECT_NE(bad3.err.find("deep.bin"), std::string::npos) << bad3.err;
  EXPECT_FALSE(fs::exists(target3 / "uploads" / "a" / "b" / "deep.bin"));
}

}  // namespace
}  // namespace bsonpipe
