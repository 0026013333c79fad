// Collection names through the real binary against minimongod: every name a MongoDB server
// accepts dumps to exactly the file names mongodump gives it (url.QueryEscape of the name; an
// escaped name over 238 bytes becomes its first 208 bytes + "%24" + the base64url SHA-1 of the
// name, mongodump/prepare.go outputPath) and restores to the same name with the same documents
// (mongorestore/filepath.go getInfoFromFile). A dump directory whose file name cannot be decoded
// fails before anything is restored, as mongorestore's CreateAllIntents does. minimongod accepts
// and refuses names as a real server does (NamespaceString::validCollectionName, a 255-byte
// namespace since 4.4, database names < 64 bytes without / \ . space " $ NUL).
//
// Every expected file name below was computed outside this program (Python's
// urllib.parse.quote_plus, hashlib.sha1, base64.urlsafe_b64encode).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formats/archive.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using test::show;

constexpr const char* kDb = "names";

// A collection name and the file stem mongodump writes for it.
struct NameCase {
  std::string name;
  std::string stem;
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// "names." + the long names below is 254 and 249 bytes: within a server's 255-byte namespace.
const std::string kLongAscii = std::string(235, 'L') + "/long name\\en";  // 248 bytes, escaped 256
const std::string kLongUnicode = repeat("\xC3\xA9", 120) + "+x%";         // 243 bytes, escaped 726

const std::vector<NameCase>& name_cases() {
  static const std::vector<NameCase> k = {
      {"x\\y", "x%5Cy"},
      {"a b", "a+b"},
      {"p%q", "p%25q"},
      {"s/t", "s%2Ft"},
      {"1+1", "1%2B1"},
      {"dots..in.name.", "dots..in.name."},
      {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xC3\xA9", "%E6%97%A5%E6%9C%AC%E8%AA%9E+%C3%A9"},
      {kLongAscii, std::string(208, 'L') + "%24WKuCEjsf4zbPKHheJNkBZd_WI4g"},
      // The cut falls inside a %XX escape, as mongodump cuts bytes.
      {kLongUnicode, repeat("%C3%A9", 34) + "%C3%" + "%24znp7EFeLJj1mShtpJFM0ffbdfu0"},
  };
  return k;
}

Bytes docs_for(std::size_t i) {
  Bytes all;
  for (int j = 0; j < 3; ++j) {
    Builder b;
    b.append_int32("_id", j)
        .append_int64("which", static_cast<std::int64_t>(i))
        .append_string("s", "v" + std::to_string(j));
    Bytes d = b.finish();
    all.insert(all.end(), d.begin(), d.end());
  }
  return all;
}

// Sorted raw documents of every collection of `db`, by collection name.
std::map<std::string, std::vector<Bytes>> snapshot(io::Connection& c, const std::string& db) {
  std::map<std::string, std::vector<Bytes>> out;
  auto colls = io::list_collections(c, db);
  EXPECT_TRUE(colls.is_ok()) << colls.error().to_string();
  if (!colls) return out;
  for (auto& info : *colls) {
    auto docs = test::server_documents(c, db, info.name);
    std::sort(docs.begin(), docs.end());
    out[info.name] = std::move(docs);
  }
  return out;
}

std::set<std::string> database_names(io::Connection& c) {
  std::set<std::string> out;
  auto dbs = io::list_databases(c, true);
  EXPECT_TRUE(dbs.is_ok()) << dbs.error().to_string();
  if (dbs)
    for (auto& d : *dbs) out.insert(d.name);
  return out;
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class CollectionNames : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = test::connect(server_.uri());
    ASSERT_TRUE(conn_);
    for (std::size_t i = 0; i < name_cases().size(); ++i) {
      auto w = io::insert(*conn_, kDb, name_cases()[i].name, docs_for(i));
      ASSERT_TRUE(w.is_ok()) << name_cases()[i].name << ": " << w.error().to_string();
    }
    before_ = snapshot(*conn_, kDb);
    ASSERT_EQ(before_.size(), name_cases().size());
  }

  // Drops the database, restores `args` and checks every collection came back identical.
  void restore_and_compare(std::vector<std::string> args) {
    auto dropped = io::drop_database(*conn_, kDb);
    ASSERT_TRUE(dropped.is_ok()) << dropped.to_string();
    ASSERT_EQ(snapshot(*conn_, kDb).size(), 0u);
    args.insert(args.begin(), {"restore", "--uri", server_.uri()});
    auto r = test::bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    auto after = snapshot(*conn_, kDb);
    EXPECT_EQ(after.size(), before_.size());
    for (auto& [name, docs] : before_) {
      auto it = after.find(name);
      ASSERT_NE(it, after.end()) << "not restored: " << name << "\n" << show(r);
      EXPECT_EQ(it->second, docs) << name;
    }
  }

  test::MiniMongod server_;
  std::unique_ptr<io::Connection> conn_;
  std::map<std::string, std::vector<Bytes>> before_;
};

TEST_F(CollectionNames, DirectoryDumpHasMongodumpFileNamesAndRestoresEveryName) {
  const fs::path out = test::temp_dir("names_dir");
  auto r = test::bsonpipe({"dump", "--uri", server_.uri(), "--db", kDb, "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::set<std::string> want;
  for (auto& c : name_cases()) {
    want.insert(c.stem + ".bson");
    want.insert(c.stem + ".metadata.json");
  }
  EXPECT_EQ(files_in(out / kDb), want);
  restore_and_compare({out.string()});
}

TEST_F(CollectionNames, GzipDirectoryDumpHasMongodumpFileNamesAndRestoresEveryName) {
  const fs::path out = test::temp_dir("names_gz");
  auto r = test::bsonpipe({"dump", "--uri", server_.uri(), "--db", kDb, "--gzip", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::set<std::string> want;
  for (auto& c : name_cases()) {
    want.insert(c.stem + ".bson.gz");
    want.insert(c.stem + ".metadata.json.gz");
  }
  EXPECT_EQ(files_in(out / kDb), want);
  restore_and_compare({"--gzip", out.string()});
}

TEST_F(CollectionNames, ArchiveCarriesNamesVerbatimAndRestoresEveryName) {
  const fs::path file = test::temp_dir("names_archive") / "dump.archive";
  auto r = test::bsonpipe({"dump", "--uri", server_.uri(), "--db", kDb, "--archive=" + file.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  Bytes raw = test::read_file(file);
  formats::archive::Reader reader(formats::archive::span_source(raw));
  auto prelude = reader.read_prelude();
  ASSERT_TRUE(prelude.is_ok()) << prelude.status().to_string();
  std::set<std::string> names, want;
  for (auto& e : (*prelude)->collections) names.insert(e.collection);
  for (auto& c : name_cases()) want.insert(c.name);
  EXPECT_EQ(names, want);
  restore_and_compare({"--archive=" + file.string()});
}

// A server that lists a name no server accepts ("a$b": minimongod's --generate with no documents
// bypasses its own checks, as an old or lax server might): the dump leaves that one out with a
// line naming it (mongodump skips '$' names too) and dumps the rest, in both layouts.
TEST(CollectionNameDump, NameNoServerAcceptsIsSkippedAndTheRestDumped) {
  test::MiniMongod server({"--generate", "lax.a$b:0:10", "--generate", "lax.ok:3:40"});
  const fs::path out = test::temp_dir("names_lax");
  auto r = test::bsonpipe({"dump", "--uri", server.uri(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("lax.a$b"), std::string::npos) << show(r);
  EXPECT_EQ(files_in(out / "lax"), (std::set<std::string>{"ok.bson", "ok.metadata.json"}));
  const fs::path file = out / "lax.archive";
  r = test::bsonpipe({"dump", "--uri", server.uri(), "--db", "lax", "--archive=" + file.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  Bytes raw = test::read_file(file);
  formats::archive::Reader reader(formats::archive::span_source(raw));
  auto prelude = reader.read_prelude();
  ASSERT_TRUE(prelude.is_ok()) << prelude.status().to_string();
  std::set<std::string> names;
  for (auto& e : (*prelude)->collections) names.insert(e.ns());
  EXPECT_EQ(names, (std::set<std::string>{"lax.ok"}));
}

// A dump directory written by hand with mongodump's file names, each .bson alone (no metadata),
// except the truncated one whose name only its metadata's collectionName holds.
TEST(CollectionNameFiles, RestoresMongodumpEscapedFileNames) {
  test::MiniMongod server;
  auto conn = test::connect(server.uri());
  ASSERT_TRUE(conn);
  const fs::path root = test::temp_dir("names_files");
  fs::create_directories(root / "esc");
  std::map<std::string, Bytes> want;  // collection -> documents
  std::size_t i = 0;
  for (auto& c : name_cases()) {
    Bytes docs = docs_for(i++);
    test::write_file(root / "esc" / (c.stem + ".bson"), docs);
    want[c.name] = docs;
  }
  // The truncated stems need their metadata (mongorestore reads collectionName from it).
  for (auto& c : name_cases()) {
    if (c.stem.size() != 238) continue;
    std::string json = "{\"indexes\":[],\"collectionName\":" + json_quote(c.name) + "}";
    test::write_file(root / "esc" / (c.stem + ".metadata.json"),
                     formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
  }
  auto r = test::bsonpipe({"restore", "--uri", server.uri(), root.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto after = snapshot(*conn, "esc");
  EXPECT_EQ(after.size(), want.size()) << show(r);
  for (auto& [name, docs] : want) {
    auto it = after.find(name);
    ASSERT_NE(it, after.end()) << "not restored: " << name << "\n" << show(r);
    EXPECT_EQ(it->second, test::split_documents(docs)) << name;
  }
}

// mongorestore builds every intent (decoding every file name) before it restores anything, so a
// file name that does not decode fails the run with nothing restored: exit 1, the file named.
TEST(CollectionNameFiles, UndecodableFileNameFailsBeforeAnythingIsRestored) {
  test::MiniMongod server;
  auto conn = test::connect(server.uri());
  ASSERT_TRUE(conn);
  const fs::path root = test::temp_dir("names_bad");
  fs::create_directories(root / "a_first");
  fs::create_directories(root / "b_second");
  test::write_file(root / "a_first" / "fine.bson", docs_for(1));
  test::write_file(root / "b_second" / "aaa.bson", docs_for(2));
  test::write_file(root / "b_second" / "bad%zz.bson", docs_for(3));
  test::write_file(root / "b_second" / "zzz.bson", docs_for(4));
  auto r = test::bsonpipe({"restore", "--uri", server.uri(), root.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("bad%zz.bson"), std::string::npos) << show(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << show(r);
  auto dbs = database_names(*conn);
  EXPECT_FALSE(dbs.contains("a_first")) << show(r);
  EXPECT_FALSE(dbs.contains("b_second")) << show(r);
}

// A name that decodes but that no server accepts ("a$b") is skipped with a line naming it; the
// other collections are restored.
TEST(CollectionNameFiles, NameNoServerAcceptsIsSkippedAndTheRestRestored) {
  test::MiniMongod server;
  auto conn = test::connect(server.uri());
  ASSERT_TRUE(conn);
  const fs::path root = test::temp_dir("names_skip");
  fs::create_directories(root / "sk");
  test::write_file(root / "sk" / "a%24b.bson", docs_for(1));
  test::write_file(root / "sk" / "ok.bson", docs_for(2));
  auto r = test::bsonpipe({"restore", "--uri", server.uri(), root.string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("sk.a$b"), std::string::npos) << show(r);
  auto after = snapshot(*conn, "sk");
  ASSERT_EQ(after.size(), 1u) << show(r);
  EXPECT_EQ(after.begin()->first, "ok");
  EXPECT_EQ(after.begin()->second, test::split_documents(docs_for(2)));
}

// What a real server accepts and refuses, through create and insert.
TEST(MinimongodNames, AcceptsAndRefusesNamesAsAServerDoes) {
  test::MiniMongod server;
  auto conn = test::connect(server.uri());
  ASSERT_TRUE(conn);
  Bytes doc = docs_for(0);
  for (const std::string& ok : {std::string("x\\y"), std::string("a b"), std::string("s/t"), std::string("p%q"),
                                std::string("e.n.d."), std::string(249, 'n')}) {
    auto e = io::create_collection(*conn, "acc", ok);
    EXPECT_TRUE(e.is_ok()) << ok << ": " << e.to_string();
    EXPECT_TRUE(io::insert(*conn, "acc", ok, doc).is_ok()) << ok;
  }
  struct Bad {
    std::string db, coll;
  };
  for (const Bad& bad :
       {Bad{"acc", "a$b"}, Bad{"acc", ".lead"}, Bad{"acc", std::string("nu\0l", 4)},
        Bad{"acc", std::string(252, 'n')},  // a 256-byte namespace
        Bad{"acc", std::string(300, 'n')}, Bad{"sp ace", "c"}, Bad{"do$llar", "c"}, Bad{"quo\"te", "c"},
        Bad{"back\\slash", "c"}, Bad{"do.t", "c"}, Bad{std::string(64, 'd'), "c"}}) {
    auto e = io::create_collection(*conn, bad.db, bad.coll);
    EXPECT_FALSE(e.is_ok()) << bad.db << "." << bad.coll;
    if (!e.is_ok()) {
      EXPECT_EQ(e.code(), 73) << e.to_string();
    }
    auto w = io::insert(*conn, bad.db, bad.coll, doc);
    EXPECT_TRUE(!w.is_ok() || !w->write_errors.empty()) << bad.db << "." << bad.coll;
  }
  EXPECT_TRUE(io::create_collection(*conn, std::string(63, 'd'), "c").is_ok());
  EXPECT_TRUE(io::create_collection(*conn, "acc", std::string(251, 'n')).is_ok());  // 255 bytes: the limit
}

}  // namespace
}  // namespace bsonpipe
