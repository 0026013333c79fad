// bsonpipe dump against a real minimongod: every output mode round-trips (read back with our
// own format readers and compared with the server's documents as multisets of bytes), _id range
// splitting covers mixed-type collections exactly once, independent readers (python3-bson,
// gzip, zstd) accept the output, and failures leave nothing that looks like a finished dump.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "formats/archive.hpp"
#include "formats/dump_layout.hpp"
#include "formats/extjson.hpp"
#include "formats/hash.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "io/compress.hpp"
#include "io/uri.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;
using DocSet = std::map<std::string, std::vector<std::string>>;  // ns -> sorted raw documents

std::unique_ptr<io::Connection> connect(const std::string& uri) {
  auto u = io::parse_uri(uri);
  EXPECT_TRUE(u.is_ok());
  auto c = io::connect_selected(*u, io::ReadPreferenceMode::kPrimary);
  EXPECT_TRUE(c.is_ok()) << c.error().to_string();
  return std::move(*c);
}

// Every document of every non-system collection, read straight from the server.
DocSet server_documents(io::Connection& conn) {
  DocSet out;
  auto dbs = io::list_databases(conn, true);
  EXPECT_TRUE(dbs.is_ok());
  for (auto& db : *dbs) {
    if (db.name == "local" || db.name == "config" || db.name == "admin") continue;
    auto colls = io::list_collections(conn, db.name);
    EXPECT_TRUE(colls.is_ok());
    for (auto& c : *colls) {
      if (c.type == "view" || c.name.rfind("system.", 0) == 0) continue;
      auto& v = out[db.name + "." + c.name];
      auto cur = io::find(conn, db.name, c.name, {});
      EXPECT_TRUE(cur.is_ok());
      while (true) {
        for (ByteSpan d : cur->batch()) v.emplace_back(d.begin(), d.end());
        if (cur->exhausted()) break;
        auto more = cur->next_batch();
        EXPECT_TRUE(more.is_ok());
      }
      std::sort(v.begin(), v.end());
    }
  }
  return out;
}

Bytes decompress(const Bytes& stored) {
  io::Codec codec = io::detect_codec(stored);
  auto dec = io::StreamDecompressor::create(codec);
  Bytes out;
  EXPECT_TRUE(dec->feed(stored, out).is_ok());
  EXPECT_TRUE(dec->finish().is_ok());
  return out;
}

void add_documents(DocSet& out, const std::string& ns, ByteSpan docs) {
  auto& v = out[ns];
  std::size_t pos = 0;
  while (pos < docs.size()) {
    auto len = static_cast<std::size_t>(formats::load_i32(docs.data() + pos));
    EXPECT_TRUE(formats::validate(ByteSpan(docs.data() + pos, len)).is_ok());
    v.emplace_back(docs.begin() + static_cast<std::ptrdiff_t>(pos),
                   docs.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
}

// Reads a directory dump with our own formats code: <db>/<stem>.bson[.gz|.zst].
DocSet read_directory_dump(const fs::path& root) {
  DocSet out;
  for (auto& dbdir : fs::directory_iterator(root)) {
    if (!dbdir.is_directory()) continue;
    for (auto& f : fs::directory_iterator(dbdir.path())) {
      auto name = formats::split_dump_file_name(f.path().filename().string());
      if (!name || name->kind != formats::DumpFileKind::kBson) continue;
      auto coll = formats::collection_from_stem(name->stem);
      EXPECT_TRUE(coll.is_ok());
      Bytes raw = decompress(test::read_file(f.path()));
      out[dbdir.path().filename().string() + "." + *coll];  // an empty collection still counts
      add_documents(out, dbdir.path().filename().string() + "." + *coll, raw);
    }
  }
  for (auto& [ns, v] : out) std::sort(v.begin(), v.end());
  return out;
}

DocSet read_archive(const Bytes& stored) {
  Bytes raw = decompress(stored);
  formats::archive::Reader r(formats::archive::span_source(raw));
  auto prelude = r.read_prelude();
  EXPECT_TRUE(prelude.is_ok()) << prelude.status().to_string();
  DocSet out;
  for (auto& e : (*prelude)->collections)
    if (e.type != "view") out[e.ns()];
  while (true) {
    auto ev = r.next();
    EXPECT_TRUE(ev.is_ok()) << ev.status().to_string();
    if (!ev || ev->kind == formats::archive::EventKind::kEnd) break;
    if (ev->kind == formats::archive::EventKind::kDocuments)
      add_documents(out, std::string(ev->db) + "." + std::string(ev->collection), ev->documents);
  }
  for (auto& [ns, v] : out) std::sort(v.begin(), v.end());
  return out;
}

test::RunResult bsonpipe(std::vector<std::string> args) {
  args.insert(args.begin(), test::program("bsonpipe").string());
  return test::run(args);
}

class DumpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::MiniMongod({"--generate", "shop.orders:3000:700:11", "--generate", "shop.items:200:300:12",
                                    "--generate", "logs.events:1500:400:13", "--generate", "logs.empty:0:100:14"});
    auto conn = connect(server_->uri());
    // An index and a view, so the metadata has something to say.
    Bytes idx = Builder()
                    .open_document("key")
                    .append_int32("sku", 1)
                    .append_int32("qty", -1)
                    .close()
                    .append_string("name", "sku_1_qty_-1")
                    .append_bool("unique", false)
                    .finish();
    EXPECT_TRUE(io::create_indexes(*conn, "shop", "items", {DocView(idx)}).is_ok());
    Builder vb;
    vb.append_string("viewOn", "orders").open_array("pipeline").close();
    Bytes vopts = vb.finish();
    EXPECT_TRUE(io::create_collection(*conn, "shop", "recent", DocView(vopts)).is_ok());
    expected_ = new DocSet(server_documents(*conn));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete expected_;
  }
  static test::MiniMongod* server_;
  static DocSet* expected_;
};
test::MiniMongod* DumpTest::server_ = nullptr;
DocSet* DumpTest::expected_ = nullptr;

TEST_F(DumpTest, DirectoryModesRoundTripAndCarryMetadata) {
  ASSERT_EQ(expected_->at("shop.orders").size(), 3000u);
  for (std::string mode : {"plain", "gzip", "zstd"}) {
    SCOPED_TRACE(mode);
    auto out = test::temp_dir("dump-" + mode) / "d";
    std::vector<std::string> args{"dump",      "--uri", server_->uri(),      "--out",  out.string(),
                                  "--readers", "3",     "--split-threshold", "100000", "--progress",
                                  "none"};
    if (mode != "plain") args.push_back("--" + mode);
    auto r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_directory_dump(out), *expected_);
    std::string ext = mode == "gzip" ? ".gz" : mode == "zstd" ? ".zst" : "";
    EXPECT_TRUE(fs::exists(out / "shop" / ("orders.bson" + ext)));
    EXPECT_TRUE(fs::exists(out / "shop" / ("recent.metadata.json" + ext))) << "views get metadata";
    EXPECT_FALSE(fs::exists(out / "shop" / ("recent.bson" + ext))) << "views have no data file";
    EXPECT_FALSE(fs::exists(fs::path(out.string() + ".partial")));
    // The manifest vouches for every file: sizes and hashes as stored.
    auto m = formats::manifest_from_json(test::read_text(out / "manifest.json"));
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    EXPECT_TRUE(m->complete);
    for (auto& f : m->files) {
      Bytes stored = test::read_file(out / f.path);
      EXPECT_EQ(stored.size(), f.stored_bytes) << f.path;
      EXPECT_EQ(formats::xxh3_128_hex(stored), f.xxh3_128) << f.path;
    }
    // Metadata equals what the server says (indexes as listIndexes returns them; options).
    auto conn = connect(server_->uri());
    for (auto coll : {"items", "orders"}) {
      Bytes text = decompress(test::read_file(out / "shop" / (std::string(coll) + ".metadata.json" + ext)));
      auto md = formats::parse_collection_metadata(std::string(text.begin(), text.end()));
      ASSERT_TRUE(md.is_ok()) << md.status().to_string();
      auto idx = io::list_indexes(*conn, "shop", coll);
      ASSERT_TRUE(idx.is_ok());
      EXPECT_EQ(md->indexes, *idx) << coll;
      EXPECT_EQ(md->collection_name, coll);
      EXPECT_EQ(md->type, "collection");
      EXPECT_EQ(md->uuid.size(), 32u);
    }
  }
}

TEST_F(DumpTest, ArchiveModesAndStdoutRoundTrip) {
  auto dir = test::temp_dir("dump-archive");
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "plain");
    auto file = dir / (gzip ? "a.archive.gz" : "a.archive");
    std::vector<std::string> args{"dump",       "--uri", server_->uri(),      "--archive=" + file.string(),
                                  "--readers",  "2",     "--split-threshold", "100000",
                                  "--progress", "none"};
    if (gzip) args.push_back("--gzip");
    auto r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_archive(test::read_file(file)), *expected_);
  }
  // Archive to standard output.
  auto r = bsonpipe({"dump", "--uri", server_->uri(), "--archive", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_archive(Bytes(r.out.begin(), r.out.end())), *expected_);
  // One collection as raw BSON on standard output.
  auto one = bsonpipe({"dump", "--uri", server_->uri(), "--db", "logs", "--collection", "events", "--out", "-"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  DocSet got;
  add_documents(got, "logs.events", ByteSpan(reinterpret_cast<const std::uint8_t*>(one.out.data()), one.out.size()));
  std::sort(got["logs.events"].begin(), got["logs.events"].end());
  EXPECT_EQ(got["logs.events"], expected_->at("logs.events"));
}

TEST_F(DumpTest, IndependentReadersAcceptTheOutput) {
  auto dir = test::temp_dir("dump-interop");
  for (std::string mode : {"plain", "gzip", "zstd"}) {
    auto out = dir / mode;
    std::vector<std::string> args{"dump", "--uri", server_->uri(), "--out", out.string(), "--progress", "none"};
    if (mode != "plain") args.push_back("--" + mode);
    ASSERT_EQ(bsonpipe(args).exit_code, 0);
  }
  // gzip(1) and zstd(1) decompress to exactly the plain dump's bytes.
  for (auto coll : {"shop/orders", "logs/events", "logs/empty"}) {
    Bytes plain = test::read_file(dir / "plain" / (std::string(coll) + ".bson"));
    auto gz = test::run_shell("gzip -dc " + (dir / "gzip" / (std::string(coll) + ".bson.gz")).string());
    ASSERT_EQ(gz.exit_code, 0) << gz.err;
    EXPECT_EQ(Bytes(gz.out.begin(), gz.out.end()), plain) << coll;
    auto zs = test::run_shell("zstd -qdc " + (dir / "zstd" / (std::string(coll) + ".bson.zst")).string());
    ASSERT_EQ(zs.exit_code, 0) << zs.err;
    EXPECT_EQ(Bytes(zs.out.begin(), zs.out.end()), plain) << coll;
  }
  // Python's bson (Debian python3-bson) decodes every file and counts the documents we expect.
  std::string script =
      "import bson, glob, json, sys\n"
      "out = {}\n"
      "for f in sorted(glob.glob(sys.argv[1] + '/*/*.bson')):\n"
      "    out[f[len(sys.argv[1]) + 1:]] = sum(1 for _ in bson.decode_file_iter(open(f, 'rb')))\n"
      "for f in sorted(glob.glob(sys.argv[1] + '/*/*.metadata.json')):\n"
      "    json.load(open(f))\n"
      "print(json.dumps(out, sort_keys=True))\n";
  auto py = test::run({"/usr/bin/python3", "-c", script, (dir / "plain").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out,
            "{\"logs/empty.bson\": 0, \"logs/events.bson\": 1500, \"shop/items.bson\": 200, \"shop/orders.bson\": "
            "3000}\n");
  // The metadata has mongodump's fields in mongodump's order: compare with real mongodump files
  // (one with uuid, one with options and type), on the keys each of them has.
  std::string ours = test::read_text(dir / "plain" / "shop" / "items.metadata.json");
  auto key_order = [](const std::string& json, const std::string& only_in) {
    std::vector<std::string> keys;
    for (auto k : {"\"options\"", "\"indexes\"", "\"uuid\"", "\"collectionName\"", "\"type\""})
      if (json.find(k) != std::string::npos && only_in.find(k) != std::string::npos) keys.emplace_back(k);
    std::sort(keys.begin(), keys.end(),
              [&](const std::string& a, const std::string& b) { return json.find(a) < json.find(b); });
    return keys;
  };
  auto testdata = test::fixtures_dir() / "mongo-tools-testdata" / "mongorestore" / "testdata";
  for (auto fixture : {testdata / "coll_with_index" / "test" / "foo.metadata.json",
                       testdata / "timeseries_tests" / "ts_dump" / "timeseries_test" / "foo_ts.metadata.json"}) {
    std::string theirs = test::read_text(fixture);
    auto order = key_order(theirs, ours);
    EXPECT_GE(order.size(), 3u);
    EXPECT_EQ(key_order(ours, theirs), order) << ours << "\n" << theirs;
  }
}

TEST_F(DumpTest, FiltersAndQuery) {
  auto out = test::temp_dir("dump-filter") / "d";
  auto r = bsonpipe({"dump", "--uri", server_->uri(), "--out", out.string(), "--nsInclude", "shop.*", "--nsExclude",
                     "shop.items", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = read_directory_dump(out);
  EXPECT_EQ(got.count("shop.orders"), 1u);
  EXPECT_EQ(got.count("shop.items"), 0u);
  EXPECT_EQ(got.count("logs.events"), 0u);
  // --query with readers: ranges ANDed with the query.
  auto q = test::temp_dir("dump-query") / "d";
  r = bsonpipe({"dump", "--uri", server_->uri(), "--out", q.string(), "--db", "shop", "--collection", "orders",
                "--query", "{\"_id\": {\"$exists\": true}, \"status\": \"shipped\"}", "--readers", "4",
                "--split-threshold", "1000", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto conn = connect(server_->uri());
  Bytes filter = Builder().append_string("status", "shipped").finish();
  auto n = io::count(*conn, "shop", "orders", DocView(filter));
  ASSERT_TRUE(n.is_ok());
  auto qgot = read_directory_dump(q);
  EXPECT_EQ(qgot["shop.orders"].size(), static_cast<std::size_t>(*n));
  // Bad --query: a clear error, no output.
  auto bad = test::temp_dir("dump-badq") / "d";
  r = bsonpipe({"dump", "--uri", server_->uri(), "--out", bad.string(), "--db", "shop", "--collection", "orders",
                "--query", "{\"status\": "});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--query"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(bad));
}

// A collection whose _ids mix ints, longs, doubles, strings, ObjectIds, documents and more,
// with gaps: every document exactly once whatever the number of readers.
TEST(DumpRanges, MixedIdTypesAreCoveredExactlyOnce) {
  test::MiniMongod server;
  auto conn = connect(server.uri());
  Bytes docs;
  std::vector<std::string> expected;
  auto add = [&](Builder& b) {
    b.append_string("pad", std::string(200, 'p'));
    Bytes d = b.finish();
    expected.emplace_back(d.begin(), d.end());
    docs.insert(docs.end(), d.begin(), d.end());
  };
  for (int i = 0; i < 400; i += 3) {  // ints with gaps
    Builder b;
    b.append_int32("_id", i);
    add(b);
  }
  for (int i = 0; i < 100; ++i) {
    Builder b;
    b.append_int64("_id", 1000000000000LL + i * 7);
    add(b);
  }
  for (int i = 0; i < 50; ++i) {
    Builder b;
    b.append_double("_id", 0.5 + i * 10);
    add(b);
  }
  for (int i = 0; i < 150; ++i) {
    Builder b;
    b.append_string("_id", "key-" + std::to_string(i * 13));
    add(b);
  }
  for (int i = 0; i < 120; ++i) {
    formats::ObjectId oid{};
    oid[0] = static_cast<std::uint8_t>(i);
    oid[11] = static_cast<std::uint8_t>(i * 7);
    Builder b;
    b.append_object_id("_id", oid);
    add(b);
  }
  for (int i = 0; i < 60; ++i) {
    Builder b;
    b.open_document("_id").append_int32("a", i % 5).append_string("b", std::to_string(i)).close();
    add(b);
  }
  {
    Builder b;
    b.append_bool("_id", true);
    add(b);
  }
  {
    Builder b;
    b.append_datetime("_id", 1700000000000);
    add(b);
  }
  std::sort(expected.begin(), expected.end());
  auto ins = io::insert(*conn, "mix", "ids", docs, {.ordered = true});
  ASSERT_TRUE(ins.is_ok()) << ins.error().to_string();
  ASSERT_EQ(ins->n, static_cast<std::int64_t>(expected.size()));
  for (std::string readers : {"1", "2", "7"}) {
    SCOPED_TRACE("readers " + readers);
    auto out = test::temp_dir("dump-mixed-" + readers) / "d";
    auto r = bsonpipe({"dump", "--uri", server.uri(), "--out", out.string(), "--readers", readers, "--split-threshold",
                       "1", "--batchSize", "37", "-v", "--progress", "none"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto got = read_directory_dump(out);
    EXPECT_EQ(got["mix.ids"].size(), expected.size());
    EXPECT_EQ(got["mix.ids"], expected);
  }
}

TEST(DumpFailures, UnreachableServerAuthFailureAndBadFlags) {
  auto dir = test::temp_dir("dump-fail");
  // A port nothing listens on (bind and close to find one).
  auto r = bsonpipe({"dump", "--uri", "mongodb://127.0.0.1:1/?connectTimeoutMS=2000", "--out", (dir / "a").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "a" / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "a.partial"));

  test::MiniMongod secured({"--user", "admin", "--password", "s3cret", "--generate", "db.c:10:100"});
  std::string uri = "mongodb://admin:wrong@127.0.0.1:" + std::to_string(secured.port()) + "/";
  r = bsonpipe({"dump", "--uri", uri, "--out", (dir / "b").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("uthentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong"), std::string::npos) << "the password must not be printed: " << r.err;
  EXPECT_FALSE(fs::exists(dir / "b"));
  // The right password works (SCRAM-SHA-256), given by flag or environment.
  r = bsonpipe({"dump", "--uri", "mongodb://127.0.0.1:" + std::to_string(secured.port()) + "/", "--username", "admin",
                "--password", "s3cret", "--out", (dir / "c").string(), "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "c" / "db" / "c.bson"));

  for (auto bad : std::vector<std::vector<std::string>>{{"dump", "--gzip", "--zstd"},
                                                        {"dump", "--archive=x", "--out", "y"},
                                                        {"dump", "--collection", "c"},
                                                        {"dump", "--readers", "0"},
                                                        {"dump", "--progress", "sometimes"},
                                                        {"dump", "--no-such-flag"}}) {
    auto rr = bsonpipe(bad);
    EXPECT_NE(rr.exit_code, 0) << bad.back();
    EXPECT_FALSE(rr.err.empty());
  }
}

TEST(DumpFailures, FullDiskLeavesNoCompleteLookingDump) {
  test::MiniMongod server({"--generate", "big.c:3000:2000:5"});
  auto dir = test::temp_dir("dump-fsize");
  // A file size limit of 1 MB stands in for a full disk: writes fail with EFBIG.
  auto r = test::run_shell("ulimit -f 1024; " + test::program("bsonpipe").string() + " dump --uri " + server.uri() +
                           " --out " + (dir / "d").string() + " --progress none");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("big.c"), std::string::npos) << "the error names the file or namespace: " << r.err;
  EXPECT_FALSE(fs::exists(dir / "d" / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "d" / "big" / "c.bson"));
  EXPECT_FALSE(fs::exists(dir / "d.partial")) << "staging is removed after a clean failure";
}

TEST(DumpFailures, InterruptAndDroppedCollection) {
  // The premise is made, not hoped for: the server holds the dump's fourth getMore
  // (--fault-gate), so the signal comes while the dump is reading, after its handler is
  // installed; the held getMore is released after the signal.
  test::MiniMongod server({"--generate", "s.c:2000:500:9", "--fault-gate"});
  test::gate_arm(server.uri(), "getMore", "", 3);
  auto dir = test::temp_dir("dump-sigint");
  test::Child child =
      test::Child::start({"/bin/sh", "-c",
                          "echo started; exec " + test::program("bsonpipe").string() + " dump --uri " + server.uri() +
                              " --out " + (dir / "d").string() + " --batchSize 50 --progress none"},
                         "started", nullptr);
  ASSERT_TRUE(test::gate_wait_blocked(server.uri(), 1));
  child.signal(SIGINT);
  test::gate_open(server.uri());
  int code = child.wait();
  EXPECT_NE(code, 0);
  EXPECT_FALSE(fs::exists(dir / "d" / "manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "d" / "s" / "c.bson"));

  // A collection dropped mid-dump: the server fails the getMore (CursorNotFound/QueryPlanKilled).
  test::MiniMongod dropping({"--generate", "s.c:2000:500:9", "--fault-fail", "getMore:175:1"});
  auto r = bsonpipe(
      {"dump", "--uri", dropping.uri(), "--out", (dir / "e").string(), "--batchSize", "100", "--progress", "none"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("s.c"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "e" / "manifest.json"));
}

}  // namespace
}  // namespace bsonpipe
