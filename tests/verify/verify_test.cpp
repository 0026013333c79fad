// bsonpipe verify against real dumps of a minimongod: clean dumps in every output mode verify OK;
// a flipped byte, a truncated file, a missing file and an extra file are each found and named; a
// stock mongodump dump verifies with the "no manifest" notice; --against sees equality and a
// changed document. Expected counts come from the --generate flags, never from verify itself.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Bytes;
using test::bsonpipe;
using test::show;

constexpr int kDocsA = 700;
constexpr int kDocsB = 300;

class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::MiniMongod({"--generate", "vt.a:" + std::to_string(kDocsA) + ":300:7", "--generate",
                                    "vt.b:" + std::to_string(kDocsB) + ":120:8"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // A fresh dump of the server with extra dump flags; fails the test if the dump fails.
  static fs::path dump_dir(const std::string& name, std::vector<std::string> flags = {}) {
    fs::path out = test::temp_dir("verify_" + name) / "dump";
    std::vector<std::string> args{"dump", "--uri", server_->uri(), "--out", out.string(), "--progress", "none"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = bsonpipe(args);
    EXPECT_EQ(r.exit_code, 0) << show(r);
    return out;
  }

  static test::MiniMongod* server_;
};
test::MiniMongod* VerifyTest::server_ = nullptr;

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (contains(line, needle)) out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

boost::json::object parse_json_report(const test::RunResult& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.out, ec);
  EXPECT_FALSE(ec) << "not JSON: " << show(r);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

TEST_F(VerifyTest, CleanDirectoryDumpsVerifyInEveryCompression) {
  for (auto [name, flag] : {std::pair{"plain", ""}, {"gzip", "--gzip"}, {"zstd", "--zstd"}}) {
    SCOPED_TRACE(name);
    std::vector<std::string> flags;
    if (*flag) flags.push_back(flag);
    fs::path dir = dump_dir(std::string("clean_") + name, flags);
    auto r = bsonpipe({"verify", dir.string()});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(contains(r.out, "manifest complete")) << show(r);
    EXPECT_TRUE(contains(r.out, std::to_string(kDocsA + kDocsB) + " document(s)")) << show(r);
    EXPECT_TRUE(contains(r.out, "; OK")) << show(r);

    auto j = bsonpipe({"verify", dir.string(), "--json"});
    EXPECT_EQ(j.exit_code, 0) << show(j);
    auto o = parse_json_report(j);
    EXPECT_EQ(o["ok"], true);
    EXPECT_EQ(o["documents"].to_number<std::int64_t>(), kDocsA + kDocsB);
    EXPECT_TRUE(o["problems"].as_array().empty());
    std::map<std::string, std::int64_t> counts;
    for (auto& n : o["namespaces"].as_array())
      counts[std::string(n.at("ns").as_string())] = n.at("documents").to_number<std::int64_t>();
    EXPECT_EQ(counts["vt.a"], kDocsA);
    EXPECT_EQ(counts["vt.b"], kDocsB);
  }
}

TEST_F(VerifyTest, CleanArchivesVerify) {
  for (auto [name, gzip] : {std::pair{"archive", false}, {"archive_gz", true}}) {
    SCOPED_TRACE(name);
    fs::path file = test::temp_dir(std::string("verify_") + name) / "dump.archive";
    std::vector<std::string> args{"dump", "--uri", server_->uri(), "--archive=" + file.string(), "--progress", "none"};
    if (gzip) args.push_back("--gzip");
    auto d = bsonpipe(args);
    ASSERT_EQ(d.exit_code, 0) << show(d);
    if (gzip) {
      Bytes head = test::read_file(file);
      ASSERT_GE(head.size(), 2u);
      EXPECT_EQ(head[0], 0x1F);  // really gzip, so detection is exercised
    }
    auto r = bsonpipe({"verify", "--archive=" + file.string()});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(contains(r.out, std::to_string(kDocsA + kDocsB) + " document(s)")) << show(r);
    EXPECT_TRUE(contains(r.out, "; OK")) << show(r);
  }
}

TEST_F(VerifyTest, FlippedByteIsFoundAndNamed) {
  for (auto [name, flag, file] : {std::tuple{"flip_plain", "", "vt/a.bson"},
                                  {"flip_gzip", "--gzip", "vt/a.bson.gz"},
                                  {"flip_zstd", "--zstd", "vt/b.bson.zst"}}) {
    SCOPED_TRACE(name);
    std::vector<std::string> flags;
    if (*flag) flags.push_back(flag);
    fs::path dir = dump_dir(name, flags);
    fs::path p = dir / file;
    Bytes b = test::read_file(p);
    ASSERT_GT(b.size(), 100u);
    b[b.size() / 2] ^= 0x01;  // one bit in the middle of the file
    test::write_file(p, b);
    auto r = bsonpipe({"verify", dir.string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    auto hits = lines_with(r.out, file);
    ASSERT_FALSE(hits.empty()) << show(r);
    EXPECT_EQ(
        lines_with(r.out, file + std::string(" [vt.") + (file[3] == 'a' ? "a" : "b") + "]: checksum mismatch").size(),
        1u)
        << show(r);
    // Only that file is blamed.
    EXPECT_EQ(lines_with(r.out, "checksum mismatch").size(), 1u) << show(r);
  }
}

TEST_F(VerifyTest, CorruptDocumentIsNamedWithItsOffset) {
  fs::path dir = dump_dir("bad_doc");
  fs::path p = dir / "vt" / "a.bson";
  Bytes b = test::read_file(p);
  // The third document starts after the first two (lengths read here, independently).
  std::size_t first = static_cast<std::size_t>(formats::load_i32(b.data()));
  std::size_t second = static_cast<std::size_t>(formats::load_i32(b.data() + first));
  std::size_t third = first + second;
  // Its last byte must be the document terminator 0x00; make it 0x01.
  std::size_t len3 = static_cast<std::size_t>(formats::load_i32(b.data() + third));
  ASSERT_EQ(b[third + len3 - 1], 0x00);
  b[third + len3 - 1] = 0x01;
  test::write_file(p, b);
  auto r = bsonpipe({"verify", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  auto hits = lines_with(r.out, "invalid BSON");
  ASSERT_EQ(hits.size(), 1u) << show(r);
  EXPECT_TRUE(contains(hits.front(), "vt/a.bson")) << show(r);
  // The fault lies inside the third document: its offset is in [third, third + len3).
  auto at = hits.front().rfind("(at offset ");
  ASSERT_NE(at, std::string::npos) << hits.front();
  std::size_t off = std::stoull(hits.front().substr(at + 11));
  EXPECT_GE(off, third) << hits.front();
  EXPECT_LT(off, third + len3) << hits.front();
}

TEST_F(VerifyTest, TruncatedFileIsFoundAndNamed) {
  for (auto [name, flag, file] :
       {std::tuple{"trunc_plain", "", "vt/b.bson"}, {"trunc_gzip", "--gzip", "vt/a.bson.gz"}}) {
    SCOPED_TRACE(name);
    std::vector<std::string> flags;
    if (*flag) flags.push_back(flag);
    fs::path dir = dump_dir(name, flags);
    fs::path p = dir / file;
    auto size = fs::file_size(p);
    fs::resize_file(p, size - 37);
    auto r = bsonpipe({"verify", dir.string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    auto hits = lines_with(r.out, file);
    ASSERT_FALSE(hits.empty()) << show(r);
    EXPECT_TRUE(contains(r.out, "truncated")) << show(r);
    EXPECT_TRUE(
        contains(r.out, "size " + std::to_string(size - 37) + " differs from the manifest's " + std::to_string(size)))
        << show(r);
  }
}

TEST_F(VerifyTest, MissingFileIsFoundAndNamed) {
  fs::path dir = dump_dir("missing");
  fs::remove(dir / "vt" / "b.bson");
  auto r = bsonpipe({"verify", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  auto hits = lines_with(r.out, "vt/b.bson");
  ASSERT_EQ(hits.size(), 1u) << show(r);
  EXPECT_TRUE(contains(hits.front(), "missing file")) << show(r);
}

TEST_F(VerifyTest, ExtraFilesAreFoundAndNamed) {
  fs::path dir = dump_dir("extra");
  // A stray file, and a well-formed data file that the dump did not write.
  { std::ofstream(dir / "vt" / "notes.txt") << "hello\n"; }
  fs::copy_file(dir / "vt" / "b.bson", dir / "vt" / "c.bson");
  auto r = bsonpipe({"verify", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  auto notes = lines_with(r.out, "vt/notes.txt");
  ASSERT_EQ(notes.size(), 1u) << show(r);
  EXPECT_TRUE(contains(notes.front(), "extra file")) << show(r);
  auto c = lines_with(r.out, "vt/c.bson");
  ASSERT_EQ(c.size(), 1u) << show(r);
  EXPECT_TRUE(contains(c.front(), "extra file")) << show(r);

  auto j = bsonpipe({"verify", dir.string(), "--json"});
  EXPECT_EQ(j.exit_code, 1) << show(j);
  auto o = parse_json_report(j);
  std::set<std::string> files;
  for (auto& p : o["problems"].as_array()) files.insert(std::string(p.at("file").as_string()));
  EXPECT_EQ(files, (std::set<std::string>{"vt/c.bson", "vt/notes.txt"}));
}

TEST_F(VerifyTest, IncompleteManifestIsAProblem) {
  fs::path dir = dump_dir("incomplete");
  std::string m = test::read_text(dir / "manifest.json");
  auto at = m.find("\"complete\" : true");
  if (at == std::string::npos) at = m.find("\"complete\": true");
  ASSERT_NE(at, std::string::npos) << m;
  m.replace(m.find("true", at), 4, "false");
  test::write_file(dir / "manifest.json", formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(m.data()), m.size()));
  auto r = bsonpipe({"verify", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_TRUE(contains(r.out, "manifest.json: the manifest says the dump is not complete")) << show(r);
}

TEST_F(VerifyTest, StockMongodumpDumpVerifiesWithNoManifestNotice) {
  for (const char* name : {"foodump", "indextestdump"}) {
    SCOPED_TRACE(name);
    fs::path dir = test::restore_testdata() / name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    auto r = bsonpipe({"verify", dir.string()});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    EXPECT_TRUE(contains(r.out, "note: no usable manifest.json")) << show(r);
    EXPECT_TRUE(lines_with(r.out, "problem").empty()) << show(r);
    EXPECT_TRUE(contains(r.out, "could not be checked")) << show(r);
    EXPECT_TRUE(contains(r.out, "no manifest;")) << show(r);
  }
  // A stock dump is still checked: a corrupt copy of foodump fails, naming the file.
  fs::path copy = test::temp_dir("verify_stock_bad") / "foodump";
  fs::copy(test::restore_testdata() / "foodump", copy, fs::copy_options::recursive);
  fs::permissions(copy / "test" / "foo.bson", fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(copy / "test" / "foo.bson", fs::file_size(copy / "test" / "foo.bson") - 3);
  auto r = bsonpipe({"verify", copy.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_EQ(lines_with(r.out, "test/foo.bson").size(), 1u) << show(r);
}

TEST_F(VerifyTest, StockArchiveVerifiesAndBrokenArchiveFails) {
  auto ok = bsonpipe({"verify", "--archive", (test::restore_testdata() / "test.bar.archive").string()});
  EXPECT_EQ(ok.exit_code, 0) << show(ok);
  EXPECT_TRUE(contains(ok.out, "archive: no manifest")) << show(ok);

  fs::path file = test::temp_dir("verify_archive_flip") / "dump.archive";
  auto d = bsonpipe({"dump", "--uri", server_->uri(), "--archive=" + file.string(), "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  Bytes b = test::read_file(file);
  b[b.size() - 1000] ^= 0x10;
  test::write_file(file, b);
  auto bad = bsonpipe({"verify", "--archive=" + file.string()});
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
  EXPECT_FALSE(lines_with(bad.out, file.string()).empty()) << show(bad);
}

TEST_F(VerifyTest, AgainstReportsEqualThenADifference) {
  fs::path dir = dump_dir("against", {"--gzip"});
  auto r = bsonpipe({"verify", dir.string(), "--against", server_->uri()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(contains(r.out, "2 namespace(s) compared, 2 equal, 0 differ")) << show(r);

  // Change one document's content (same count) on the server.
  {
    auto conn = test::connect(server_->uri());
    ASSERT_TRUE(conn);
    auto cmd = formats::extjson::parse(R"({"update":"b","updates":[{"q":{},"u":{"$set":{"verifyChanged":1}}}]})");
    ASSERT_TRUE(cmd.is_ok());
    auto reply = io::run_command(*conn, "vt", formats::DocView(*cmd));
    ASSERT_TRUE(reply.is_ok()) << reply.error().to_string();
  }
  auto d = bsonpipe({"verify", dir.string(), "--against", server_->uri()});
  EXPECT_EQ(d.exit_code, 1) << show(d);
  auto hits = lines_with(d.out, "differs from the server");
  ASSERT_EQ(hits.size(), 1u) << show(d);
  EXPECT_TRUE(contains(hits.front(), "vt/b.bson.gz [vt.b]")) << show(d);
  EXPECT_TRUE(contains(hits.front(), "same count (" + std::to_string(kDocsB) + ")")) << show(d);
  EXPECT_TRUE(contains(d.out, "2 namespace(s) compared, 1 equal, 1 differ")) << show(d);

  // Put it back for the other tests.
  auto conn = test::connect(server_->uri());
  ASSERT_TRUE(conn);
  auto cmd = formats::extjson::parse(R"({"update":"b","updates":[{"q":{},"u":{"$unset":{"verifyChanged":""}}}]})");
  ASSERT_TRUE(cmd.is_ok());
  ASSERT_TRUE(io::run_command(*conn, "vt", formats::DocView(*cmd)).is_ok());
}

TEST_F(VerifyTest, UsageErrorsExitTwo) {
  auto none = bsonpipe({"verify"});
  EXPECT_EQ(none.exit_code, 2) << show(none);
  auto both = bsonpipe({"verify", "x", "--archive", "y"});
  EXPECT_EQ(both.exit_code, 2) << show(both);
  auto bad_flag = bsonpipe({"verify", "x", "--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2) << show(bad_flag);
  auto missing = bsonpipe({"verify", (test::temp_dir("verify_nothing") / "absent").string()});
  EXPECT_EQ(missing.exit_code, 1) << show(missing);
  EXPECT_TRUE(contains(missing.err, "absent")) << show(missing);
  // An empty directory is not a dump, and neither is a catalog root.
  fs::path empty = test::temp_dir("verify_empty");
  auto e = bsonpipe({"verify", empty.string()});
  EXPECT_EQ(e.exit_code, 1) << show(e);
  EXPECT_TRUE(contains(e.out, "no dump files found")) << show(e);
  std::ofstream(empty / ".lock") << "";
  auto cat = bsonpipe({"verify", empty.string()});
  EXPECT_EQ(cat.exit_code, 1) << show(cat);
  EXPECT_TRUE(contains(cat.err, "is a catalog root")) << show(cat);
  auto help = bsonpipe({"verify", "--help"});
  EXPECT_EQ(help.exit_code, 0) << show(help);
  EXPECT_TRUE(contains(help.out, "Examples:")) << show(help);
}

}  // namespace
}  // namespace bsonpipe

namespace bsonpipe {
namespace {

// A catalog entry with bundled files: verify checks the bundled files against the manifest's
// "bundled" section, and records a pass in ROOT/.verified/<id>.json (removed again on a failure).
TEST_F(VerifyTest, CatalogEntryWithBundledFiles) {
  fs::path base = test::temp_dir("verify_catalog");
  fs::path files = base / "appfiles";
  fs::create_directories(files / "sub");
  std::ofstream(files / "config.txt") << "setting=1\n";
  std::ofstream(files / "sub" / "data.bin") << std::string(5000, 'x');
  fs::create_symlink("config.txt", files / "link");
  fs::path root = base / "catalog";
  auto d = bsonpipe({"dump", "--uri", server_->uri(), "--catalog", root.string(), "--include-path", files.string(),
                     "--gzip", "--progress", "none"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  std::vector<fs::path> entries;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string()[0] != '.') entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1u);
  fs::path entry = entries[0];
  fs::path record = root / ".verified" / (entry.filename().string() + ".json");

  auto r = bsonpipe({"verify", entry.string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(record)) << show(r);

  // Change a bundled file (same size): found by its checksum, and the record goes.
  fs::path bundled;
  for (auto& e : fs::recursive_directory_iterator(entry / "bsonpipe_files"))
    if (e.path().filename() == "data.bin") bundled = e.path();
  ASSERT_FALSE(bundled.empty());
  std::ofstream(bundled, std::ios::binary | std::ios::trunc) << std::string(4999, 'x') << 'y';
  r = bsonpipe({"verify", entry.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  std::string rel = fs::relative(bundled, entry).generic_string();
  auto hits = lines_with(r.out, rel + ": checksum mismatch");
  EXPECT_EQ(hits.size(), 1u) << show(r);
  EXPECT_FALSE(fs::exists(record));
}

}  // namespace
}  // namespace bsonpipe

namespace bsonpipe {
namespace {

// Files are checked in parallel: the report must not depend on it (same problems, same order).
TEST_F(VerifyTest, ParallelAndSerialReportsAreIdentical) {
  fs::path dir = dump_dir("parallel", {"--zstd"});
  for (const char* f : {"vt/a.bson.zst", "vt/b.bson.zst"}) {
    Bytes b = test::read_file(dir / f);
    b[b.size() / 3] ^= 0x40;
    test::write_file(dir / f, b);
  }
  std::ofstream(dir / "vt" / "zz.txt") << "x";
  auto serial = bsonpipe({"verify", dir.string(), "-j", "1"});
  auto parallel = bsonpipe({"verify", dir.string(), "-j", "4"});
  EXPECT_EQ(serial.exit_code, 1) << show(serial);
  EXPECT_EQ(parallel.exit_code, 1) << show(parallel);
  EXPECT_EQ(serial.out, parallel.out);
  EXPECT_EQ(lines_with(serial.out, "checksum mismatch").size(), 2u) << show(serial);
  EXPECT_EQ(lines_with(serial.out, "vt/zz.txt: extra file").size(), 1u) << show(serial);
}

}  // namespace
}  // namespace bsonpipe
