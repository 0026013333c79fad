// CRC-64 and the mongodump archive format: real archives from mongo-tools' test data, every
// truncation and bit flip of them, crafted malformed streams, and generated round trips.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "formats/archive.hpp"
#include "formats/crc64.hpp"
#include "tests/support/crc64_reference.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats::archive {
namespace {

using test::crc64_update_bitwise;

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---------------------------------------------------------------------------------------------
// CRC-64

TEST(Crc64, MatchesTheCrc64XzCheckValue) {
  // CRC-64/XZ ("123456789") = 0x995DC9BBDF1939FA: Go's crc64.Checksum(..., MakeTable(ECMA)).
  EXPECT_EQ(crc64(as_bytes("123456789")), 0x995DC9BBDF1939FAULL);
  EXPECT_EQ(crc64_update_bitwise(0, as_bytes("123456789")), 0x995DC9BBDF1939FAULL);
  EXPECT_EQ(crc64({}), 0u);
}

TEST(Crc64, SlicedEqualsBitwiseForAllLengthsAndSplits) {
  std::mt19937_64 rng(20240611);
  Bytes data(300);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n = 0; n <= data.size(); ++n) {
    ByteSpan s(data.data(), n);
    const std::uint64_t want = crc64_update_bitwise(0, s);
    ASSERT_EQ(crc64(s), want) << "length " << n;
    const std::size_t cut = n == 0 ? 0 : rng() % (n + 1);
    Crc64 running;
    running.update(s.first(cut));
    running.update(s.subspan(cut));
    ASSERT_EQ(running.value(), want) << "length " << n << " split at " << cut;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

struct NsResult {
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  std::uint64_t crc = 0;
  bool ended = false;
  Bytes data;  // concatenated documents in archive order
};

struct ReadResult {
  Status status;
  Prelude prelude;
  std::map<std::string, NsResult> ns;  // key "db.coll"
  // The block sequence, for replaying into a Writer: (ns key, documents) or (ns key, end).
  std::vector<std::pair<std::string, std::optional<Bytes>>> ops;
};

ReadResult read_all(ByteSpan archive, std::size_t chunk = SIZE_MAX, ReaderOptions opts = {}) {
  ReadResult out;
  Reader reader(span_source(archive, chunk), opts);
  auto prelude = reader.read_prelude();
  if (!prelude) {
    out.status = prelude.status();
    return out;
  }
  out.prelude = **prelude;
  for (;;) {
    auto ev = reader.next();
    if (!ev) {
      out.status = ev.status();
      return out;
    }
    if (ev->kind == EventKind::kEnd) break;
    std::string key = std::string(ev->db) + "." + std::string(ev->collection);
    NsResult& ns = out.ns[key];
    if (ev->kind == EventKind::kDocuments) {
      auto walked = walk_documents(ev->documents);
      EXPECT_TRUE(walked.is_ok());
      EXPECT_EQ(*walked, ev->document_count);
      ns.documents += ev->document_count;
      ns.bytes += ev->documents.size();
      ns.data.insert(ns.data.end(), ev->documents.begin(), ev->documents.end());
      out.ops.emplace_back(key, Bytes(ev->documents.begin(), ev->documents.end()));
    } else {
      EXPECT_FALSE(ns.ended);
      ns.ended = true;
      ns.crc = ev->crc;
      EXPECT_EQ(ev->total_documents, ns.documents);
      EXPECT_EQ(ev->total_bytes, ns.bytes);
      out.ops.emplace_back(key, std::nullopt);
    }
  }
  // next() after the end keeps saying so.
  auto again = reader.next();
  EXPECT_TRUE(again.is_ok() && again->kind == EventKind::kEnd);
  return out;
}

std::filesystem::path testdata() {
  return test::fixtures_dir() / "mongo-tools-testdata/mongorestore/testdata";
}

struct Expected {
  std::string ns;
  std::uint64_t documents;
  std::uint64_t bytes;
  std::uint64_t crc;
};

// Counts, byte totals and CRCs below were computed independently of this code: with Debian's
// python3-bson (bson.decode for every header, bson.decode_file_iter over each namespace's
// extracted bytes) and a bit-at-a-time CRC-64 in Python; the CRCs equal the ones mongodump
// stored in the EOF blocks.
struct FixtureArchive {
  std::string file;
  Header header;
  std::vector<std::string> prelude_ns;
  std::vector<Expected> expected;
};

std::vector<FixtureArchive> fixture_archives() {
  return {
      {"test.bar.archive",
       {4, "0.1", "3.4.3", "r3.4.3"},
       {"test.bar", "admin.system.version"},
       {{"admin.system.version", 1, 59, 17763746347588658750ULL}, {"test.bar", 1, 35, 10622286124139958489ULL}}},
      {"dump-w-oplog.archive",
       {4, "0.1", "4.0.2", "r4.1.3-4-gd9eefb54"},
       {"test.foo", ".oplog", "admin.system.version"},
       {{"admin.system.version", 1, 59, 914493570479648269ULL},
        {"test.foo", 25, 725, 11296893618472447362ULL},
        {".oplog", 18, 2760, 9240209572091302252ULL}}},
      {"timeseries_tests/dump.archive",
       {4, "0.1", "5.0.0-rc0", "100.3.1-9-g6903606e-dirty"},
       {"admin.system.views", "timeseries_test.foo_ts", "admin.system.version"},
       {{"admin.system.version", 1, 59, 5808966695042502227ULL},
        {"admin.system.views", 0, 0, 0},
        {"timeseries_test.system.buckets.foo_ts", 10, 38020, 363712516458175641ULL}}},
  };
}

void expect_matches(const FixtureArchive& fx, const ReadResult& r) {
  ASSERT_TRUE(r.status.is_ok()) << fx.file << ": " << r.status.to_string();
  EXPECT_EQ(r.prelude.header, fx.header);
  std::vector<std::string> prelude_ns;
  for (const auto& e : r.prelude.collections) prelude_ns.push_back(e.ns());
  EXPECT_EQ(prelude_ns, fx.prelude_ns);
  ASSERT_EQ(r.ns.size(), fx.expected.size()) << fx.file;
  for (const Expected& e : fx.expected) {
    auto it = r.ns.find(e.ns);
    ASSERT_NE(it, r.ns.end()) << fx.file << " lacks " << e.ns;
    EXPECT_EQ(it->second.documents, e.documents) << e.ns;
    EXPECT_EQ(it->second.bytes, e.bytes) << e.ns;
    EXPECT_EQ(it->second.crc, e.crc) << e.ns;
    EXPECT_EQ(crc64_update_bitwise(0, it->second.data), e.crc) << e.ns;
    EXPECT_TRUE(it->second.ended) << e.ns;
  }
}

// ---------------------------------------------------------------------------------------------
// Real archives

TEST(ArchiveFixtures, ReadWithRightNamespacesCountsAndCrcs) {
  for (const FixtureArchive& fx : fixture_archives()) {
    Bytes data = test::read_file(testdata() / fx.file);
    // Whole, byte by byte, and odd chunk sizes; one-document batches and large ones.
    for (std::size_t chunk : {SIZE_MAX, std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
      for (std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1} << 22}) {
        SCOPED_TRACE(fx.file + " chunk " + std::to_string(chunk) + " batch " + std::to_string(batch));
        ReaderOptions opts;
        opts.batch_bytes = batch;
        opts.read_size = 64;
        opts.validate_documents = batch == 1;
        expect_matches(fx, read_all(data, chunk, opts));
      }
    }
  }
}

TEST(ArchiveFixtures, PreludeEntriesCarryMetadataAndTypes) {
  Bytes data = test::read_file(testdata() / "timeseries_tests/dump.archive");
  ReadResult r = read_all(data);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.prelude.collections.size(), 3u);
  const CollectionEntry& ts = r.prelude.collections[1];
  EXPECT_EQ(ts.type, "timeseries");
  EXPECT_EQ(ts.metadata.size(), 398u);
  EXPECT_NE(ts.metadata.find("\"timeseries\""), std::string::npos);
  EXPECT_EQ(r.prelude.collections[0].type, "collection");
  // The oplog entry of a --oplog dump has an empty db.
  ReadResult o = read_all(test::read_file(testdata() / "dump-w-oplog.archive"));
  ASSERT_TRUE(o.status.is_ok());
  EXPECT_TRUE(o.prelude.collections[1].is_oplog());
  EXPECT_EQ(o.prelude.collections[1].metadata, "");
  EXPECT_EQ(o.prelude.collections[0].type, "");  // r4.1 wrote no type field
}

TEST(ArchiveFixtures, ReplayThroughTheWriterReproducesTheArchive) {
  for (const FixtureArchive& fx : fixture_archives()) {
    SCOPED_TRACE(fx.file);
    Bytes data = test::read_file(testdata() / fx.file);
    ReaderOptions opts;
    opts.batch_bytes = 1;  // many small blocks: consecutive ones must still merge into one segment
    ReadResult r = read_all(data, SIZE_MAX, opts);
    ASSERT_TRUE(r.status.is_ok());
    Bytes out;
    Writer w([&](ByteSpan b) {
      out.insert(out.end(), b.begin(), b.end());
      return Status::ok();
    });
    ASSERT_TRUE(w.write_prelude(r.prelude).is_ok());
    for (const auto& [key, docs] : r.ops) {
      auto dot = key.find('.');
      std::string db = key.substr(0, dot), coll = key.substr(dot + 1);
      Status s = docs ? w.write_documents(db, coll, *docs) : w.end_namespace(db, coll);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
    }
    ASSERT_TRUE(w.finish().is_ok());
    EXPECT_EQ(w.bytes_written(), out.size());
    if (fx.file == "timeseries_tests/dump.archive") {
      // Written by a mongodump that already had the "type" field: byte for byte the same.
      EXPECT_TRUE(out == data) << "sizes " << out.size() << " vs " << data.size();
    } else {
      // Older mongodumps wrote no "type" field, which we always write (as "").
      // Each entry grows by the element 02 "type" 00 01000000 00: 11 bytes.
      EXPECT_EQ(out.size(), data.size() + r.prelude.collections.size() * 11);
    }
    ReadResult back = read_all(out);
    ASSERT_TRUE(back.status.is_ok()) << back.status.to_string();
    for (const auto& [key, ns] : r.ns) {
      EXPECT_TRUE(back.ns[key].data == ns.data) << key;
      EXPECT_EQ(back.ns[key].crc, ns.crc) << key;
    }
  }
}

TEST(ArchiveFixtures, BadFormatArchiveIsRejectedAtTheBrokenMetadataJson) {
  // Structurally sound, but its prelude metadata holds "key":{"{"a":"b"}":...}, which is not JSON.
  Bytes data = test::read_file(testdata() / "bad-format.archive");
  ReadResult r = read_all(data);
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArchive);
  // The metadata string's characters span archive offsets [0xa0, 0x1ac); the fault is inside.
  EXPECT_GE(r.status.offset(), 0xa0) << r.status.to_string();
  EXPECT_LT(r.status.offset(), 0x1ac) << r.status.to_string();
  EXPECT_NE(r.status.to_string().find("test.ixtest"), std::string::npos) << r.status.to_string();
  std::printf("bad-format.archive: %s\n", r.status.to_string().c_str());
  // Without the JSON check it is a well-formed archive with one empty collection.
  ReaderOptions lax;
  lax.check_metadata_json = false;
  ReadResult ok = read_all(data, SIZE_MAX, lax);
  ASSERT_TRUE(ok.status.is_ok()) << ok.status.to_string();
  EXPECT_EQ(ok.ns["test.ixtest"].documents, 0u);
  EXPECT_TRUE(ok.ns["test.ixtest"].ended);
}

// Small read buffers keep the thousands of reads below cheap.
ReaderOptions small_buffers() {
  ReaderOptions opts;
  opts.read_size = 1024;
  return opts;
}

TEST(ArchiveFixtures, EveryTruncationIsRejectedWithAnOffset) {
  for (const FixtureArchive& fx : fixture_archives()) {
    Bytes data = test::read_file(testdata() / fx.file);
    // Every cut point of the small archives; for the 40 KB one, a stride plus every cut within
    // 8 bytes of a header, terminator or EOF block.
    std::set<std::size_t> cuts;
    if (data.size() < 10000) {
      for (std::size_t c = 0; c < data.size(); ++c) cuts.insert(c);
    } else {
      for (std::size_t c = 0; c < data.size(); c += 61) cuts.insert(c);
      for (std::size_t i = 0; i + 4 <= data.size(); ++i) {
        if (load_u32(data.data() + i) == kTerminator) {
          for (std::size_t d = 0; d < 16 && i + d < data.size(); ++d) cuts.insert(i + d);
          for (std::size_t d = 1; d < 8 && d <= i; ++d) cuts.insert(i - d);
        }
      }
      for (std::size_t c = 0; c < 600; ++c) cuts.insert(c);  // the whole prelude
    }
    for (std::size_t cut : cuts) {
      ReadResult r = read_all(ByteSpan(data.data(), cut), 13, small_buffers());
      ASSERT_FALSE(r.status.is_ok()) << fx.file << " accepted when cut at " << cut;
      ASSERT_EQ(r.status.code(), ErrorCode::kInvalidArchive) << r.status.to_string();
      ASSERT_GE(r.status.offset(), 0) << fx.file << " cut at " << cut << ": " << r.status.to_string();
      ASSERT_LE(r.status.offset(), static_cast<std::int64_t>(cut)) << r.status.to_string();
    }
  }
}

struct Range {
  std::size_t begin, end;
};

// Bytes whose change no reader can notice structurally: the header's concurrent_collections,
// server_version and tool_version values, and each collection entry's metadata text and size.
// (Metadata text is parsed, so most flips there are caught, but e.g. a changed digit is still
// valid JSON.) Strings count from their first character to before their NUL.
std::vector<Range> undetectable_ranges(ByteSpan data) {
  std::vector<Range> out;
  auto value_ranges = [&](std::size_t at, std::set<std::string_view> keys) {
    DocView doc(data.data() + at, load_u32(data.data() + at));
    for (ElementView e : doc) {
      if (!keys.contains(e.key())) continue;
      std::size_t v = static_cast<std::size_t>(e.value().data() - data.data());
      if (e.type() == BsonType::kString) {
        out.push_back({v + 4, v + e.value().size() - 1});
      } else {
        out.push_back({v, v + e.value().size()});
      }
    }
    return static_cast<std::size_t>(doc.size());
  };
  std::size_t at = 4;
  at += value_ranges(at, {"concurrent_collections", "server_version", "tool_version"});
  while (load_u32(data.data() + at) != kTerminator) at += value_ranges(at, {"metadata", "size"});
  return out;
}

// Flips all 8 bits of every byte before `all_bits_until`; after it, one bit (rotating) of every
// byte before `every_byte_until` and of every `stride`-th byte after that.
void flip_test(const std::string& file, std::size_t all_bits_until, std::size_t every_byte_until, std::size_t stride) {
  Bytes data = test::read_file(testdata() / file);
  ReadResult original = read_all(data);
  ASSERT_TRUE(original.status.is_ok());
  std::vector<Range> allowed = undetectable_ranges(data);
  std::size_t rejected = 0, accepted = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i >= all_bits_until && i >= every_byte_until && i % stride != 0) continue;
    for (int bit = 0; bit < 8; ++bit) {
      if (i >= all_bits_until && bit != static_cast<int>(i % 8)) continue;
      Bytes copy = data;
      copy[i] ^= static_cast<std::uint8_t>(1u << bit);
      ReadResult r = read_all(copy, 997, small_buffers());
      if (!r.status.is_ok()) {
        ++rejected;
        ASSERT_EQ(r.status.code(), ErrorCode::kInvalidArchive) << r.status.to_string();
        ASSERT_GE(r.status.offset(), 0) << file << " flip " << i << ":" << bit << " " << r.status.to_string();
        ASSERT_LT(r.status.offset(), static_cast<std::int64_t>(data.size())) << r.status.to_string();
        continue;
      }
      ++accepted;
      bool in_allowed = std::any_of(allowed.begin(), allowed.end(), [&](Range g) { return i >= g.begin && i < g.end; });
      ASSERT_TRUE(in_allowed) << file << ": flip of bit " << bit << " at offset " << i << " accepted silently";
      // Accepted flips are visible to the caller, never lost.
      bool differs =
          !(r.prelude.header == original.prelude.header) || !(r.prelude.collections == original.prelude.collections);
      ASSERT_TRUE(differs) << file << " flip at " << i;
      for (const auto& [key, ns] : original.ns) ASSERT_TRUE(r.ns[key].data == ns.data);
    }
  }
  std::printf("%s: %zu flips rejected, %zu accepted (all inside header/metadata values)\n", file.c_str(), rejected,
              accepted);
  EXPECT_GT(rejected, accepted);
}

// Every bit of every byte of test.bar.archive.
TEST(ArchiveFixtures, EveryBitFlipOfTestBarIsCaughtOrVisible) {
  flip_test("test.bar.archive", SIZE_MAX, 0, 1);
}
// Every bit of the prelude and first blocks (the first 1000 bytes), one bit of every later byte.
TEST(ArchiveFixtures, EveryByteFlipOfDumpWithOplogIsCaughtOrVisible) {
  flip_test("dump-w-oplog.archive", 1000, SIZE_MAX, 1);
}
// One bit of every byte of the prelude and first blocks (the first 1700 bytes), then of every
// 11th byte of the bucket documents.
TEST(ArchiveFixtures, BitFlipsOfTimeseriesArchiveAreCaughtOrVisible) {
  flip_test("timeseries_tests/dump.archive", 0, 1700, 11);
}

// ---------------------------------------------------------------------------------------------
// Crafted malformed streams

Bytes doc_with(std::string_view key, std::int32_t v) {
  Builder b;
  b.append_int32(key, v);
  return b.finish();
}

Prelude small_prelude() {
  Prelude p;
  p.header = {2, "0.1", "7.0.0", "bsonpipe-test"};
  p.collections.push_back({"db1", "a", R"({"indexes":[],"collectionName":"a"})", 0, "collection"});
  p.collections.push_back({"db1", "b", "", 0, "collection"});
  return p;
}

Bytes write_archive(const Prelude& p, const std::function<void(Writer&)>& body) {
  Bytes out;
  Writer w([&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::ok();
  });
  EXPECT_TRUE(w.write_prelude(p).is_ok());
  body(w);
  return out;
}

void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put(Bytes& out, const Bytes& b) {
  out.insert(out.end(), b.begin(), b.end());
}
Bytes ns_header(std::string_view db, std::string_view coll, bool eof, std::uint64_t crc) {
  Builder b;
  b.append_string("db", db).append_string("collection", coll).append_bool("EOF", eof);
  b.append_int64("CRC", static_cast<std::int64_t>(crc));
  return b.finish();
}
// A valid archive with "db1.a" holding doc_with("x", 1) and "db1.b" empty; `tamper` may edit the
// namespace part (everything after the prelude).
Bytes crafted(const std::function<void(Bytes& body, std::size_t prelude_size)>& tamper) {
  Bytes out = write_archive(small_prelude(), [](Writer&) {});
  std::size_t prelude_size = out.size();
  tamper(out, prelude_size);
  return out;
}
Status read_status(const Bytes& data) {
  return read_all(data).status;
}

TEST(ArchiveReader, RejectsCraftedFaultsAtTheRightOffset) {
  Bytes doc = doc_with("x", 1);
  const std::uint64_t crc = crc64(doc);
  auto good_tail = [&](Bytes& out, bool with_b) {
    put(out, ns_header("db1", "a", false, 0));
    put(out, doc);
    put_u32(out, kTerminator);
    put(out, ns_header("db1", "a", true, crc));
    put_u32(out, kTerminator);
    if (with_b) {
      put(out, ns_header("db1", "b", true, 0));
      put_u32(out, kTerminator);
    }
  };
  // The crafted good one reads (an EOF with no segment before it is accepted, as mongorestore does).
  ASSERT_TRUE(read_status(crafted([&](Bytes& o, std::size_t) { good_tail(o, true); })).is_ok());

  std::size_t at = 0;
  // Bad magic.
  Bytes bad_magic = crafted([&](Bytes& o, std::size_t) { good_tail(o, true); });
  bad_magic[0] = 0x6e;
  Status s = read_status(bad_magic);
  EXPECT_EQ(s.offset(), 0);
  EXPECT_NE(s.message().find("magic"), std::string::npos);

  // Missing namespace "db1.b" at the end.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    good_tail(o, false);
    at = o.size();
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at)) << s.to_string();
  EXPECT_NE(s.message().find("db1.b"), std::string::npos);

  // CRC mismatch: the EOF header's offset.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    put(o, ns_header("db1", "a", false, 0));
    put(o, doc);
    put_u32(o, kTerminator);
    at = o.size();
    put(o, ns_header("db1", "a", true, crc ^ 1));
    put_u32(o, kTerminator);
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at));
  EXPECT_NE(s.message().find("CRC mismatch"), std::string::npos);

  // A segment for a namespace not in the prelude.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    at = o.size();
    put(o, ns_header("db1", "zzz", false, 0));
    put(o, doc);
    put_u32(o, kTerminator);
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at));
  EXPECT_NE(s.message().find("not in the archive prelude"), std::string::npos);

  // Missing terminator: the segment runs into the next header... which is a document, so the
  // stream then lacks the EOF terminator: here the EOF block is followed by a document.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    put(o, ns_header("db1", "a", false, 0));
    put(o, doc);
    put_u32(o, kTerminator);
    put(o, ns_header("db1", "a", true, crc));
    at = o.size();
    put(o, doc);
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at));
  EXPECT_NE(s.message().find("terminator"), std::string::npos);

  // Consecutive terminators (a headerless block).
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    at = o.size();
    put_u32(o, kTerminator);
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at));

  // A document length that is neither a length nor a terminator.
  for (std::uint32_t len : {0u, 4u, 0x7FFFFFFFu, 0xFFFFFFFEu}) {
    s = read_status(crafted([&](Bytes& o, std::size_t) {
      put(o, ns_header("db1", "a", false, 0));
      at = o.size();
      put_u32(o, len);
      put(o, Bytes(16, 0));
    }));
    EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at)) << len;
    EXPECT_NE(s.message().find("neither"), std::string::npos) << s.to_string();
  }

  // A document whose last byte is not NUL: the offset of that byte.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    put(o, ns_header("db1", "a", false, 0));
    put(o, doc);
    o.back() = 7;
    at = o.size() - 1;
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at)) << s.to_string();

  // Data after the namespace's EOF.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    good_tail(o, true);
    at = o.size();
    put(o, ns_header("db1", "a", false, 0));
    put(o, doc);
    put_u32(o, kTerminator);
  }));
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at));

  // Unknown field and wrong types in a namespace header.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    at = o.size();
    Builder b;
    b.append_string("db", "db1").append_string("collection", "a").append_bool("EOF", false).append_int32("CRC", 0);
    put(o, b.finish());
    put_u32(o, kTerminator);
  }));
  // The CRC element: after the length (4), "db" (12), "collection" (18) and "EOF" (6) elements.
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at + 4 + 12 + 18 + 6)) << s.to_string();

  // Broken BSON inside a header: validate() names the byte.
  s = read_status(crafted([&](Bytes& o, std::size_t) {
    at = o.size();
    Bytes h = ns_header("db1", "a", false, 0);
    h[4 + 4] = 0x40;  // string length of "db" value: far too long
    put(o, h);
  }));
  EXPECT_GE(s.offset(), static_cast<std::int64_t>(at + 4)) << s.to_string();
  EXPECT_LT(s.offset(), static_cast<std::int64_t>(at + 40)) << s.to_string();

  // A document with broken inner structure, with validate_documents on.
  Bytes broken = doc;
  broken[4] = 0x55;  // unknown element type
  Bytes arch = crafted([&](Bytes& o, std::size_t) {
    put(o, ns_header("db1", "a", false, 0));
    at = o.size();
    put(o, broken);
    put_u32(o, kTerminator);
    put(o, ns_header("db1", "a", true, crc64(broken)));
    put_u32(o, kTerminator);
    put(o, ns_header("db1", "b", true, 0));
    put_u32(o, kTerminator);
  });
  EXPECT_TRUE(read_status(arch).is_ok());  // lengths and CRC are fine
  ReaderOptions strict;
  strict.validate_documents = true;
  s = read_all(arch, SIZE_MAX, strict).status;
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(at + 4)) << s.to_string();
}

TEST(ArchiveReader, RejectsUnsafeNamespacesInThePrelude) {
  for (auto [db, coll] : std::vector<std::pair<std::string, std::string>>{{"", "x"},
                                                                          {"..", "x"},
                                                                          {"a/b", "x"},
                                                                          {"db", ".."},
                                                                          {"db", "../../etc/passwd"},
                                                                          {"db", "a$b"},
                                                                          {"db", std::string("a\0b", 3)},
                                                                          {"db", ""}}) {
    Bytes out;
    put_u32(out, kMagic);
    Builder h;
    h.append_int32("concurrent_collections", 1).append_string("version", "0.1");
    h.append_string("server_version", "x").append_string("tool_version", "y");
    put(out, h.finish());
    Builder e;
    e.append_string("db", db).append_string("collection", coll).append_string("metadata", "").append_int32("size", 0);
    put(out, e.finish());
    put_u32(out, kTerminator);
    Status s = read_status(out);
    ASSERT_FALSE(s.is_ok()) << db << "." << coll;
    EXPECT_NE(s.message().find("unsafe namespace"), std::string::npos) << s.to_string();
    EXPECT_GT(s.offset(), 4);
  }
}

TEST(ArchiveNamespace, ValidateNamespace) {
  // The rules of a MongoDB server (NamespaceString::validCollectionName / validDBName, a
  // 255-byte namespace since 4.4), plus the special names of a dump.
  struct Case {
    const char* source;
    std::string db, coll;
    bool ok;
  };
  const std::vector<Case> cases = {
      // common/util/mongo_test.go TestInvalidNames
      {"mongo_test.go: test.col$", "test", "col$", false},
      {"mongo_test.go: db/aaa.col", "db/aaa", "col", false},
      {"mongo_test.go: db.", "db", "", false},
      {"mongo_test.go: db space.col", "db space", "col", false},
      {"mongo_test.go: x$x.y", "x$x", "y", false},
      {"mongo_test.go: [null].[null]", std::string(1, '\0'), std::string(1, '\0'), false},
      {"mongo_test.go: db.col", "db", "col", true},
      // names a server accepts (issue 13): only their file names are escaped
      {"server", "test", "x\\y", true},
      {"server", "test", "a b", true},
      {"server", "test", "p%q", true},
      {"server", "test", "s/t", true},
      {"server", "test", "x/../../y", true},
      {"server", "test", "a..b", true},
      {"server", "test", "ends.", true},
      {"server", "test", "caf\xC3\xA9s", true},
      {"server", "test", "system.buckets.foo", true},
      {"server", "a*b:c?", "c", true},  // forbidden on Windows servers only
      // names a server refuses
      {"server", "test", "", false},
      {"server", "test", ".", false},
      {"server", "test", "..", false},
      {"server", "test", ".lead", false},
      {"server", "test", "caf\xC3\xA9s $x", false},
      {"server", "test", std::string("a\0b", 3), false},
      {"server", "", "foo", false},
      {"server", "te.st", "foo", false},
      {"server", "..", "foo", false},
      {"server", "a\\b", "foo", false},
      {"server", "a\"b", "foo", false},
      {"server", std::string("a\0b", 3), "foo", false},
      {"server", std::string(63, 'd'), "foo", true},
      {"server", std::string(64, 'd'), "foo", false},
      {"server: 255-byte namespace", "test", std::string(250, 'c'), true},
      {"server: 256-byte namespace", "test", std::string(251, 'c'), false},
      // a dump's own names: the --oplog entry of an archive, --dumpDbUsersAndRoles files
      // (mongodump/prepare.go), the legacy oplog (mongodump skips other '$' names)
      {"archive oplog", "", "oplog", true},
      {"prepare.go", "shop", "$admin.system.users", true},
      {"prepare.go", "shop", "$admin.system.roles", true},
      {"prepare.go", "shop", "$admin.system.version", true},
      {"prepare.go", "shop", "$admin.system.other", false},
      {"legacy oplog", "local", "oplog.$main", true},
      {"legacy oplog", "test", "oplog.$main", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(validate_namespace(c.db, c.coll).is_ok(), c.ok) << c.source << ": " << c.db << "." << c.coll;
  }
  EXPECT_EQ(validate_namespace("test", "ab$c").offset(), 2);
  EXPECT_EQ(validate_namespace("db$", "c").offset(), 2);
}

// ---------------------------------------------------------------------------------------------
// Writer

TEST(ArchiveWriter, EnforcesItsContract) {
  Bytes out;
  Writer w([&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::ok();
  });
  Bytes doc = doc_with("x", 1);
  EXPECT_FALSE(w.write_documents("db1", "a", doc).is_ok());  // before the prelude
  ASSERT_TRUE(w.write_prelude(small_prelude()).is_ok());
  EXPECT_FALSE(w.write_prelude(small_prelude()).is_ok());
  EXPECT_FALSE(w.write_documents("db1", "zzz", doc).is_ok());
  Bytes partial(doc.begin(), doc.end() - 1);
  Status s = w.write_documents("db1", "a", partial);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(w.write_documents("db1", "a", doc).is_ok());
  EXPECT_FALSE(w.finish().is_ok());  // nothing ended yet
  ASSERT_TRUE(w.end_namespace("db1", "a").is_ok());
  EXPECT_FALSE(w.write_documents("db1", "a", doc).is_ok());
  EXPECT_FALSE(w.end_namespace("db1", "a").is_ok());
  ASSERT_TRUE(w.end_namespace("db1", "b").is_ok());
  EXPECT_TRUE(w.finish().is_ok());
  ReadResult r = read_all(out);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.ns["db1.a"].documents, 1u);
  EXPECT_EQ(r.ns["db1.b"].documents, 0u);
  EXPECT_TRUE(r.prelude.collections == small_prelude().collections);
  EXPECT_EQ(r.prelude.header, small_prelude().header);

  Writer bad([](ByteSpan) { return Status(ErrorCode::kIo, "disk full"); });
  EXPECT_EQ(bad.write_prelude(small_prelude()).code(), ErrorCode::kIo);
  EXPECT_EQ(bad.end_namespace("db1", "a").code(), ErrorCode::kIo);  // sticky
  EXPECT_FALSE(Writer([](ByteSpan) { return Status::ok(); }).write_prelude({{}, {{"db", "../x", "", 0, ""}}}).is_ok());
}

// Random documents of varied sizes.
Bytes random_docs(std::mt19937_64& rng, std::size_t n, std::int64_t& serial) {
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) {
    Builder b;
    b.append_int64("_id", serial++);
    b.append_string("s", std::string(rng() % 300, static_cast<char>('a' + rng() % 26)));
    if (rng() % 3 == 0) b.open_document("d").append_double("x", static_cast<double>(rng() % 1000)).close();
    put(out, b.finish());
  }
  return out;
}

TEST(ArchiveRoundTrip, GeneratedInterleavedArchivesReadBackIdentically) {
  const std::uint64_t seed = std::random_device{}();
  std::printf("ArchiveRoundTrip seed %llu\n", static_cast<unsigned long long>(seed));
  for (int round = 0; round < 12; ++round) {
    std::mt19937_64 rng(seed + round);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    Prelude p;
    p.header = {static_cast<std::int32_t>(1 + rng() % 8), "0.1", "7.0.2", "bsonpipe 0.1"};
    const std::size_t n = 1 + rng() % 7;
    for (std::size_t i = 0; i < n; ++i) {
      p.collections.push_back({"db" + std::to_string(i % 3), "coll" + std::to_string(i),
                               R"({"indexes":[],"collectionName":"coll)" + std::to_string(i) + "\"}",
                               static_cast<std::int64_t>(rng() % 100000), "collection"});
    }
    p.collections.push_back({"", "oplog", "", 0, ""});
    p.collections.push_back({"tsdb", "ts", R"({"options":{"timeseries":{}}})", 0, "timeseries"});
    // Data namespace per entry (timeseries data lives under system.buckets).
    std::vector<std::pair<std::string, std::string>> data_ns;
    for (const auto& e : p.collections) {
      data_ns.emplace_back(e.db, e.type == "timeseries" ? "system.buckets." + e.collection : e.collection);
    }
    std::map<std::string, Bytes> expected;
    std::vector<std::size_t> remaining_blocks;
    for (std::size_t i = 0; i < data_ns.size(); ++i) remaining_blocks.push_back(rng() % 6);  // 0 = empty
    Bytes out;
    Writer w([&](ByteSpan b) {
      out.insert(out.end(), b.begin(), b.end());
      return Status::ok();
    });
    ASSERT_TRUE(w.write_prelude(p).is_ok());
    std::int64_t serial = 0;
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < data_ns.size(); ++i) open.push_back(i);
    while (!open.empty()) {
      std::size_t pick = rng() % open.size();
      std::size_t i = open[pick];
      auto& [db, coll] = data_ns[i];
      if (remaining_blocks[i] == 0) {
        ASSERT_TRUE(w.end_namespace(db, coll).is_ok());
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
        continue;
      }
      --remaining_blocks[i];
      Bytes docs = random_docs(rng, 1 + rng() % 40, serial);
      put(expected[db + "." + coll], docs);
      ASSERT_TRUE(w.write_documents(db, coll, docs).is_ok());
    }
    ASSERT_TRUE(w.finish().is_ok());

    for (std::size_t chunk : {std::size_t{1} + rng() % 5, std::size_t{4096}, SIZE_MAX}) {
      ReaderOptions opts;
      opts.batch_bytes = 1 + rng() % 5000;
      opts.read_size = 16 + rng() % 3000;
      opts.validate_documents = true;
      ReadResult r = read_all(out, chunk, opts);
      ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
      EXPECT_EQ(r.prelude.header, p.header);
      EXPECT_TRUE(r.prelude.collections == p.collections);
      ASSERT_EQ(r.ns.size(), data_ns.size());
      for (const auto& [db, coll] : data_ns) {
        const std::string key = db + "." + coll;
        const NsResult& got = r.ns[key];
        EXPECT_TRUE(got.ended) << key;
        EXPECT_TRUE(got.data == expected[key]) << key;
        EXPECT_EQ(got.crc, crc64_update_bitwise(0, expected[key])) << key;
        auto n_docs = walk_documents(expected[key]);
        EXPECT_EQ(got.documents, n_docs.is_ok() ? *n_docs : 0) << key;
      }
    }
  }
}

TEST(ArchiveRoundTrip, MultiplexerTakesBlocksFromManyThreads) {
  const std::uint64_t seed = std::random_device{}();
  std::printf("Multiplexer seed %llu\n", static_cast<unsigned long long>(seed));
  constexpr int kProducers = 6;
  Prelude p;
  p.header = {kProducers, "0.1", "7.0.2", "bsonpipe"};
  for (int i = 0; i < kProducers; ++i) p.collections.push_back({"mt", "c" + std::to_string(i), "", 0, "collection"});
  Bytes out;
  Multiplexer mux([&](ByteSpan b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::ok();
  });
  ASSERT_TRUE(mux.write_prelude(p).is_ok());
  std::vector<Bytes> expected(kProducers);
  std::vector<Status> results(kProducers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kProducers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      std::int64_t serial = t * 1000000;
      for (int block = 0; block < 50; ++block) {
        Bytes docs = random_docs(rng, 1 + rng() % 10, serial);
        put(expected[t], docs);
        if (Status s = mux.write_documents("mt", "c" + std::to_string(t), docs); !s.is_ok()) {
          results[t] = s;
          return;
        }
      }
      results[t] = mux.end_namespace("mt", "c" + std::to_string(t));
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(mux.finish().is_ok());
  EXPECT_EQ(mux.bytes_written(), out.size());
  ReadResult r = read_all(out, 333);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  for (int t = 0; t < kProducers; ++t) {
    EXPECT_TRUE(r.ns["mt.c" + std::to_string(t)].data == expected[t]) << t;
    EXPECT_TRUE(r.ns["mt.c" + std::to_string(t)].ended);
  }
}

TEST(ArchiveReader, MemoryStaysAtOneBatchWhateverTheArchiveSize) {
  // A namespace of 2000 documents read with small batches: each event holds at most one batch
  // plus one document, so the reader never buffers the whole stream.
  Prelude p;
  p.collections.push_back({"db", "big", "", 0, "collection"});
  std::mt19937_64 rng(7);
  std::int64_t serial = 0;
  Bytes docs = random_docs(rng, 2000, serial);
  Bytes out = write_archive(p, [&](Writer& w) {
    ASSERT_TRUE(w.write_documents("db", "big", docs).is_ok());
    ASSERT_TRUE(w.end_namespace("db", "big").is_ok());
  });
  ReaderOptions opts;
  opts.batch_bytes = 2048;
  opts.read_size = 1024;
  Reader reader(span_source(out, 512), opts);
  ASSERT_TRUE(reader.read_prelude().is_ok());
  std::size_t events = 0, total = 0;
  for (;;) {
    auto ev = reader.next();
    ASSERT_TRUE(ev.is_ok()) << ev.status().to_string();
    if (ev->kind == EventKind::kEnd) break;
    if (ev->kind != EventKind::kDocuments) continue;
    ++events;
    total += ev->document_count;
    EXPECT_LT(ev->documents.size(), opts.batch_bytes + 400);
  }
  EXPECT_EQ(total, 2000u);
  EXPECT_GT(events, 100u);
  auto summary = reader.namespaces();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].documents, 2000u);
  EXPECT_EQ(summary[0].crc, crc64(docs));
  EXPECT_EQ(summary[0].segments, 1u);
}

}  // namespace
}  // namespace bsonpipe::formats::archive
