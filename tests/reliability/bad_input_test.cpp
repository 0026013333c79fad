// Bad input through the real `bsonpipe` binary against a real minimongod: every case must exit
// non-zero, print ONE line on stderr that names the file and offset or the namespace (asserted on
// its specific words), show no sanitizer report, and leave the server exactly as it was (every
// namespace's documents and indexes compared before and after; no new database or collection).
// The cases and their messages are listed in docs/RELIABILITY.md.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "formats/bson.hpp"
#include "formats/crc64.hpp"
#include "formats/hash.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using test::bsonpipe;
using test::show;

// ---- the server's whole state -------------------------------------------------------------------

// Every namespace (admin/local/config included) -> digest of its documents + its index specs.
std::map<std::string, std::string> snapshot(const std::string& uri) {
  std::map<std::string, std::string> out;
  auto c = test::connect(uri);
  if (!c) return out;
  auto dbs = io::list_databases(*c);
  EXPECT_TRUE(dbs.is_ok());
  if (!dbs) return out;
  for (auto& db : *dbs) {
    auto colls = io::list_collections(*c, db.name);
    EXPECT_TRUE(colls.is_ok()) << db.name;
    if (!colls) continue;
    for (auto& ci : *colls) {
      std::string state = "type=" + ci.type;
      if (ci.type != "view") {
        state += " docs=" + test::server_digest(*c, db.name, ci.name).hex();
        auto ix = io::list_indexes(*c, db.name, ci.name);
        if (ix)
          for (auto& spec : *ix) state += " ix=" + test::to_hex(spec);
      }
      out[db.name + "." + ci.name] = state;
    }
  }
  return out;
}

// ---- input builders -----------------------------------------------------------------------------

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

void append(Bytes& out, const Bytes& b) {
  out.insert(out.end(), b.begin(), b.end());
}

void append_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes doc_i(int i, std::size_t pad = 0) {
  Builder b;
  b.append_int32("_id", i).append_string("name", "doc " + std::to_string(i));
  if (pad > 0) b.append_string("pad", std::string(pad, 'p'));
  return b.finish();
}

// `n` small documents, concatenated (a .bson file).
Bytes bson_file(int n) {
  Bytes out;
  for (int i = 0; i < n; ++i) append(out, doc_i(i));
  return out;
}

// A mongodump archive built by hand (not by our Writer, which refuses bad namespaces): one
// prelude entry db.coll, one segment with `docs` under seg_db.seg_coll, then the EOF block.
struct ArchiveSpec {
  std::string db = "arch", coll = "c";
  std::string seg_db, seg_coll;  // "" = same as the prelude's
  int docs = 10;
  std::size_t pad = 0;  // bytes of filler per document
  bool bad_magic = false;
  bool drop_prelude_terminator = false;
  bool wrong_crc = false;
  bool drop_final_terminator = false;
};

Bytes archive_bytes(const ArchiveSpec& s) {
  Bytes out;
  append_u32(out, s.bad_magic ? 0x12345678u : 0x8199e26du);
  Builder h;
  h.append_int32("concurrent_collections", 1)
      .append_string("version", "0.1")
      .append_string("server_version", "7.0.0")
      .append_string("tool_version", "100.9.0");
  append(out, h.finish());
  Builder e;
  e.append_string("db", s.db)
      .append_string("collection", s.coll)
      .append_string("metadata", "")
      .append_int32("size", 0)
      .append_string("type", "collection");
  append(out, e.finish());
  if (!s.drop_prelude_terminator) append_u32(out, 0xFFFFFFFFu);
  const std::string sdb = s.seg_db.empty() ? s.db : s.seg_db;
  const std::string scoll = s.seg_coll.empty() ? s.coll : s.seg_coll;
  auto ns_header = [&](bool eof, std::uint64_t crc) {
    Builder b;
    b.append_string("db", sdb).append_string("collection", scoll).append_bool("EOF", eof);
    b.append_int64("CRC", static_cast<std::int64_t>(crc));
    return b.finish();
  };
  formats::Crc64 crc;
  append(out, ns_header(false, 0));
  for (int i = 0; i < s.docs; ++i) {
    Bytes d = doc_i(i, s.pad);
    crc.update(d);
    append(out, d);
  }
  append_u32(out, 0xFFFFFFFFu);
  append(out, ns_header(true, s.wrong_crc ? crc.value() ^ 1 : crc.value()));
  if (!s.drop_final_terminator) append_u32(out, 0xFFFFFFFFu);
  return out;
}

// A shell pipeline that feeds `file` (in the current directory) to `restore_args` on stdin with a
// pause of `pause` seconds just before the archive's last EOF block ("\x08EOF\0\x01": the
// namespace's EOF block, the one that carries the CRC). Empty when `a` has no EOF block.
std::string archive_pipe_pausing_before_eof(const Bytes& a, const std::string& file, const std::string& pause,
                                            const std::string& restore_args) {
  const std::string marker(
      "\x08"
      "EOF\0\x01",
      6);
  auto at = std::string_view(reinterpret_cast<const char*>(a.data()), a.size()).rfind(marker);
  if (at == std::string_view::npos) return {};
  return "{ head -c " + std::to_string(at) + " " + file + "; sleep " + pause + "; tail -c +" + std::to_string(at + 1) +
         " " + file + "; } | " + test::program("bsonpipe").string() + " restore " + restore_args + " --archive";
}

// A document nested `depth` levels deep.
Bytes nested(int depth) {
  Builder b;
  b.append_int32("_id", 1);
  for (int i = 0; i < depth; ++i) b.open_document("a");
  b.append_int32("x", 1);
  for (int i = 0; i < depth; ++i) b.close();
  return b.finish();
}

// ---- the suite ----------------------------------------------------------------------------------

struct Outcome {
  test::RunResult run;
  std::map<std::string, std::string> before, after;
};

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Data the bad runs must not touch, including the very namespaces they aim at.
    server_ = new test::MiniMongod(
        {"--generate", "keep.me:300:200", "--generate", "db1.c1:50:100", "--generate", "arch.c:20:100"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string uri() { return server_->uri(); }

  fs::path dir(const std::string& name) { return test::temp_dir("bad_input_" + name); }

  // A dump directory `root` with db1/c1.bson (+ metadata.json when given).
  fs::path dump_dir(const std::string& name, const Bytes& bson, const std::string& file = "c1.bson",
                    const std::string& metadata = {}) {
    fs::path root = dir(name);
    fs::create_directories(root / "db1");
    test::write_file(root / "db1" / file, bson);
    if (!metadata.empty()) test::write_file(root / "db1/c1.metadata.json", bytes_of(metadata));
    return root;
  }

  // Runs bsonpipe and checks the four promises; returns the result for more checks.
  test::RunResult expect_clean_failure(std::vector<std::string> args, const std::vector<std::string>& words,
                                       const std::string& stdin_data = {}) {
    return expect_clean_failure_of([&] { return bsonpipe(std::move(args), stdin_data); }, words);
  }
  test::RunResult expect_clean_failure_of(const std::function<test::RunResult()>& run,
                                          const std::vector<std::string>& words) {
    auto before = snapshot(uri());
    EXPECT_FALSE(before.empty());
    auto r = run();
    // Non-zero exit, not a signal.
    EXPECT_EQ(r.signal, 0) << show(r);
    EXPECT_GT(r.exit_code, 0) << show(r);
    // No sanitizer report.
    for (const char* s : {"Sanitizer", "runtime error:", "LeakSanitizer", "terminate called"})
      EXPECT_EQ(r.err.find(s), std::string::npos) << show(r);
    // Exactly one line on stderr, nothing on stdout.
    std::string err = r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    EXPECT_FALSE(err.empty()) << show(r);
    EXPECT_EQ(err.find('\n'), std::string::npos) << "more than one line:\n" << show(r);
    EXPECT_TRUE(r.out.empty()) << show(r);
    // The specific words.
    for (auto& w : words) EXPECT_NE(err.find(w), std::string::npos) << "missing '" << w << "' in: " << err;
    // The server exactly as before.
    auto after = snapshot(uri());
    EXPECT_EQ(before, after) << "server changed by: " << err;
    std::printf("[case] %s\n", err.c_str());
    return r;
  }

  static test::MiniMongod* server_;
};

test::MiniMongod* BadInput::server_ = nullptr;

std::vector<std::string> restore_args(const std::string& uri, const fs::path& root) {
  return {"restore", "--uri", uri, "--progress", "none", root.string()};
}

// ---- .bson files ----------------------------------------------------------------------------------

TEST_F(BadInput, BsonTruncated) {
  Bytes b = bson_file(10);
  b.resize(b.size() - 3);
  auto root = dump_dir("truncated", b);
  expect_clean_failure(restore_args(uri(), root), {"c1.bson", "truncated", "at offset"});
}

TEST_F(BadInput, BsonLengthOverrunsFile) {
  Bytes b = bson_file(10);
  b[0] = 0x00;
  b[1] = 0x10;  // 4096 + ..., far past the end of a ~300-byte file
  auto root = dump_dir("overrun", b);
  expect_clean_failure(restore_args(uri(), root), {"c1.bson", "at offset 0"});
}

TEST_F(BadInput, BsonLengthBelowFive) {
  Bytes b = bson_file(10);
  auto first = static_cast<std::size_t>(formats::load_i32(b.data()));
  b[first] = 4;
  b[first + 1] = b[first + 2] = b[first + 3] = 0;
  auto root = dump_dir("below5", b);
  expect_clean_failure(restore_args(uri(), root),
                       {"c1.bson", "bad document length 4", "at offset " + std::to_string(first)});
}

TEST_F(BadInput, BsonBadTerminator) {
  Bytes b = bson_file(10);
  auto first = static_cast<std::size_t>(formats::load_i32(b.data()));
  b[first - 1] = 0x01;
  auto root = dump_dir("terminator", b);
  expect_clean_failure(restore_args(uri(), root),
                       {"c1.bson", "does not end with a NUL byte", "at offset " + std::to_string(first - 1)});
}

TEST_F(BadInput, BsonBadUtf8WithObjcheck) {
  Bytes b = bson_file(3);
  Builder bad;
  bad.append_int32("_id", 99).append_string("s", std::string("ok\xC3\x28", 4));
  append(b, bad.finish());
  auto root = dump_dir("utf8", b);
  auto args = restore_args(uri(), root);
  args.push_back("--objcheck");
  expect_clean_failure(args, {"c1.bson", "UTF-8", "at offset"});
}

TEST_F(BadInput, BsonNestingTooDeep) {
  Bytes b = bson_file(2);
  append(b, nested(150));
  auto root = dump_dir("deep", b);
  auto args = restore_args(uri(), root);
  args.push_back("--objcheck");
  expect_clean_failure(args, {"c1.bson", "deep", "at offset"});
}

TEST_F(BadInput, Bson17MegabyteDocument) {
  Builder big;
  big.append_int32("_id", 1).append_string("blob", std::string(17 * 1024 * 1024, 'x'));
  Bytes b = big.finish();
  auto root = dump_dir("big", b);
  expect_clean_failure(restore_args(uri(), root),
                       {"c1.bson", "bad document length 17825817", "-byte limit", "at offset 0"});
}

TEST_F(BadInput, BsonTrailingGarbage) {
  Bytes b = bson_file(10);
  b.push_back(0x07);
  b.push_back(0x00);
  auto root = dump_dir("trailing", b);
  expect_clean_failure(restore_args(uri(), root), {"c1.bson", "at offset " + std::to_string(b.size() - 2)});
}

// ---- compressed files ---------------------------------------------------------------------------

Bytes gzip_of(const fs::path& tmp, const Bytes& data) {
  test::write_file(tmp / "plain", data);
  EXPECT_EQ(
      test::run_shell("gzip -c '" + (tmp / "plain").string() + "' > '" + (tmp / "plain.gz").string() + "'").exit_code,
      0);
  Bytes gz = test::read_file(tmp / "plain.gz");
  fs::remove(tmp / "plain");
  fs::remove(tmp / "plain.gz");
  return gz;
}

TEST_F(BadInput, GzipCorrupted) {
  fs::path tmp = dir("gzcorrupt_src");
  Bytes gz = gzip_of(tmp, bson_file(200));
  for (std::size_t i = 30; i < 60 && i < gz.size(); ++i) gz[i] ^= 0x5A;
  auto root = dump_dir("gzcorrupt", gz, "c1.bson.gz");
  expect_clean_failure(restore_args(uri(), root), {"c1.bson.gz", "gzip"});
}

TEST_F(BadInput, GzipTruncated) {
  fs::path tmp = dir("gztrunc_src");
  Bytes gz = gzip_of(tmp, bson_file(200));
  gz.resize(gz.size() / 2);
  auto root = dump_dir("gztrunc", gz, "c1.bson.gz");
  expect_clean_failure(restore_args(uri(), root), {"c1.bson.gz", "truncated"});
}

TEST_F(BadInput, ZstdGarbage) {
  Bytes z = {0x28, 0xB5, 0x2F, 0xFD};  // the zstd magic, then noise
  for (int i = 0; i < 200; ++i) z.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  auto root = dump_dir("zstd", z, "c1.bson.zst");
  expect_clean_failure(restore_args(uri(), root), {"c1.bson.zst", "zstd"});
}

TEST_F(BadInput, GzipFlagOnPlainArchive) {
  fs::path tmp = dir("gzflag");
  test::write_file(tmp / "a.archive", archive_bytes({}));
  expect_clean_failure({"restore", "--uri", uri(), "--gzip", "--archive=" + (tmp / "a.archive").string()},
                       {"a.archive", "not gzip"});
}

// ---- archives -----------------------------------------------------------------------------------

TEST_F(BadInput, ArchiveBadMagic) {
  fs::path tmp = dir("magic");
  test::write_file(tmp / "m.archive", archive_bytes({.bad_magic = true}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "m.archive").string()},
                       {"m.archive", "magic", "at offset 0"});
}

TEST_F(BadInput, ArchiveMissingPreludeTerminator) {
  fs::path tmp = dir("noterm");
  test::write_file(tmp / "t.archive", archive_bytes({.drop_prelude_terminator = true}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "t.archive").string()},
                       {"t.archive", "at offset"});
}

// Only the final terminator is missing: the namespace before it reached its EOF block and its CRC
// was verified, so it may be restored whole before the reader meets the cut; the run still fails.
// With --swap the namespace is all or nothing (without it, a collection created before the
// cancellation can stay behind empty: see docs/RELIABILITY.md); nothing else changes.
TEST_F(BadInput, ArchiveMissingFinalTerminator) {
  fs::path tmp = dir("nofinal");
  test::write_file(tmp / "f.archive", archive_bytes({.db = "arch2", .drop_final_terminator = true}));
  auto before = snapshot(uri());
  auto r = bsonpipe({"restore", "--uri", uri(), "--swap", "--archive=" + (tmp / "f.archive").string()});
  EXPECT_GT(r.exit_code, 0) << show(r);
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  EXPECT_EQ(err.find('\n'), std::string::npos) << show(r);
  for (const char* w : {"f.archive", "archive truncated", "after the EOF block of arch2.c", "at offset"})
    EXPECT_NE(err.find(w), std::string::npos) << w << " in " << err;
  auto after = snapshot(uri());
  auto c = test::connect(uri());
  ASSERT_TRUE(c);
  // The EOF block's namespace is finished on another thread while the reader meets the cut:
  // either it was never written (no collection at all) or it holds exactly its documents.
  formats::MultisetDigest want;
  for (int i = 0; i < 10; ++i) want.add(doc_i(i));
  if (after.count("arch2.c") > 0) {
    EXPECT_EQ(test::server_digest(*c, "arch2", "c"), want);
  }
  after.erase("arch2.c");
  EXPECT_EQ(before, after);
  // Leave the server as the other cases expect it.
  ASSERT_TRUE(static_cast<bool>(io::drop_database(*c, "arch2")));
  std::printf("[case] %s\n", err.c_str());
}

TEST_F(BadInput, ArchiveEofWrongCrc) {
  fs::path tmp = dir("crc");
  test::write_file(tmp / "c.archive", archive_bytes({.wrong_crc = true}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "c.archive").string()},
                       {"c.archive", "arch.c", "CRC", "at offset"});
}

// The EOF block arrives a second after the documents (a slow pipe): the documents must still
// wait for its CRC, not reach the server while the reader waits.
TEST_F(BadInput, ArchiveEofWrongCrcArrivingLate) {
  fs::path tmp = dir("crc_late");
  Bytes a = archive_bytes({.wrong_crc = true});
  test::write_file(tmp / "c.archive", a);
  std::string cmd = archive_pipe_pausing_before_eof(a, "c.archive", "1", "--uri '" + uri() + "'");
  ASSERT_FALSE(cmd.empty());
  expect_clean_failure_of([&] { return test::run_shell("cd '" + tmp.string() + "' && " + cmd); },
                          {"archive", "arch.c", "CRC", "at offset"});
}

// The CRC is only known at the EOF block, after several batches went out: --swap keeps the live
// collection untouched (the data went to a temporary collection that is dropped).
TEST_F(BadInput, ArchiveEofWrongCrcAfterManyBatchesWithSwap) {
  fs::path tmp = dir("crc_big");
  test::write_file(tmp / "big.archive", archive_bytes({.docs = 20000, .pad = 400, .wrong_crc = true}));
  expect_clean_failure({"restore", "--uri", uri(), "--swap", "--archive=" + (tmp / "big.archive").string()},
                       {"big.archive", "CRC mismatch", "arch.c", "at offset"});
}

// The same, with an insert still being applied by the server when the CRC fails: the temporary
// collection may only be dropped after that insert is answered, or the late insert recreates it
// (the insert connections are not torn down under it). Inserts are slowed by 1.5 s each.
TEST_F(BadInput, ArchiveEofWrongCrcWithSwapWhileAnInsertIsInFlight) {
  test::MiniMongod slow({"--generate", "arch.c:20:100", "--fault-delay-ms", "1500", "--fault-delay-command", "insert"});
  fs::path tmp = dir("crc_inflight");
  Bytes a = archive_bytes({.docs = 300, .wrong_crc = true});
  test::write_file(tmp / "f.archive", a);
  // The EOF block comes 0.5 s after the documents, so the first batch's insert is under way.
  std::string cmd = archive_pipe_pausing_before_eof(
      a, "f.archive", "0.5", "--uri '" + slow.uri() + "' --swap --batchSize 100 --progress none");
  ASSERT_FALSE(cmd.empty());
  auto before = snapshot(slow.uri());
  ASSERT_EQ(before.count("arch.c"), 1u);
  auto r = test::run_shell("cd '" + tmp.string() + "' && " + cmd);
  EXPECT_GT(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("CRC mismatch for namespace arch.c"), std::string::npos) << show(r);
  // A late insert would land up to 1.5 s after bsonpipe's exit.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(before, snapshot(slow.uri())) << show(r);
}

TEST_F(BadInput, ArchiveSegmentOfUnknownNamespace) {
  fs::path tmp = dir("unknownns");
  test::write_file(tmp / "u.archive", archive_bytes({.seg_coll = "intruder"}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "u.archive").string()},
                       {"u.archive", "arch.intruder", "at offset"});
}

TEST_F(BadInput, ArchiveBadFormatFixture) {
  fs::path a = test::restore_testdata() / "bad-format.archive";
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + a.string()}, {"bad-format.archive", "at offset"});
}

TEST_F(BadInput, ArchiveTruncatedInSegment) {
  fs::path tmp = dir("cut");
  Bytes a = archive_bytes({.docs = 50});
  a.resize(a.size() - 200);
  test::write_file(tmp / "cut.archive", a);
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "cut.archive").string()},
                       {"cut.archive", "truncated", "at offset"});
}

TEST_F(BadInput, ArchiveGarbageOnStdin) {
  std::string junk(1000, 'z');
  expect_clean_failure({"restore", "--uri", uri(), "--archive"}, {"archive", "magic", "at offset 0"}, junk);
}

// Namespace names an archive must never get through: path tricks and names MongoDB forbids.
TEST_F(BadInput, ArchiveNamespaceDotDot) {
  fs::path tmp = dir("ns_dotdot");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "..", .coll = "c"}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "database name", "at offset"});
}

TEST_F(BadInput, ArchiveCollectionDotDot) {
  fs::path tmp = dir("ns_colldotdot");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "arch", .coll = ".."}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "collection name", "at offset"});
}

TEST_F(BadInput, ArchiveNamespaceSlash) {
  fs::path tmp = dir("ns_slash");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "arch", .coll = "../../etc/passwd"}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "collection name", "at offset"});
  EXPECT_FALSE(fs::exists(tmp / "../../etc/passwd.bson"));
}

TEST_F(BadInput, ArchiveDatabaseSlash) {
  fs::path tmp = dir("ns_dbslash");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "a/b", .coll = "c"}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "database name", "at offset"});
}

TEST_F(BadInput, ArchiveNamespaceNul) {
  fs::path tmp = dir("ns_nul");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "arch", .coll = std::string("c\0x", 3)}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "collection name", "at offset"});
}

TEST_F(BadInput, ArchiveDatabaseDollar) {
  fs::path tmp = dir("ns_dollar");
  test::write_file(tmp / "n.archive", archive_bytes({.db = "ad$min", .coll = "c"}));
  expect_clean_failure({"restore", "--uri", uri(), "--archive=" + (tmp / "n.archive").string()},
                       {"n.archive", "database name", "at offset"});
}

// A --nsTo rename may not produce a namespace the checks would refuse in an archive.
TEST_F(BadInput, RenameIntoBadDatabase) {
  fs::path tmp = dir("ns_rename");
  test::write_file(tmp / "r.archive", archive_bytes({}));
  expect_clean_failure(
      {"restore", "--uri", uri(), "--archive=" + (tmp / "r.archive").string(), "--nsFrom", "arch.c", "--nsTo", "a/b.c"},
      {"a/b"});
}

// ---- metadata.json -------------------------------------------------------------------------------

TEST_F(BadInput, MetadataNotJson) {
  auto root = dump_dir("md_notjson", bson_file(5), "c1.bson", "{\"indexes\": [ {not json");
  expect_clean_failure(restore_args(uri(), root), {"c1.metadata.json", "at offset"});
}

TEST_F(BadInput, MetadataWrongTypes) {
  auto root = dump_dir("md_types", bson_file(5), "c1.bson", R"({"options": {}, "indexes": "not an array"})");
  expect_clean_failure(restore_args(uri(), root), {"c1.metadata.json", "indexes"});
}

TEST_F(BadInput, IndexSpecTheServerRejects) {
  // A unique index over duplicate values: the server refuses it once the data is in. With --swap
  // the data went to a temporary collection, so the live db1.c1 is untouched.
  Bytes data;
  for (int i = 0; i < 5; ++i) {
    Builder b;
    b.append_int32("_id", i).append_int32("k", 7);
    append(data, b.finish());
  }
  auto root = dump_dir("md_rejected", data, "c1.bson",
                       R"({"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"},)"
                       R"({"v":2,"key":{"k":1},"name":"k_unique","unique":true}],"collectionName":"c1"})");
  auto args = restore_args(uri(), root);
  args.push_back("--swap");
  expect_clean_failure(args, {"db1.c1", "k_unique", "duplicate key"});
}

// ---- flags ----------------------------------------------------------------------------------------

TEST_F(BadInput, PreserveUuidWithoutDrop) {
  auto root = dump_dir("f_uuid", bson_file(5));
  auto args = restore_args(uri(), root);
  args.push_back("--preserveUUID");
  expect_clean_failure(args, {"--preserveUUID", "--drop"});
}

TEST_F(BadInput, OplogLimitWithoutOplogReplay) {
  auto root = dump_dir("f_oplog", bson_file(5));
  auto args = restore_args(uri(), root);
  args.insert(args.end(), {"--oplogLimit", "1700000000:1"});
  expect_clean_failure(args, {"--oplogLimit", "--oplogReplay"});
}

TEST_F(BadInput, DumpCollectionWithoutDb) {
  fs::path out = dir("f_colldb") / "out";
  expect_clean_failure({"dump", "--uri", uri(), "--collection", "me", "--out", out.string()}, {"--collection", "--db"});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BadInput, DumpArchiveWithOut) {
  fs::path tmp = dir("f_archout");
  expect_clean_failure(
      {"dump", "--uri", uri(), "--archive=" + (tmp / "a.archive").string(), "--out", (tmp / "out").string()},
      {"--archive", "--out"});
  EXPECT_FALSE(fs::exists(tmp / "a.archive"));
  EXPECT_FALSE(fs::exists(tmp / "out"));
}

TEST_F(BadInput, UnknownFlag) {
  expect_clean_failure({"restore", "--uri", uri(), "--no-such-flag", "x"}, {"--no-such-flag"});
}

TEST_F(BadInput, DumpBadQueryJson) {
  fs::path out = dir("f_query") / "out";
  expect_clean_failure({"dump", "--uri", uri(), "--db", "keep", "--collection", "me", "--query",
                        "{\"a\": {$gt: ", "--out", out.string()},
                       {"--query", "at offset"});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BadInput, RestoreBadWriteConcern) {
  auto root = dump_dir("f_wc", bson_file(5));
  auto args = restore_args(uri(), root);
  args.insert(args.end(), {"--writeConcern", "{w: "});
  expect_clean_failure(args, {"--writeConcern"});
}

// ---- servers ----------------------------------------------------------------------------------------

TEST_F(BadInput, UnreachableServer) {
  fs::path out = dir("unreachable") / "out";
  // Port 1 on loopback: nothing listens there (connection refused at once).
  expect_clean_failure({"dump", "--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000",
                        "--out", out.string()},
                       {"127.0.0.1:1"});
  EXPECT_FALSE(fs::exists(out / "keep"));
}

TEST(BadInputAuth, WrongPassword) {
  test::MiniMongod server({"--user", "admin", "--password", "right-pw-4711", "--generate", "keep.me:20:100"});
  const std::string good = "mongodb://admin:right-pw-4711@127.0.0.1:" + std::to_string(server.port()) + "/";
  auto before = snapshot(good);
  ASSERT_FALSE(before.empty());
  fs::path tmp = test::temp_dir("bad_input_auth");
  test::write_file(tmp / "a.archive", archive_bytes({}));
  const std::string secret = "Wr0ng-Secret-9931";
  auto r =
      bsonpipe({"restore", "--uri", "mongodb://admin:" + secret + "@127.0.0.1:" + std::to_string(server.port()) + "/",
                "--archive=" + (tmp / "a.archive").string()});
  EXPECT_EQ(r.signal, 0) << show(r);
  EXPECT_GT(r.exit_code, 0) << show(r);
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  EXPECT_EQ(err.find('\n'), std::string::npos) << show(r);
  EXPECT_NE(err.find("uthentication failed"), std::string::npos) << err;
  EXPECT_NE(err.find("admin"), std::string::npos) << err;
  // The password is never echoed back.
  EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
  EXPECT_EQ(snapshot(good), before);
  std::printf("[case] %s\n", err.c_str());
}

}  // namespace
}  // namespace bsonpipe
