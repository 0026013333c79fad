// minimongod's oplog as a follower reads it: a tailable awaitData cursor on local.oplog.rs that
// waits for new entries, updates logged as `$v: 2` deltas (operator updates) or whole documents
// (replacements), and applyOps applying those deltas back.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "tests/minimongod/mm_util.hpp"
#include "tools/minimongod/oplog_diff.hpp"

namespace bsonpipe::minimongod::test {
namespace {

EngineOptions repl_opts() {
  EngineOptions o;
  o.repl_set = "rs0";
  o.oplog_v2_updates = true;
  return o;
}

// A document rendered as one value (field order included).
std::string render_doc(DocView d) {
  formats::Builder b;
  b.append_document("d", d);
  Bytes w = b.finish();
  return render_value(DocView(w).find("d"));
}

std::string get_more(std::int64_t id, int max_ms) {
  return R"({"getMore":{"$numberLong":")" + std::to_string(id) + R"("},"collection":"oplog.rs","maxTimeMS":)" +
         std::to_string(max_ms) + "}";
}

TEST(OplogTail, UpdatesAreLoggedAsV2DeltasOrWholeReplacements) {
  Engine engine(repl_opts());
  Session s;
  ASSERT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":1,"a":1,"b":2,"s":{"x":1}}]})")));
  ASSERT_TRUE(
      ok(run(engine, s, R"({"update":"c","updates":[{"q":{"_id":1},"u":{"$set":{"a":5,"n":1},"$unset":{"b":""}}}]})")));
  ASSERT_TRUE(ok(run(engine, s, R"({"update":"c","updates":[{"q":{"_id":1},"u":{"z":9}}]})")));
  auto ops = batch(run(engine, s, R"({"find":"oplog.rs"})", "local"));
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(num(DocView(ops[1]), "o.$v"), 2);
  EXPECT_EQ(render_doc(DocView(ops[1]).find("o").as_document()),
            render_doc(DocView(J(R"({"$v":2,"diff":{"d":{"b":false},"u":{"a":5},"i":{"n":1}}})"))));
  EXPECT_EQ(num(DocView(ops[2]), "o.z"), 9);
  EXPECT_FALSE(DocView(ops[2]).find_path("o.$v").valid());
}

TEST(OplogTail, ApplyOpsAppliesV2DeltasIdempotently) {
  Engine engine(repl_opts());
  Session s;
  ASSERT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":1,"a":1,"b":2,"s":{"x":1,"y":2}}]})")));
  std::string entry =
      R"({"op":"u","ns":"test.c","o2":{"_id":1},"o":{"$v":2,"diff":{"d":{"b":false},"u":{"a":5},"i":{"n":1},"ss":{"u":{"y":3}}}}})";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(ok(run(engine, s, R"({"applyOps":[)" + entry + "]}", "admin")));
  auto docs = batch(run(engine, s, R"({"find":"c"})"));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(render_doc(DocView(docs[0])), render_doc(DocView(J(R"({"_id":1,"a":5,"s":{"x":1,"y":3},"n":1})"))));
  // An array diff is refused rather than applied wrongly.
  Bytes r =
      run(engine, s,
          R"({"applyOps":[{"op":"u","ns":"test.c","o2":{"_id":1},"o":{"$v":2,"diff":{"sarr":{"a":true}}}}]})", "admin");
  EXPECT_FALSE(ok(r));
}

TEST(OplogTail, AwaitDataGetMoreWaitsForTheNextEntry) {
  Engine engine(repl_opts());
  Session s;
  ASSERT_TRUE(ok(run(engine, s, R"({"insert":"c","documents":[{"_id":0}]})")));
  Bytes r = run(engine, s, R"({"find":"oplog.rs","tailable":true,"awaitData":true})", "local");
  ASSERT_EQ(batch(r).size(), 1u);
  std::int64_t id = cursor_id(r);
  ASSERT_NE(id, 0);
  // Nothing new: the getMore waits its maxTimeMS and returns an empty batch with the cursor alive.
  auto t0 = std::chrono::steady_clock::now();
  r = run(engine, s, get_more(id, 300), "local");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  EXPECT_TRUE(batch(r).empty());
  EXPECT_EQ(cursor_id(r), id);
  // A write made while the getMore waits wakes it well before its maxTimeMS.
  auto waiter = std::async(std::launch::async, [&] {
    Session s2;
    auto start = std::chrono::steady_clock::now();
    Bytes rr = run(engine, s2, get_more(id, 20000), "local");
    return std::make_pair(rr, std::chrono::steady_clock::now() - start);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Session s3;
  ASSERT_TRUE(ok(run(engine, s3, R"({"delete":"c","deletes":[{"q":{"_id":0},"limit":1}]})")));
  auto [rr, took] = waiter.get();
  auto ops = batch(rr);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(DocView(ops[0]).find("op").as_string(), "d");
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace bsonpipe::minimongod::test
