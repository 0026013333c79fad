// Restore and copy error handling against mongorestore's rules, through the real binary and a
// real minimongod:
// - names are matched client-side wherever a filter is sent (some MongoDB-compatible servers
//   ignore listCollections' filter; minimongod --ignore-list-filters does the same);
// - one namespace's failure (an index build) does not leave the others half-loaded: they finish,
//   every failure is reported, exit 1; --stopOnError stops at once and names what is partial;
// - duplicate-key (11000) and document-validation (121) write errors are counted and tolerated
//   (exit 0) unless --stopOnError (implied by --maintainInsertionOrder), every other write error
//   fails the run (mongo-tools common/db/db.go FilterError, mongorestore/restore.go).
#include <gtest/gtest.h>

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
using formats::DocView;
using test::bsonpipe;
using test::connect;
using test::show;

std::int64_t doc_count(io::Connection& c, const std::string& db, const std::string& coll) {
  auto n = io::count(c, db, coll);
  return n ? *n : -1;
}

// A collection of a directory dump: <root>/<db>/<coll>.bson and its metadata.json, with the _id
// index and `extra_indexes` (canonical Extended JSON specs, comma separated).
void write_collection(const fs::path& root, const std::string& db, const std::string& coll,
                      const std::vector<Bytes>& docs, const std::string& options = "{}",
                      const std::string& extra_indexes = "") {
  fs::create_directories(root / db);
  Bytes all;
  for (auto& d : docs) all.insert(all.end(), d.begin(), d.end());
  test::write_file(root / db / (coll + ".bson"), all);
  std::string md = R"({"options":)" + options +
                   R"(,"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"})" +
                   (extra_indexes.empty() ? "" : "," + extra_indexes) + R"(],"uuid":"","collectionName":")" + coll +
                   R"(","type":"collection"})";
  std::vector<std::uint8_t> text(md.begin(), md.end());
  test::write_file(root / db / (coll + ".metadata.json"), text);
}

Bytes id_doc(std::int32_t id, std::int32_t k = 0) {
  return Builder().append_int32("_id", id).append_int32("k", k).finish();
}

void insert_docs(io::Connection& c, const std::string& db, const std::string& coll, const std::vector<Bytes>& docs) {
  Bytes all;
  for (auto& d : docs) all.insert(all.end(), d.begin(), d.end());
  auto r = io::insert(c, db, coll, all);
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  ASSERT_TRUE(r->write_errors.empty());
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// The lines of `text` holding every one of `parts`.
std::vector<std::string> lines_with(const std::string& text, const std::vector<std::string>& parts) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    bool all = true;
    for (auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) out.push_back(l);
  }
  return out;
}

// ---- item 4: filters a server ignored ---------------------------------------------------------

TEST(RestoreFilters, AnEmptyCollectionIsCreatedWhenTheServerIgnoresListFilters) {
  test::MiniMongod server({"--ignore-list-filters"});
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  // Another collection of the same database: listCollections {name: "empty"} answers with it.
  insert_docs(*c, "shop", "other", {id_doc(1)});
  fs::path dump = test::temp_dir("restore_errors_filters");
  write_collection(dump, "shop", "empty", {}, R"({"capped":true,"size":{"$numberInt":"4096"}})");
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto list = io::list_collections(*c, "shop");
  ASSERT_TRUE(list.is_ok()) << list.error().to_string();
  bool found = false;
  for (auto& info : *list) {
    if (info.name != "empty") continue;
    found = true;
    auto capped = DocView(info.options).find("capped");
    EXPECT_TRUE(capped.valid() && capped.type() == formats::BsonType::kBool && capped.as_bool())
        << "created with the dump's options";
  }
  EXPECT_TRUE(found) << "shop.empty was not created\n" << show(r);
}

TEST(RestoreFilters, DumpDbUsersAndRolesTakesOnlyThatDatabasesUsersWhenTheServerIgnoresFilters) {
  test::MiniMongod server({"--ignore-list-filters"});
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  for (const char* db : {"x", "y"}) {
    Builder b;
    b.append_string("createUser", std::string("u_") + db).append_string("pwd", "pw");
    b.open_array("roles").close();
    Bytes cmd = b.finish();
    auto r = io::run_command(*c, db, DocView(cmd));
    ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  }
  fs::path out = test::temp_dir("restore_errors_users");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "x", "--dumpDbUsersAndRoles", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto users = test::split_documents(test::read_file(out / "x" / "$admin.system.users.bson"));
  ASSERT_EQ(users.size(), 1U) << "only x's users belong in x's dump";
  EXPECT_EQ(DocView(users[0]).find("user").as_string(), "u_x");
}

// ---- item 5: one namespace's failure ----------------------------------------------------------

// shop.small's unique index on k cannot be built on the target (which already holds k: 1), while
// shop.big (20,000 documents, inserted 100 at a time) is still loading.
fs::path index_failure_dump(const std::string& name) {
  fs::path dump = test::temp_dir(name);
  write_collection(dump, "shop", "small", {id_doc(2, 1)}, "{}",
                   R"({"v":{"$numberInt":"2"},"key":{"k":{"$numberInt":"1"}},"name":"k_1","unique":true})");
  std::vector<Bytes> big;
  std::string pad(200, 'x');
  for (std::int32_t i = 0; i < 20000; ++i)
    big.push_back(Builder().append_int32("_id", i).append_int32("k", i).append_string("pad", pad).finish());
  write_collection(dump, "shop", "big", big);
  return dump;
}

TEST(RestoreFailures, AFailedIndexBuildLeavesEveryOtherCollectionComplete) {
  test::MiniMongod server;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  insert_docs(*c, "shop", "small", {id_doc(1, 1)});
  fs::path dump = index_failure_dump("restore_errors_index");
  auto r = bsonpipe({"restore", "--uri", server.uri(), "-j", "2", "--batchSize", "100", dump.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(doc_count(*c, "shop", "big"), 20000) << show(r);
  EXPECT_EQ(doc_count(*c, "shop", "small"), 2);
  EXPECT_EQ(lines_with(r.err, {"shop.small", "index"}).size(), 1U) << "one line naming the namespace\n" << show(r);
  EXPECT_TRUE(lines_with(r.err, {"shop.big", "partial"}).empty()) << show(r);
}

TEST(RestoreFailures, StopOnErrorStopsAtOnceAndNamesThePartialNamespaces) {
  test::MiniMongod server;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  insert_docs(*c, "shop", "small", {id_doc(1, 1)});
  fs::path dump = index_failure_dump("restore_errors_index_stop");
  auto r =
      bsonpipe({"restore", "--uri", server.uri(), "-j", "2", "--batchSize", "100", "--stopOnError", dump.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_FALSE(lines_with(r.err, {"shop.small", "index"}).empty()) << show(r);
  // Named when it holds part of its documents (none: it was only created; all: it finished).
  std::int64_t big = doc_count(*c, "shop", "big");
  if (big > 0 && big < 20000)
    EXPECT_EQ(lines_with(r.err, {"shop.big", "partial"}).size(), 1U) << big << " documents in shop.big\n" << show(r);
  else
    EXPECT_TRUE(lines_with(r.err, {"shop.big", "partial"}).empty()) << show(r);
}

TEST(CopyFailures, AFailedIndexBuildLeavesEveryOtherCollectionComplete) {
  test::MiniMongod source({"--generate", "shop.big:20000:200"});
  test::MiniMongod target;
  auto s = connect(source.uri());
  auto t = connect(target.uri());
  ASSERT_TRUE(s && t);
  insert_docs(*s, "shop", "small", {id_doc(2, 1)});
  Bytes spec = Builder()
                   .open_document("key")
                   .append_int32("k", 1)
                   .close()
                   .append_string("name", "k_1")
                   .append_bool("unique", true)
                   .finish();
  ASSERT_TRUE(io::create_indexes(*s, "shop", "small", {DocView(spec)}).is_ok());
  insert_docs(*t, "shop", "small", {id_doc(1, 1)});
  auto r = bsonpipe({"copy", "--from", source.uri(), "--to", target.uri(), "-j", "2", "--batchSize", "100"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(doc_count(*t, "shop", "big"), 20000) << show(r);
  EXPECT_EQ(lines_with(r.err, {"shop.small", "index"}).size(), 1U) << show(r);
}

// ---- item 6: write errors -----------------------------------------------------------------------

TEST(RestoreWriteErrors, DuplicateKeysAreCountedAndTolerated) {
  test::MiniMongod server;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  std::vector<Bytes> present, dumped;
  for (std::int32_t i = 0; i < 20; ++i) {
    if (i < 10) present.push_back(id_doc(i));
    dumped.push_back(id_doc(i));
  }
  insert_docs(*c, "shop", "d", present);
  fs::path dump = test::temp_dir("restore_errors_dups");
  write_collection(dump, "shop", "d", dumped);
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(has_line(r.err, "10 document(s) restored successfully. 10 document(s) failed to restore.")) << show(r);
  EXPECT_EQ(doc_count(*c, "shop", "d"), 20);

  // --maintainInsertionOrder implies --stopOnError (mongorestore/mongorestore.go): the first
  // duplicate is fatal.
  auto ordered = bsonpipe({"restore", "--uri", server.uri(), "--maintainInsertionOrder", dump.string()});
  EXPECT_EQ(ordered.exit_code, 1) << show(ordered);
}

TEST(RestoreWriteErrors, DocumentValidationFailuresAreCountedAndTolerated) {
  test::MiniMongod server;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  Bytes opts =
      Builder().open_document("validator").open_document("n").append_int32("$lt", 100).close().close().finish();
  ASSERT_TRUE(io::create_collection(*c, "shop", "v", DocView(opts)).is_ok());
  std::vector<Bytes> docs;
  for (std::int32_t i = 0; i < 15; ++i)
    docs.push_back(Builder().append_int32("_id", i).append_int32("n", i < 10 ? i : 100 + i).finish());
  fs::path dump = test::temp_dir("restore_errors_validation");
  write_collection(dump, "shop", "v", docs);
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(has_line(r.err, "10 document(s) restored successfully. 5 document(s) failed to restore.")) << show(r);
  EXPECT_EQ(doc_count(*c, "shop", "v"), 10);

  // With --stopOnError a validation failure is fatal; --bypassDocumentValidation lets them in.
  auto stop = bsonpipe({"restore", "--uri", server.uri(), "--stopOnError", dump.string()});
  EXPECT_EQ(stop.exit_code, 1) << show(stop);
  auto bypass = bsonpipe({"restore", "--uri", server.uri(), "--bypassDocumentValidation", dump.string()});
  EXPECT_EQ(bypass.exit_code, 0) << show(bypass);
  EXPECT_EQ(doc_count(*c, "shop", "v"), 15);
}

TEST(RestoreWriteErrors, AnyOtherWriteErrorFailsTheRun) {
  test::MiniMongod server;
  auto c = connect(server.uri());
  ASSERT_TRUE(c);
  // An array _id is refused by the server (BadValue), a write error of neither tolerated code.
  Bytes bad = Builder().open_array("_id").append_int32("0", 1).append_int32("1", 2).close().finish();
  fs::path dump = test::temp_dir("restore_errors_other");
  write_collection(dump, "shop", "bad", {id_doc(1), bad, id_doc(3)});
  auto r = bsonpipe({"restore", "--uri", server.uri(), dump.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_TRUE(has_line(r.err, "2 document(s) restored successfully. 1 document(s) failed to restore.")) << show(r);
  EXPECT_FALSE(lines_with(r.err, {"shop.bad", "failed"}).empty()) << show(r);
  EXPECT_EQ(doc_count(*c, "shop", "bad"), 2);
}

}  // namespace
}  // namespace bsonpipe
