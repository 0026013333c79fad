// Restore planning and input units, without a server: directory scanning with mongorestore's
// skip rules, renames, the .bson batcher's error reporting and limits, index spec preparation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "formats/extjson.hpp"
#include "io/compress.hpp"
#include "pipeline/ops/restore.hpp"
#include "pipeline/ops/restore_plan.hpp"
#include "pipeline/sources/restore_source.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;

fs::path testdata() {
  return test::fixtures_dir() / "mongo-tools-testdata/mongorestore/testdata";
}

Bytes docs(int n, int pad = 10) {
  Bytes all;
  for (int i = 0; i < n; ++i) {
    Builder b;
    b.append_int32("_id", i).append_string("s", std::string(static_cast<std::size_t>(pad), 'p'));
    Bytes d = b.finish();
    all.insert(all.end(), d.begin(), d.end());
  }
  return all;
}

Bytes json(std::string_view j) {
  auto r = formats::extjson::parse(j);
  EXPECT_TRUE(r.is_ok()) << j;
  return r ? *r : Bytes{};
}

std::vector<std::string> target_names(const Plan& p) {
  std::vector<std::string> out;
  for (auto& t : p.targets) out.push_back(t.source_ns() + "->" + t.ns());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RestorePlan, TestdirsTargetsAndSkips) {
  auto p = plan_directory(testdata() / "testdirs", {});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(target_names(*p), (std::vector<std::string>{"db1.c1->db1.c1", "db1.c2->db1.c2", "db1.c3->db1.c3",
                                                        "db1.c4->db1.c4", "db2.c1->db2.c1"}));
  EXPECT_TRUE(p->has_oplog);
  auto has = [&](std::string_view s) {
    return std::any_of(p->skipped.begin(), p->skipped.end(), [&](auto& m) { return m.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(has("badfile.txt\", skipping"));
  EXPECT_TRUE(has("baddir\", skipping"));
  EXPECT_TRUE(has("c2.txt\", skipping"));
}

TEST(RestorePlan, FiltersAndRenames) {
  PlanOptions o;
  o.ns_include = {"db1.*"};
  o.ns_exclude = {"db1.c2"};
  o.ns_from = {"db1.$c$"};
  o.ns_to = {"x.$c$_r"};
  auto p = plan_directory(testdata() / "testdirs", o);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(target_names(*p), (std::vector<std::string>{"db1.c1->x.c1_r", "db1.c3->x.c3_r", "db1.c4->x.c4_r"}));

  PlanOptions bad;
  bad.ns_from = {"db1.c1"};
  bad.ns_to = {"bad$db.c1"};
  auto q = plan_directory(testdata() / "testdirs", bad);
  ASSERT_FALSE(q.is_ok());
  EXPECT_NE(q.status().message().find("bad$db"), std::string::npos) << q.status().message();
}

TEST(RestorePlan, DatabaseDirAndSingleFile) {
  PlanOptions o;
  o.db = "other";
  auto p = plan_directory(testdata() / "testdirs/db1", o);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->targets.size(), 4u);
  for (auto& t : p->targets) EXPECT_EQ(t.db, "other");

  o.collection = "renamed";
  auto f = plan_directory(testdata() / "testdirs/db1/c4.bson", o);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  ASSERT_EQ(f->targets.size(), 1u);
  EXPECT_EQ(f->targets[0].ns(), "other.renamed");
  EXPECT_TRUE(f->targets[0].has_metadata);  // the sibling c4.metadata.json

  PlanOptions only_coll;
  only_coll.collection = "x";
  EXPECT_FALSE(plan_directory(testdata() / "testdirs", only_coll).is_ok());
}

TEST(RestorePlan, LongNamesAndTimeseries) {
  auto p = plan_directory(testdata() / "longcollectionname", {});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  ASSERT_EQ(p->targets.size(), 1u);
  EXPECT_GT(p->targets[0].collection.size(), 238u);

  auto ts = plan_directory(testdata() / "timeseries_tests/ts_dump", {});
  ASSERT_TRUE(ts.is_ok()) << ts.status().to_string();
  ASSERT_EQ(ts->targets.size(), 1u);
  EXPECT_EQ(ts->targets[0].kind, TargetKind::kTimeseries);
  EXPECT_EQ(ts->targets[0].data_collection, "system.buckets.foo_ts");
  EXPECT_FALSE(ts->targets[0].data_file.empty());
}

TEST(RestorePlan, BadMetadataNamesTheFile) {
  fs::path root = test::temp_dir("restore_plan_badmeta");
  fs::create_directories(root / "db");
  test::write_file(root / "db/c.bson", docs(1));
  std::string bad = "{\"indexes\":[";
  test::write_file(root / "db/c.metadata.json", {reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size()});
  auto p = plan_directory(root, {});
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("c.metadata.json"), std::string::npos) << p.status().message();
}

TEST(RestorePlan, SkipRules) {
  PlanOptions o;
  EXPECT_TRUE(skip_reason("db", "system.profile", o).has_value());
  EXPECT_TRUE(skip_reason("admin", "system.users", o).has_value());
  EXPECT_TRUE(skip_reason("config", "system.sessions", o).has_value());
  EXPECT_TRUE(skip_reason("db", "system.views", o).has_value());
  EXPECT_FALSE(skip_reason("db", "system.js", o).has_value());
  EXPECT_FALSE(skip_reason("db", "coll", o).has_value());
}

TEST(RestoreSource, BatchesRespectLimits) {
  fs::path root = test::temp_dir("restore_source_limits");
  test::write_file(root / "c.bson", docs(100));
  BatchLimits lim;
  lim.max_documents = 7;
  auto r = BsonFileReader::open(root / "c.bson", formats::Compression::kNone, lim);
  ASSERT_TRUE(r.is_ok());
  std::size_t total = 0, batches = 0;
  DocumentBatch b;
  for (;;) {
    auto res = r->next(b);
    ASSERT_TRUE(res.is_ok()) << res.status().to_string();
    if (*res == ReadResult::kEnd) break;
    EXPECT_LE(b.count, 7u);
    EXPECT_EQ(*formats::walk_documents(b.data), b.count);
    total += b.count;
    ++batches;
  }
  EXPECT_EQ(total, 100u);
  EXPECT_EQ(batches, 15u);
}

// Restore gives each inserted batch's buffer back: the reader fills it again instead of
// allocating (and page-faulting) a new multi-megabyte one per batch, and the batches stay exact.
TEST(RestoreSource, BatchesReuseBuffersGivenBack) {
  fs::path root = test::temp_dir("restore_source_reuse");
  Bytes all = docs(100, 3000);
  test::write_file(root / "c.bson", all);
  BatchLimits lim;
  lim.max_documents = 7;
  auto r = BsonFileReader::open(root / "c.bson", formats::Compression::kNone, lim);
  ASSERT_TRUE(r.is_ok());
  // Large enough never to free a buffer given back: every given buffer stays alive, so a batch
  // at the address of one came from the pool, not from malloc reusing freed memory.
  BufferPool pool(100);
  r->reuse_buffers_from(&pool);
  Bytes read_back;
  std::size_t batches = 0;
  std::size_t refilled = 0;  // batches whose memory is that of a buffer given back
  std::set<const std::uint8_t*> given;
  for (;;) {
    DocumentBatch b;
    auto res = r->next(b);
    ASSERT_TRUE(res.is_ok()) << res.status().to_string();
    if (*res == ReadResult::kEnd) break;
    read_back.insert(read_back.end(), b.data.begin(), b.data.end());
    ++batches;
    if (given.count(b.data.data()) != 0) ++refilled;
    given.insert(b.data.data());
    pool.give(std::move(b.data));
  }
  EXPECT_EQ(read_back, all);
  EXPECT_EQ(batches, 15u);
  // The first two are new: the buffer the reader starts with and the one its first cut leaves.
  EXPECT_EQ(refilled, batches - 2) << "every batch after the second fills a buffer given back";
}

TEST(RestoreSource, GzipDetectedByMagicAndTruncationReported) {
  fs::path root = test::temp_dir("restore_source_gzip");
  Bytes plain = docs(50, 100);
  Bytes gz;
  ASSERT_TRUE(io::BlockCompressor::create(io::Codec::kGzip, 6)->compress(plain, gz).is_ok());
  test::write_file(root / "c.bson", gz);  // no .gz in the name: the magic says gzip
  auto r = BsonFileReader::open(root / "c.bson", formats::Compression::kNone, {});
  ASSERT_TRUE(r.is_ok());
  DocumentBatch b;
  auto res = r->next(b);
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(b.count, 50u);
  EXPECT_EQ(b.data, plain);

  Bytes cut(gz.begin(), gz.end() - 12);
  test::write_file(root / "cut.bson.gz", cut);
  auto t = BsonFileReader::open(root / "cut.bson.gz", formats::Compression::kGzip, {});
  ASSERT_TRUE(t.is_ok());
  Status err;
  for (;;) {
    auto x = t->next(b);
    if (!x) {
      err = x.status();
      break;
    }
    if (*x == ReadResult::kEnd) break;
  }
  EXPECT_FALSE(err.is_ok());
  EXPECT_NE(err.message().find("cut.bson.gz"), std::string::npos) << err.message();
}

TEST(RestoreSource, BadLengthAndObjcheckOffsets) {
  fs::path root = test::temp_dir("restore_source_bad");
  Bytes d = docs(3);
  std::size_t first = static_cast<std::size_t>(formats::load_i32(d.data()));
  Bytes bad = d;
  bad[first] = 3;
  bad[first + 1] = bad[first + 2] = bad[first + 3] = 0;
  test::write_file(root / "bad.bson", bad);
  auto r = BsonFileReader::open(root / "bad.bson", formats::Compression::kNone, {});
  ASSERT_TRUE(r.is_ok());
  DocumentBatch b;
  auto res = r->next(b);
  ASSERT_FALSE(res.is_ok());
  EXPECT_EQ(res.status().offset(), static_cast<std::int64_t>(first));

  // Invalid UTF-8 inside a string: only --objcheck sees it.
  Bytes utf = d;
  utf[first + 20] = 0xFF;  // a byte of the second document's "s" value
  test::write_file(root / "utf.bson", utf);
  auto plain = BsonFileReader::open(root / "utf.bson", formats::Compression::kNone, {});
  ASSERT_TRUE(plain.is_ok());
  EXPECT_TRUE(plain->next(b).is_ok());
  BatchLimits lim;
  lim.objcheck = true;
  auto checked = BsonFileReader::open(root / "utf.bson", formats::Compression::kNone, lim);
  ASSERT_TRUE(checked.is_ok());
  auto cr = checked->next(b);
  ASSERT_FALSE(cr.is_ok());
  EXPECT_NE(cr.status().to_string().find("UTF-8"), std::string::npos) << cr.status().to_string();
  EXPECT_GT(cr.status().offset(), static_cast<std::int64_t>(first));
}

TEST(RestoreIndexes, PrepareSpecs) {
  std::vector<Bytes> in = {
      json(R"({"v":2,"key":{"_id":1},"name":"_id_","ns":"a.b"})"),
      json(
          R"({"v":1,"key":{"a":1.0,"b":true,"c":{"$numberDecimal":"0"},"d":"","t":"text","n":-5},"name":"x","ns":"a.b","safe":true})"),
  };
  auto plain = prepare_index_specs(in, {});
  ASSERT_TRUE(plain.is_ok());
  ASSERT_EQ(plain->size(), 1u);
  DocView p((*plain)[0]);
  EXPECT_FALSE(p.find("ns").valid());
  EXPECT_FALSE(p.find("v").valid());
  EXPECT_TRUE(p.find("safe").valid());

  IndexSpecOptions keep;
  keep.keep_index_version = true;
  keep.convert_legacy_indexes = true;
  auto conv = prepare_index_specs(in, keep);
  ASSERT_TRUE(conv.is_ok());
  DocView c((*conv)[0]);
  EXPECT_TRUE(c.find("v").valid());
  EXPECT_FALSE(c.find("safe").valid());
  EXPECT_EQ(formats::compare_documents(c.find("key").as_document(),
                                       DocView(json(R"({"a":1,"b":1,"c":1,"d":1,"t":"text","n":-1})"))),
            0);

  EXPECT_FALSE(prepare_index_specs({json(R"({"key":{},"name":"x"})")}, {}).is_ok());
}

TEST(RestoreIndexes, SameSpec) {
  EXPECT_TRUE(same_index_spec(DocView(json(R"({"v":2,"key":{"a":1},"name":"a_1","unique":true})")),
                              DocView(json(R"({"name":"a_1","unique":true,"key":{"a":1.0}})"))));
  EXPECT_FALSE(same_index_spec(DocView(json(R"({"key":{"a":1},"name":"a_1","unique":true})")),
                               DocView(json(R"({"key":{"a":1},"name":"a_1"})"))));
  EXPECT_FALSE(same_index_spec(DocView(json(R"({"key":{"a":1,"b":1},"name":"x"})")),
                               DocView(json(R"({"key":{"b":1,"a":1},"name":"x"})"))));
}

TEST(RestoreOptionsTest, WriteConcernAndOptionChecks) {
  auto m = parse_write_concern("majority");
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(DocView(*m).find("w").as_string(), "majority");
  auto n = parse_write_concern("2");
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(DocView(*n).find("w").as_int32(), 2);
  auto j = parse_write_concern(R"({"w":1,"j":true})");
  ASSERT_TRUE(j.is_ok());
  EXPECT_TRUE(DocView(*j).find("j").as_bool());
  EXPECT_FALSE(parse_write_concern("{bad").is_ok());

  RestoreOptions o;
  o.uri = "mongodb://127.0.0.1:1/";
  o.input = testdata() / "foodump";
  o.preserve_uuid = true;
  auto rep = run_restore(o);
  EXPECT_FALSE(rep.is_ok());
  EXPECT_NE(rep.status().message().find("--preserveUUID"), std::string::npos);
  o.preserve_uuid = false;
  o.plan.oplog_replay = true;
  auto again = run_restore(o);
  EXPECT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("no oplog to replay"), std::string::npos) << again.status().message();
}

}  // namespace
}  // namespace bsonpipe::pipeline
