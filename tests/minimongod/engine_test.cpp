#include <gtest/gtest.h>

#include <zlib.h>

#include "tests/minimongod/mm_util.hpp"
#include "tools/minimongod/generate.hpp"

namespace bsonpipe::minimongod::test {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  Bytes cmd(std::string_view json, std::string_view db = "test") { return run(engine, session, json, db); }
  std::vector<Bytes> find(std::string_view json) {
    Bytes r = cmd(json);
    EXPECT_TRUE(ok(r)) << render_value(*DocView(single(r)).begin());
    return batch(r);
  }
  static Bytes single(const Bytes& doc) {
    Builder b;
    b.append_document("r", DocView(doc));
    return b.finish();
  }
  Engine engine;
  Session session;
};

TEST_F(EngineTest, FiltersCompareInTypeOrderWithBracketing) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"c","documents":[
    {"_id":1,"v":1},{"_id":2,"v":2.5},{"_id":3,"v":"a"},{"_id":4,"v":null},{"_id":5},
    {"_id":6,"v":{"$oid":"0123456789abcdef01234567"}},{"_id":7,"v":true},{"_id":8,"v":[1,5]},
    {"_id":9,"v":{"$numberLong":"3"}},{"_id":10,"v":"b","w":{"x":7}}]})")));
  auto ids = [&](std::string_view filter) {
    return field_values(find(std::string(R"({"find":"c","filter":)") + std::string(filter) + "}"), "_id");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(R"({"v":{"$gt":1}})"), (V{"2", "8", "9"}));  // numbers only; array matches by element
  EXPECT_EQ(ids(R"({"v":{"$lt":"b"}})"), (V{"3"}));
  EXPECT_EQ(ids(R"({"v":{"$gte":"a"}})"), (V{"3", "10"}));
  EXPECT_EQ(ids(R"({"v":null})"), (V{"4", "5"}));
  EXPECT_EQ(ids(R"({"v":{"$exists":false}})"), (V{"5"}));
  EXPECT_EQ(ids(R"({"v":{"$in":[2.5,"b",true]}})"), (V{"2", "7", "10"}));
  EXPECT_EQ(ids(R"({"v":{"$ne":1}})"), (V{"2", "3", "4", "5", "6", "7", "9", "10"}));
  EXPECT_EQ(ids(R"({"v":3})"), (V{"9"}));  // int32 3 equals int64 3
  EXPECT_EQ(ids(R"({"w.x":{"$gte":7}})"), (V{"10"}));
  EXPECT_EQ(ids(R"({"$or":[{"v":1},{"v":"a"}]})"), (V{"1", "3", "8"}));
  EXPECT_EQ(ids(R"({"$and":[{"v":{"$gte":1}},{"v":{"$lte":2.5}}]})"), (V{"1", "2", "8"}));
  EXPECT_EQ(ids(R"({"v":{"$gt":{"$minKey":1}}})"), (V{"1", "2", "3", "4", "6", "7", "8", "9", "10"}));
  Bytes bad = cmd(R"({"find":"c","filter":{"v":{"$bogus":1}}})");
  EXPECT_EQ(code(bad), 2);
}

TEST_F(EngineTest, SortProjectionSkipLimit) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"c","documents":[{"_id":1,"a":3,"b":"x"},{"_id":2,"a":1,"b":"y"},
    {"_id":3,"a":2,"b":"z"},{"_id":4,"b":"w"}]})")));
  auto docs = find(R"({"find":"c","sort":{"a":-1},"projection":{"a":1},"skip":1,"limit":2})");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(field_values(docs, "a"), (std::vector<std::string>{"2", "1"}));
  EXPECT_FALSE(DocView(docs[0]).find("b").valid());
  EXPECT_TRUE(DocView(docs[0]).find("_id").valid());
  docs = find(R"({"find":"c","sort":{"_id":-1},"projection":{"b":0,"_id":0}})");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_FALSE(DocView(docs[0]).find("_id").valid());
  EXPECT_EQ(field_values(docs, "a"), (std::vector<std::string>{"<missing>", "2", "1", "3"}));
}

TEST_F(EngineTest, UniqueIndexesAndDuplicateKeys) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"c","documents":[{"_id":1,"a":1,"b":1},{"_id":2,"a":1,"b":2}]})")));
  // Existing data violates a unique index on a.
  Bytes r = cmd(R"({"createIndexes":"c","indexes":[{"key":{"a":1},"name":"a_1","unique":true}]})");
  EXPECT_EQ(code(r), 11000);
  // A compound unique index is fine, and its spec is kept verbatim.
  r = cmd(
      R"({"createIndexes":"c","indexes":[{"key":{"a":1,"b":-1},"name":"ab","unique":true,"collation":{"locale":"simple"}}]})");
  ASSERT_TRUE(ok(r));
  EXPECT_EQ(num(DocView(r), "numIndexesAfter"), 2);
  auto idx = batch(cmd(R"({"listIndexes":"c"})"));
  ASSERT_EQ(idx.size(), 2u);
  EXPECT_TRUE(DocView(idx[1]).find_path("collation.locale").valid());
  EXPECT_EQ(num(DocView(idx[1]), "v"), 2);
  // Ordered insert stops at the first duplicate; unordered goes on.
  r = cmd(R"({"insert":"c","documents":[{"_id":3,"a":2,"b":1},{"_id":1},{"_id":4,"a":9}]})");
  EXPECT_TRUE(ok(r));
  EXPECT_EQ(num(DocView(r), "n"), 1);
  EXPECT_EQ(num(DocView(r), "writeErrors.0.code"), 11000);
  EXPECT_EQ(num(DocView(r), "writeErrors.0.index"), 1);
  r = cmd(R"({"insert":"c","documents":[{"_id":5,"a":1,"b":1},{"_id":6,"a":3},{"_id":6}],"ordered":false})");
  EXPECT_EQ(num(DocView(r), "n"), 1);
  EXPECT_EQ(num(DocView(r), "writeErrors.0.index"), 0);  // (a,b) = (1,1) taken
  EXPECT_EQ(num(DocView(r), "writeErrors.1.index"), 2);  // _id 6 taken
  std::string msg(DocView(r).find_path("writeErrors.1.errmsg").as_string());
  EXPECT_NE(msg.find("index: _id_ dup key"), std::string::npos) << msg;
  // Update into a duplicate fails too; dropping the index lifts the constraint.
  r = cmd(R"({"update":"c","updates":[{"q":{"_id":6},"u":{"$set":{"a":1,"b":1}}}]})");
  EXPECT_EQ(num(DocView(r), "writeErrors.0.code"), 11000);
  ASSERT_TRUE(ok(cmd(R"({"dropIndexes":"c","index":"ab"})")));
  r = cmd(R"({"update":"c","updates":[{"q":{"_id":6},"u":{"$set":{"a":1,"b":1}}}]})");
  EXPECT_EQ(num(DocView(r), "nModified"), 1);
  EXPECT_EQ(code(cmd(R"({"dropIndexes":"c","index":"_id_"})")), 72);
  EXPECT_EQ(code(cmd(R"({"dropIndexes":"c","index":"nope"})")), 27);
}

TEST_F(EngineTest, IdRangeScansWithMixedTypes) {
  std::string docs;
  for (int i = 0; i < 20; ++i)
    docs += (docs.empty() ? "" : ",") + std::string("{\"_id\":") + std::to_string(19 - i) + "}";
  docs +=
      R"(,{"_id":"b"},{"_id":"a"},{"_id":{"$oid":"000000000000000000000001"}},{"_id":2.5},{"_id":null},{"_id":{"$numberLong":"7000000000"}})";
  ASSERT_TRUE(ok(cmd(R"({"insert":"c","documents":[)" + docs + "]}")));
  auto ids = [&](std::string_view q) { return field_values(find(q), "_id"); };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(R"({"find":"c","filter":{"_id":{"$gte":2,"$lt":5}}})"), (V{"2", "2.5", "3", "4"}));
  EXPECT_EQ(ids(R"({"find":"c","filter":{"_id":{"$gte":"a"}}})"), (V{"\"a\"", "\"b\""}));
  EXPECT_EQ(ids(R"({"find":"c","filter":{"_id":{"$gt":18}},"hint":{"_id":1}})"), (V{"19", "7000000000"}));
  EXPECT_EQ(ids(R"({"find":"c","filter":{"_id":{"$lte":1}},"sort":{"_id":-1}})"), (V{"1", "0"}));
  // Full _id order: null < numbers < strings < ObjectId.
  auto all = ids(R"({"find":"c","sort":{"_id":1},"batchSize":1000})");
  ASSERT_EQ(all.size(), 26u);
  EXPECT_EQ(all.front(), "null");
  EXPECT_EQ(all[all.size() - 3], "\"a\"");
  EXPECT_EQ(all.back(), "ObjectId('000000000000000000000001')");
  EXPECT_EQ(num(DocView(cmd(R"({"count":"c","query":{"_id":{"$gte":10,"$lt":15}}})")), "n"), 5);
}

TEST_F(EngineTest, CursorsBatchesAndKill) {
  std::vector<Bytes> docs;
  for (int i = 0; i < 250; ++i) {
    Builder b;
    b.append_int32("_id", i);
    docs.push_back(b.finish());
  }
  ASSERT_TRUE(engine.insert_documents("test", "c", docs));
  Bytes r = cmd(R"({"find":"c"})");
  EXPECT_EQ(batch(r).size(), 101u);
  std::int64_t id = cursor_id(r);
  ASSERT_NE(id, 0);
  auto more = [&](std::int64_t cid, int bs) {
    return cmd(R"({"getMore":{"$numberLong":")" + std::to_string(cid) + R"("},"collection":"c")" +
               (bs ? ",\"batchSize\":" + std::to_string(bs) : std::string()) + "}");
  };
  r = more(id, 100);
  EXPECT_EQ(batch(r).size(), 100u);
  EXPECT_EQ(cursor_id(r), id);
  r = more(id, 0);
  auto last = batch(r);
  ASSERT_EQ(last.size(), 49u);
  EXPECT_EQ(num(DocView(last.back()), "_id"), 249);
  EXPECT_EQ(cursor_id(r), 0);
  EXPECT_EQ(code(more(id, 0)), 43);
  // limit and batchSize together; killCursors.
  r = cmd(R"({"find":"c","batchSize":10,"limit":15})");
  EXPECT_EQ(batch(r).size(), 10u);
  id = cursor_id(r);
  EXPECT_EQ(batch(more(id, 0)).size(), 5u);
  r = cmd(R"({"find":"c","batchSize":2})");
  id = cursor_id(r);
  EXPECT_EQ(engine.open_cursors(), 1u);
  r = cmd(R"({"killCursors":"c","cursors":[{"$numberLong":")" + std::to_string(id) + R"("}]})");
  EXPECT_EQ(num(DocView(r), "cursorsKilled.0"), static_cast<double>(id));
  EXPECT_EQ(engine.open_cursors(), 0u);
  EXPECT_EQ(code(more(id, 0)), 43);
}

TEST_F(EngineTest, BatchesAreCappedAt16MiB) {
  std::string big(1 << 20, 'x');
  std::vector<Bytes> docs;
  for (int i = 0; i < 40; ++i) {
    Builder b;
    b.append_int32("_id", i).append_string("s", big);
    docs.push_back(b.finish());
  }
  ASSERT_TRUE(engine.insert_documents("test", "big", docs));
  Bytes r = cmd(R"({"find":"big","batchSize":1000})");
  auto first = batch(r);
  EXPECT_GE(first.size(), 14u);
  EXPECT_LE(first.size(), 16u);
  EXPECT_LE(r.size(), 17u << 20);
  std::size_t total = first.size();
  std::int64_t id = cursor_id(r);
  while (id != 0) {
    r = cmd(R"({"getMore":{"$numberLong":")" + std::to_string(id) + R"("},"collection":"big"})");
    auto b = batch(r);
    EXPECT_LE(b.size(), 16u);
    total += b.size();
    id = cursor_id(r);
  }
  EXPECT_EQ(total, 40u);
  // A document over 16 MiB is refused.
  Builder huge;
  huge.append_int32("_id", 99).append_string("s", std::string(17 << 20, 'y'));
  Bytes h = huge.finish();
  EXPECT_FALSE(engine.insert_documents("test", "big", std::span<const Bytes>(&h, 1)));
}

TEST_F(EngineTest, RenameWithDropTarget) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"a","documents":[{"_id":1}]})")));
  ASSERT_TRUE(ok(cmd(R"({"insert":"b","documents":[{"_id":2},{"_id":3}]})")));
  EXPECT_EQ(code(cmd(R"({"renameCollection":"test.a","to":"test.b"})", "admin")), 48);
  ASSERT_TRUE(ok(cmd(R"({"renameCollection":"test.a","to":"test.b","dropTarget":true})", "admin")));
  EXPECT_EQ(field_values(find(R"({"find":"b"})"), "_id"), (std::vector<std::string>{"1"}));
  EXPECT_TRUE(find(R"({"find":"a"})").empty());
  EXPECT_EQ(code(cmd(R"({"renameCollection":"test.a","to":"test.z"})", "admin")), 26);
  ASSERT_TRUE(ok(cmd(R"({"renameCollection":"test.b","to":"other.b"})", "admin")));
  EXPECT_EQ(batch(cmd(R"({"find":"b"})", "other")).size(), 1u);
}

TEST_F(EngineTest, AggregateStages) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"s","documents":[{"_id":1,"k":"a","v":1},{"_id":2,"k":"b","v":5},
    {"_id":3,"k":"a","v":3},{"_id":4,"k":"b","v":2.5},{"_id":5,"k":"c"}]})")));
  auto docs = batch(cmd(R"({"aggregate":"s","pipeline":[{"$match":{"v":{"$exists":true}}},
    {"$group":{"_id":"$k","total":{"$sum":"$v"},"lo":{"$min":"$v"},"hi":{"$max":"$v"},"f":{"$first":"$_id"},"n":{"$sum":1}}},
    {"$sort":{"_id":1}}],"cursor":{}})"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(field_values(docs, "_id"), (std::vector<std::string>{"\"a\"", "\"b\""}));
  EXPECT_EQ(num(DocView(docs[0]), "total"), 4);
  EXPECT_EQ(num(DocView(docs[1]), "total"), 7.5);
  EXPECT_EQ(num(DocView(docs[1]), "lo"), 2.5);
  EXPECT_EQ(num(DocView(docs[1]), "hi"), 5);
  EXPECT_EQ(num(DocView(docs[0]), "f"), 1);
  EXPECT_EQ(num(DocView(docs[0]), "n"), 2);
  docs = batch(cmd(
      R"({"aggregate":"s","pipeline":[{"$sort":{"_id":-1}},{"$skip":1},{"$limit":2},{"$project":{"k":1}}],"cursor":{}})"));
  EXPECT_EQ(field_values(docs, "_id"), (std::vector<std::string>{"4", "3"}));
  EXPECT_FALSE(DocView(docs[0]).find("v").valid());
  docs = batch(cmd(R"({"aggregate":"s","pipeline":[{"$match":{"k":"a"}},{"$count":"n"}],"cursor":{}})"));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(num(DocView(docs[0]), "n"), 2);
  EXPECT_EQ(batch(cmd(R"({"aggregate":"s","pipeline":[{"$sample":{"size":3}}],"cursor":{}})")).size(), 3u);
  docs = batch(cmd(R"({"aggregate":"s","pipeline":[{"$collStats":{"storageStats":{}}}],"cursor":{}})"));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(num(DocView(docs[0]), "storageStats.count"), 5);
  EXPECT_GT(num(DocView(docs[0]), "storageStats.avgObjSize"), 10);
  EXPECT_EQ(code(cmd(R"({"aggregate":"s","pipeline":[{"$lookup":{}}],"cursor":{}})")), 40324);
  Bytes d = cmd(R"({"distinct":"s","key":"k","query":{"_id":{"$gte":2}}})");
  EXPECT_EQ(render_value(DocView(d).find("values")), R"([ "a", "b", "c" ])");
  EXPECT_EQ(code(cmd(R"({"aggregate":"s","pipeline":[]})")), 9);
}

TEST_F(EngineTest, UpdatesDeletesAndUpserts) {
  ASSERT_TRUE(ok(cmd(R"({"insert":"u","documents":[{"_id":1,"a":1,"n":{"x":1}},{"_id":2,"a":1}]})")));
  Bytes r = cmd(R"({"update":"u","updates":[{"q":{"a":1},"u":{"$set":{"b":2,"n.y":3},"$inc":{"a":5}},"multi":true}]})");
  EXPECT_EQ(num(DocView(r), "n"), 2);
  EXPECT_EQ(num(DocView(r), "nModified"), 2);
  auto docs = find(R"({"find":"u","filter":{"_id":1}})");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(num(DocView(docs[0]), "a"), 6);
  EXPECT_EQ(num(DocView(docs[0]), "n.y"), 3);
  EXPECT_EQ(num(DocView(docs[0]), "n.x"), 1);
  r = cmd(R"({"update":"u","updates":[{"q":{"_id":2},"u":{"z":1}}]})");
  EXPECT_EQ(num(DocView(r), "nModified"), 1);
  docs = find(R"({"find":"u","filter":{"_id":2}})");
  EXPECT_EQ(DocView(docs[0]).count(), 2u);  // _id and z
  r = cmd(R"({"update":"u","updates":[{"q":{"_id":9},"u":{"$set":{"q":1}},"upsert":true}]})");
  EXPECT_EQ(num(DocView(r), "upserted.0._id"), 9);
  r = cmd(R"({"update":"u","updates":[{"q":{"_id":2},"u":{"_id":3}}]})");
  EXPECT_EQ(num(DocView(r), "writeErrors.0.code"), 66);
  r = cmd(R"({"delete":"u","deletes":[{"q":{"_id":{"$gte":2}},"limit":0}]})");
  EXPECT_EQ(num(DocView(r), "n"), 2);
  EXPECT_EQ(find(R"({"find":"u"})").size(), 1u);
}

TEST_F(EngineTest, CatalogCommands) {
  ASSERT_TRUE(ok(cmd(R"({"create":"capped","capped":true,"size":4096,"max":3})")));
  ASSERT_TRUE(ok(cmd(R"({"create":"v","viewOn":"capped","pipeline":[{"$match":{"x":{"$gt":1}}}]})")));
  ASSERT_TRUE(ok(cmd(R"({"create":"ts","timeseries":{"timeField":"t"},"lsid":{"id":1}})")));
  EXPECT_EQ(code(cmd(R"({"create":"capped"})")), 48);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(ok(cmd(R"({"insert":"capped","documents":[{"x":)" + std::to_string(i) + "}]}")));
  EXPECT_EQ(field_values(find(R"({"find":"capped"})"), "x"), (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_EQ(field_values(find(R"({"find":"v","filter":{"x":{"$lt":4}}})"), "x"), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(code(cmd(R"({"insert":"v","documents":[{"x":1}]})")), 166);
  auto colls = batch(cmd(R"({"listCollections":1,"filter":{"type":{"$ne":"view"}}})"));
  ASSERT_EQ(colls.size(), 2u);
  for (auto& c : colls) {
    DocView d(c);
    EXPECT_TRUE(d.find_path("info.uuid").valid());
    if (d.find("name").as_string() == "ts") {
      EXPECT_EQ(d.find("type").as_string(), "timeseries");
      EXPECT_TRUE(d.find_path("options.timeseries.timeField").valid());
      EXPECT_FALSE(d.find_path("options.lsid").valid());
    }
  }
  auto views = batch(cmd(R"({"listCollections":1,"filter":{"name":"v"}})"));
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(DocView(views[0]).find_path("options.viewOn").as_string(), "capped");
  Bytes dbs = cmd(R"({"listDatabases":1})", "admin");
  EXPECT_EQ(DocView(dbs).find_path("databases.0.name").as_string(), "test");
  EXPECT_TRUE(ok(cmd(R"({"drop":"ts"})")));
  EXPECT_EQ(code(cmd(R"({"drop":"ts"})")), 26);
  EXPECT_TRUE(ok(cmd(R"({"dropDatabase":1})")));
  EXPECT_TRUE(batch(cmd(R"({"listCollections":1})")).empty());
  EXPECT_EQ(code(cmd(R"({"frobnicate":1})")), 59);
  EXPECT_EQ(std::string(DocView(cmd(R"({"frobnicate":1})")).find("codeName").as_string()), "CommandNotFound");
}

TEST_F(EngineTest, HelloAndDriverHandshakeFields) {
  Bytes r = cmd(
      R"({"hello":1,"helloOk":true,"compression":["snappy","zstd","zlib"],"client":{"driver":{"name":"x"}},"lsid":{"id":1}})",
      "admin");
  ASSERT_TRUE(ok(r));
  DocView d(r);
  EXPECT_TRUE(d.find("isWritablePrimary").as_bool());
  EXPECT_EQ(num(d, "maxBsonObjectSize"), 16777216);
  EXPECT_EQ(num(d, "maxMessageSizeBytes"), 48000000);
  EXPECT_EQ(num(d, "maxWriteBatchSize"), 100000);
  EXPECT_EQ(d.find_path("compression.0").as_string(), "zstd");
  EXPECT_EQ(d.find_path("compression.1").as_string(), "zlib");
  EXPECT_EQ(session.compression, (std::vector<std::string>{"zstd", "zlib"}));
  EXPECT_FALSE(d.find("setName").valid());
  r = cmd(R"({"isMaster":1})", "admin");
  EXPECT_TRUE(DocView(r).find("ismaster").as_bool());
  EXPECT_TRUE(ok(cmd(R"({"endSessions":[{"id":1}]})", "admin")));
  EXPECT_TRUE(ok(cmd(R"({"ping":1})", "admin")));
  EXPECT_TRUE(ok(cmd(R"({"buildInfo":1})", "admin")));
}

TEST(EngineReplSet, OplogEntriesAndTailing) {
  EngineOptions o;
  o.repl_set = "rs0";
  o.oplog_max_bytes = 4096;
  Engine engine(o);
  Session s;
  Bytes r = run(engine, s, R"({"hello":1})", "admin");
  EXPECT_EQ(DocView(r).find("setName").as_string(), "rs0");
  EXPECT_EQ(DocView(r).find_path("hosts.0").as_string(), "127.0.0.1:27017");
  ASSERT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":1}]})")));
  ASSERT_TRUE(ok(run(engine, s, R"({"update":"c","updates":[{"q":{"_id":1},"u":{"$set":{"a":1}}}]})")));
  ASSERT_TRUE(ok(run(engine, s, R"({"delete":"c","deletes":[{"q":{"_id":1},"limit":1}]})")));
  r = run(engine, s, R"({"find":"oplog.rs","tailable":true,"awaitData":true})", "local");
  auto ops = batch(r);
  EXPECT_EQ(field_values(ops, "op"), (std::vector<std::string>{"\"i\"", "\"u\"", "\"d\""}));
  EXPECT_EQ(field_values(ops, "ns"), (std::vector<std::string>(3, "\"test.c\"")));
  EXPECT_EQ(num(DocView(ops[1]), "o2._id"), 1);
  EXPECT_EQ(num(DocView(ops[1]), "o.a"), 1);
  EXPECT_EQ(DocView(ops[0]).find("ts").type(), formats::BsonType::kTimestamp);
  std::int64_t id = cursor_id(r);
  ASSERT_NE(id, 0);
  ASSERT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":2}]})")));
  r = run(engine, s,
          R"({"getMore":{"$numberLong":")" + std::to_string(id) + R"("},"collection":"oplog.rs","maxTimeMS":10})",
          "local");
  ops = batch(r);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(DocView(ops[0]).find("op").as_string(), "i");
  // Roll the oplog over: the tailing cursor loses its position.
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(
        ok(run(engine, s, R"({"insert":"d","documents":[{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]})")));
  r = run(engine, s,
          R"({"getMore":{"$numberLong":")" + std::to_string(id) + R"("},"collection":"oplog.rs","maxTimeMS":10})",
          "local");
  EXPECT_EQ(code(r), 136);
  // applyOps replays entries.
  r = run(
      engine, s,
      R"({"applyOps":[{"op":"i","ns":"test.x","o":{"_id":1,"a":1}},{"op":"u","ns":"test.x","o2":{"_id":1},"o":{"$set":{"a":2}}},
    {"op":"c","ns":"test.$cmd","o":{"create":"y"}},{"op":"i","ns":"test.y","o":{"_id":5}},{"op":"d","ns":"test.y","o":{"_id":5}}]})",
      "admin");
  ASSERT_TRUE(ok(r));
  EXPECT_EQ(num(DocView(r), "applied"), 5);
  auto x = batch(run(engine, s, R"({"find":"x"})"));
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(num(DocView(x[0]), "a"), 2);
  EXPECT_TRUE(batch(run(engine, s, R"({"find":"y"})")).empty());
}

TEST(EngineFaults, FailRulesCountDown) {
  EngineOptions o;
  o.fail_rules.push_back({"find", 10107, 2});
  o.fail_rules.push_back({"insert", 10107, 1});
  Engine engine(o);
  Session s;
  Bytes w = run(engine, s, R"({"insert":"c","documents":[{"_id":1}]})");
  EXPECT_EQ(code(w), 10107);
  EXPECT_EQ(DocView(w).find_path("errorLabels.0").as_string(), "RetryableWriteError");
  EXPECT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":1}]})")));
  EXPECT_EQ(code(run(engine, s, R"({"find":"c"})")), 10107);
  EXPECT_EQ(std::string(DocView(run(engine, s, R"({"find":"c"})")).find("codeName").as_string()), "NotWritablePrimary");
  EXPECT_TRUE(ok(run(engine, s, R"({"find":"c"})")));
}

TEST(EngineAuth, ScramLoginGatesCommands) {
  EngineOptions o;
  o.user = "admin";
  o.password = "s3cret";
  Engine engine(o);
  Session s;
  EXPECT_EQ(code(run(engine, s, R"({"find":"c"})")), 13);
  Bytes hello = run(engine, s, R"({"hello":1,"saslSupportedMechs":"admin.admin"})", "admin");
  EXPECT_EQ(DocView(hello).find_path("saslSupportedMechs.1").as_string(), "SCRAM-SHA-256");
  for (auto mech : {io::ScramMechanism::kSha256, io::ScramMechanism::kSha1}) {
    for (std::string pw : {std::string("wrong"), std::string("s3cret")}) {
      Session t;
      io::ScramClient client(mech, "admin", pw);
      auto first = client.first_message();
      ASSERT_TRUE(first.is_ok());
      Builder b;
      b.append_int32("saslStart", 1).append_string("mechanism", io::mechanism_name(mech));
      b.append_binary("payload", 0, io::as_bytes(*first))
          .open_document("options")
          .append_bool("skipEmptyExchange", true)
          .close();
      b.append_string("$db", "admin");
      Bytes start = b.finish();
      Bytes r = engine.run(t, DocView(start));
      ASSERT_TRUE(ok(r));
      auto payload = DocView(r).find("payload").as_binary().data;
      auto final_msg =
          client.handle_server_first(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
      ASSERT_TRUE(final_msg.is_ok());
      Builder c;
      c.append_int32("saslContinue", 1)
          .append_int32("conversationId", static_cast<std::int32_t>(num(DocView(r), "conversationId")));
      c.append_binary("payload", 0, io::as_bytes(*final_msg)).append_string("$db", "admin");
      Bytes cont = c.finish();
      r = engine.run(t, DocView(cont));
      if (pw == "wrong") {
        EXPECT_EQ(code(r), 18);
        EXPECT_EQ(code(run(engine, t, R"({"find":"c"})")), 13);
      } else {
        ASSERT_TRUE(ok(r));
        EXPECT_TRUE(DocView(r).find("done").as_bool());
        payload = DocView(r).find("payload").as_binary().data;
        EXPECT_TRUE(
            client.handle_server_final(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()))
                .is_ok());
        EXPECT_TRUE(ok(run(engine, t, R"({"find":"c"})")));
      }
    }
  }
}

TEST(Generator, DeterministicSizedAndCompressible) {
  DocumentGenerator a(1000, 7), b(1000, 7), c(1000, 8);
  std::size_t total = 0;
  std::string all;
  for (int i = 0; i < 2000; ++i) {
    Bytes x = a.next(), y = b.next(), z = c.next();
    ASSERT_EQ(x, y);
    if (i == 0) {
      EXPECT_NE(x, z);
    }
    ASSERT_TRUE(formats::validate(x, {.check_utf8 = true}).is_ok());
    total += x.size();
    all.append(reinterpret_cast<const char*>(x.data()), x.size());
  }
  double avg = static_cast<double>(total) / 2000;
  EXPECT_GT(avg, 900);
  EXPECT_LT(avg, 1100);
  uLongf out_len = compressBound(all.size());
  std::vector<Bytef> out(out_len);
  ASSERT_EQ(compress2(out.data(), &out_len, reinterpret_cast<const Bytef*>(all.data()), all.size(), 6), Z_OK);
  double ratio = static_cast<double>(all.size()) / static_cast<double>(out_len);
  EXPECT_GT(ratio, 2.5) << ratio;
  EXPECT_LT(ratio, 6.0) << ratio;

  auto spec = parse_generate_spec("db.coll:300:200:5");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->count, 300u);
  EXPECT_EQ(spec->seed, 5u);
  EXPECT_FALSE(parse_generate_spec("nodot:1:1").ok());
  Engine engine;
  ASSERT_TRUE(generate_into(engine, *spec));
  Session s;
  EXPECT_EQ(num(DocView(run(engine, s, R"({"count":"coll"})", "db")), "n"), 300);
}

}  // namespace
}  // namespace bsonpipe::minimongod::test
