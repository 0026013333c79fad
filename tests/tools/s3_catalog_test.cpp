// Catalogs, verify and index rebuild on s3:// locations, black-box: the real binary against
// minimongod and a real s3rver (tests/support/s3rver.hpp). A catalog on S3 is listed, inspected,
// verified, restored by id, pruned and removed; what lands in the bucket is read back with an
// independent client (Debian's /usr/bin/aws) and compared with the same catalog on disk.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/s3rver.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::show;

const char* kBucket = "bsonpipe-catalog";

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// The lines that name catalog id `id` as a whole word: two dumps in one second get ids
// "<time>" and "<time>-1", and the first must not match the second's line.
std::vector<std::string> lines_naming(const std::string& text, const std::string& id) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w;
    while (words >> w)
      if (w == id) {
        out.push_back(line);
        break;
      }
  }
  return out;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class S3CatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      s3_ = new test::S3Server(kBucket);
      source_ = new test::MiniMongod({"--generate", "shop.orders:2000:500:21", "--generate", "shop.items:150:200:22",
                                      "--generate", "logs.x:40:90:23"});
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete source_;
    source_ = nullptr;
    delete s3_;
    s3_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(s3_, nullptr) << "cannot start s3rver or minimongod: " << failure_;
    ASSERT_NE(source_, nullptr) << failure_;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // bsonpipe with s3rver's credentials (plain http: no CA bundle), run in a scratch directory:
  // an s3:// location wrongly taken as a local path lands there (checked by the tests).
  static test::RunResult bsonpipe(const std::vector<std::string>& args) {
    std::vector<std::string> argv = test::s3rver_env(scratch());
    argv.push_back(test::program("bsonpipe").string());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
  }
  static const fs::path& scratch() {
    static const fs::path dir = test::temp_dir("s3-catalog-cwd");
    return dir;
  }
  static test::RunResult aws(const std::string& args) { return test::aws_cli(s3_->endpoint(), args); }
  std::string url(const std::string& key) const { return std::string("s3://") + kBucket + "/" + name_ + "/" + key; }
  // The keys below url(key) (relative to it), as /usr/bin/aws lists them.
  std::set<std::string> keys_under(const std::string& key) const {
    auto l = aws("s3 ls --recursive " + url(key) + "/");
    std::set<std::string> out;
    std::istringstream in(l.out);
    std::string line;
    const std::string prefix = name_ + "/" + key + "/";
    while (std::getline(in, line)) {
      auto at = line.find(prefix);
      if (at != std::string::npos) out.insert(line.substr(at + prefix.size()));
    }
    return out;
  }
  // A bsonpipe command with --s3-endpoint after its subcommand words.
  test::RunResult cli(std::vector<std::string> words, const std::vector<std::string>& rest) const {
    words.insert(words.end(), {"--s3-endpoint", s3_->endpoint()});
    words.insert(words.end(), rest.begin(), rest.end());
    return bsonpipe(words);
  }
  test::RunResult dump(const std::vector<std::string>& extra) const {
    return cli({"dump"}, [&] {
      std::vector<std::string> a{"--uri", source_->uri(), "--progress", "none", "-j", "1", "--readers", "1"};
      a.insert(a.end(), extra.begin(), extra.end());
      return a;
    }());
  }
  // `dump --catalog ROOT`: the new id (printed on standard output).
  std::string catalog_dump(const std::string& root) const {
    auto r = dump({"--catalog", root});
    EXPECT_EQ(r.exit_code, 0) << show(r);
    return trimmed(r.out);
  }
  static void expect_equal_to_source(const std::string& target_uri) {
    auto src = test::connect(source_->uri());
    auto dst = test::connect(target_uri);
    ASSERT_TRUE(src && dst);
    for (auto [db, coll] : {std::pair{"shop", "orders"}, {"shop", "items"}, {"logs", "x"}}) {
      SCOPED_TRACE(std::string(db) + "." + coll);
      EXPECT_EQ(test::server_digest(*dst, db, coll), test::server_digest(*src, db, coll));
      EXPECT_EQ(test::server_documents(*dst, db, coll, 0).size(), test::server_documents(*src, db, coll, 0).size());
    }
  }
  static void expect_nothing_local() { EXPECT_TRUE(fs::is_empty(scratch())) << "an s3:// location was taken locally"; }

  static test::S3Server* s3_;
  static test::MiniMongod* source_;
  static std::string failure_;
  std::string name_;
};

test::S3Server* S3CatalogTest::s3_ = nullptr;
test::MiniMongod* S3CatalogTest::source_ = nullptr;
std::string S3CatalogTest::failure_;

TEST_F(S3CatalogTest, CatalogOnS3ListsInfoVerifiesRestoresPrunesAndRemoves) {
  const std::string root = url("cat");
  std::string first = catalog_dump(root);
  std::string second = catalog_dump(root);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  ASSERT_NE(first, second);

  auto list = cli({"catalog", "list"}, {root});
  ASSERT_EQ(list.exit_code, 0) << show(list);
  ASSERT_EQ(lines_naming(list.out, first).size(), 1u) << show(list);
  ASSERT_EQ(lines_naming(list.out, second).size(), 1u) << show(list);
  EXPECT_TRUE(contains(lines_naming(list.out, first)[0], "complete")) << show(list);
  EXPECT_TRUE(contains(lines_naming(list.out, second)[0], "complete")) << show(list);

  auto info = cli({"catalog", "info"}, {root, first});
  ASSERT_EQ(info.exit_code, 0) << show(info);
  EXPECT_TRUE(contains(info.out, "status:      complete")) << show(info);
  EXPECT_TRUE(contains(info.out, "shop.orders")) << show(info);
  EXPECT_TRUE(contains(info.out, "namespaces:  3")) << show(info);

  auto verify = cli({"verify"}, {"--catalog", root, "--id", "latest"});
  ASSERT_EQ(verify.exit_code, 0) << show(verify);
  EXPECT_TRUE(contains(verify.out, "OK")) << show(verify);
  auto listed = cli({"catalog", "list"}, {root});
  ASSERT_EQ(listed.exit_code, 0) << show(listed);
  EXPECT_TRUE(contains(lines_naming(listed.out, second).at(0), "verified")) << show(listed);
  EXPECT_EQ(keys_under("cat/.verified"), std::set<std::string>{second + ".json"});

  test::MiniMongod target;
  auto restore = cli({"restore"}, {"--uri", target.uri(), "--progress", "none", "--catalog", root, "--id", first});
  ASSERT_EQ(restore.exit_code, 0) << show(restore);
  expect_equal_to_source(target.uri());

  auto prune = cli({"catalog", "prune"}, {root, "--keep-last", "1"});
  ASSERT_EQ(prune.exit_code, 0) << show(prune);
  EXPECT_TRUE(contains(lines_naming(prune.out, first).at(0), "remove")) << show(prune);
  EXPECT_TRUE(contains(lines_naming(prune.out, second).at(0), "keep")) << show(prune);
  EXPECT_TRUE(keys_under("cat/" + first).empty());
  EXPECT_FALSE(keys_under("cat/" + second).empty());

  auto rm = cli({"catalog", "remove"}, {root, second});
  ASSERT_EQ(rm.exit_code, 0) << show(rm);
  EXPECT_TRUE(keys_under("cat/" + second).empty());
  EXPECT_TRUE(keys_under("cat/.verified").empty());
  auto empty = cli({"catalog", "list"}, {root});
  EXPECT_EQ(lines_naming(empty.out, first).size() + lines_naming(empty.out, second).size(), 0u) << show(empty);
  expect_nothing_local();
}

TEST_F(S3CatalogTest, VerifyOfAnS3DirectoryDumpAndArchiveNamesTheCorruptKeyAndOffset) {
  auto d = dump({"--out", url("d")});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  auto a = dump({"--archive=" + url("a.archive")});
  ASSERT_EQ(a.exit_code, 0) << show(a);
  auto good_dir = cli({"verify"}, {url("d")});
  EXPECT_EQ(good_dir.exit_code, 0) << show(good_dir);
  EXPECT_TRUE(contains(good_dir.out, "manifest complete")) << show(good_dir);
  auto good_archive = cli({"verify"}, {"--archive=" + url("a.archive")});
  EXPECT_EQ(good_archive.exit_code, 0) << show(good_archive);

  // One byte of the directory dump: the terminator of the third document of shop/orders.bson.
  fs::path local = test::temp_dir(name_) / "orders.bson";
  ASSERT_EQ(aws("s3 cp " + url("d/shop/orders.bson") + " " + local.string()).exit_code, 0);
  formats::Bytes b = test::read_file(local);
  std::size_t first = static_cast<std::size_t>(formats::load_i32(b.data()));
  std::size_t third = first + static_cast<std::size_t>(formats::load_i32(b.data() + first));
  std::size_t len3 = static_cast<std::size_t>(formats::load_i32(b.data() + third));
  ASSERT_EQ(b[third + len3 - 1], 0x00);
  b[third + len3 - 1] = 0x01;
  test::write_file(local, b);
  ASSERT_EQ(aws("s3 cp " + local.string() + " " + url("d/shop/orders.bson")).exit_code, 0);
  auto bad_dir = cli({"verify"}, {url("d")});
  EXPECT_EQ(bad_dir.exit_code, 1) << show(bad_dir);
  auto hits = lines_with(bad_dir.out, "invalid BSON");
  ASSERT_EQ(hits.size(), 1u) << show(bad_dir);
  EXPECT_TRUE(contains(hits[0], "shop/orders.bson")) << hits[0];
  auto at = hits[0].rfind("(at offset ");
  ASSERT_NE(at, std::string::npos) << hits[0];
  std::size_t off = std::stoull(hits[0].substr(at + 11));
  EXPECT_GE(off, third) << hits[0];
  EXPECT_LT(off, third + len3) << hits[0];

  // One byte of the archive, 1000 bytes before its end.
  fs::path archive = test::temp_dir(name_) / "a.archive";
  ASSERT_EQ(aws("s3 cp " + url("a.archive") + " " + archive.string()).exit_code, 0);
  formats::Bytes ab = test::read_file(archive);
  ab[ab.size() - 1000] ^= 0x10;
  test::write_file(archive, ab);
  ASSERT_EQ(aws("s3 cp " + archive.string() + " " + url("a.archive")).exit_code, 0);
  auto bad_archive = cli({"verify"}, {"--archive=" + url("a.archive")});
  EXPECT_EQ(bad_archive.exit_code, 1) << show(bad_archive);
  // The problem line starts with the object's name (the summary line names it after "archive ").
  std::vector<std::string> named;
  for (const auto& line : lines_with(bad_archive.out, url("a.archive") + ": "))
    if (line.rfind(url("a.archive"), 0) == 0) named.push_back(line);
  ASSERT_EQ(named.size(), 1u) << show(bad_archive);
  EXPECT_TRUE(contains(named[0], "(at offset ")) << named[0];
  expect_nothing_local();
}

TEST_F(S3CatalogTest, IndexRebuildFromAnS3Dump) {
  fs::path dump = test::restore_testdata() / "coll_with_index";
  ASSERT_EQ(aws("s3 cp --recursive " + dump.string() + " " + url("ix")).exit_code, 0);
  test::MiniMongod server;
  auto r = bsonpipe({"restore", "--uri", server.uri(), "--noIndexRestore", dump.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto plan = cli({"index", "rebuild"}, {"--uri", server.uri(), "--from", url("ix"), "--plan"});
  ASSERT_EQ(plan.exit_code, 0) << show(plan);
  EXPECT_TRUE(contains(plan.out, "would-create")) << show(plan);
  auto run = cli({"index", "rebuild"}, {"--uri", server.uri(), "--from", url("ix")});
  ASSERT_EQ(run.exit_code, 0) << show(run);
  EXPECT_TRUE(contains(run.out, "test.foo f_1")) << show(run);
  auto c = test::connect(server.uri());
  ASSERT_TRUE(c);
  auto l = io::list_indexes(*c, "test", "foo");
  ASSERT_TRUE(l.is_ok());
  std::set<std::string> names;
  for (auto& ix : *l) names.insert(std::string(formats::DocView(ix).find("name").as_string()));
  EXPECT_EQ(names, (std::set<std::string>{"_id_", "f_1"}));
  expect_nothing_local();
}

// The same dump into a catalog on S3 and one on disk: the same keys (the id replaced), the same
// manifest but for times; the lock object exists on S3 only while it is held.
TEST_F(S3CatalogTest, CatalogOnS3HasTheLayoutOfTheCatalogOnDisk) {
  fs::path local_root = test::temp_dir(name_) / "cat";
  std::string remote_id = catalog_dump(url("cat"));
  std::string local_id = catalog_dump(local_root.string());
  ASSERT_FALSE(remote_id.empty());
  ASSERT_FALSE(local_id.empty());
  ASSERT_EQ(cli({"verify"}, {"--catalog", url("cat"), "--id", remote_id}).exit_code, 0);
  ASSERT_EQ(cli({"verify"}, {"--catalog", local_root.string(), "--id", local_id}).exit_code, 0);

  auto normalize = [](const std::string& rel, const std::string& id) {
    std::string s = rel;
    for (auto at = s.find(id); at != std::string::npos; at = s.find(id)) s.replace(at, id.size(), "<id>");
    return s;
  };
  std::set<std::string> remote, local;
  for (const auto& k : keys_under("cat")) remote.insert(normalize(k, remote_id));
  for (auto& e : fs::recursive_directory_iterator(local_root))
    if (e.is_regular_file()) {
      std::string rel = e.path().lexically_relative(local_root).generic_string();
      if (rel != ".lock") local.insert(normalize(rel, local_id));
    }
  EXPECT_EQ(remote, local);
  EXPECT_GE(local.size(), 9u);  // prelude, manifest, two files per collection, the verify record

  fs::path back = test::temp_dir(name_ + "-back");
  ASSERT_EQ(aws("s3 cp " + url("cat/" + remote_id + "/manifest.json") + " " + (back / "m.json").string()).exit_code, 0);
  auto read_manifest = [](const fs::path& p) {
    std::string text = test::read_text(p);
    auto m = formats::manifest_from_json(text);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return m ? *m : formats::Manifest{};
  };
  formats::Manifest rm = read_manifest(back / "m.json");
  formats::Manifest lm = read_manifest(local_root / local_id / "manifest.json");
  EXPECT_TRUE(rm.complete);
  EXPECT_EQ(rm.files, lm.files);
  EXPECT_EQ(rm.source, lm.source);
  EXPECT_EQ(rm.format, lm.format);
  EXPECT_EQ(rm.compression, lm.compression);
  EXPECT_EQ(rm.tool_version, lm.tool_version);
  expect_nothing_local();
}

// restore --backup-first into a catalog on S3, planning from a dump on S3: the backup is a complete
// entry of that catalog, and restoring it (the undo) gives back what the target held.
TEST_F(S3CatalogTest, BackupFirstIntoAnS3CatalogFromAnS3Dump) {
  auto d = dump({"--out", url("d")});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  test::MiniMongod target;
  auto fill = cli({"restore"}, {"--uri", target.uri(), "--progress", "none", url("d")});
  ASSERT_EQ(fill.exit_code, 0) << show(fill);
  auto r =
      cli({"restore"}, {"--uri", target.uri(), "--progress", "none", "--drop", "--backup-first", url("bk"), url("d")});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::string id = trimmed(r.out);
  ASSERT_FALSE(id.empty()) << show(r);
  EXPECT_TRUE(contains(r.err, "--catalog " + url("bk") + " --id " + id + " --drop")) << show(r);
  auto list = cli({"catalog", "list"}, {url("bk")});
  ASSERT_EQ(list.exit_code, 0) << show(list);
  ASSERT_EQ(lines_naming(list.out, id).size(), 1u) << show(list);
  EXPECT_TRUE(contains(lines_naming(list.out, id)[0], "complete")) << show(list);
  test::MiniMongod undone;
  auto undo =
      cli({"restore"}, {"--uri", undone.uri(), "--progress", "none", "--catalog", url("bk"), "--id", id, "--drop"});
  ASSERT_EQ(undo.exit_code, 0) << show(undo);
  expect_equal_to_source(undone.uri());
  expect_nothing_local();
}

// dump --include-path into a catalog on S3: the files (an empty directory too) come back with
// their bytes and permission bits; a symbolic link is refused in one line.
TEST_F(S3CatalogTest, BundledFilesInAnS3CatalogAndLinksRefused) {
  fs::path src = test::temp_dir(name_) / "files";
  fs::create_directories(src / "conf" / "empty");
  std::string text = "bundled\n";
  test::write_file(src / "conf" / "app.ini",
                   formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  fs::permissions(src / "conf" / "app.ini", fs::perms(0640));
  auto d = dump({"--catalog", url("cat"), "--include-path", src.string()});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  std::string id = trimmed(d.out);
  // Verified whole: s3rver 4.0.4 leaves out of a delimited listing a prefix that holds only other
  // prefixes (bsonpipe_files/), which the storage's flat listing does not depend on.
  auto verified = cli({"verify"}, {"--catalog", url("cat"), "--id", id});
  EXPECT_EQ(verified.exit_code, 0) << show(verified);
  EXPECT_TRUE(contains(verified.out, "OK")) << show(verified);
  fs::path back = test::temp_dir(name_ + "-restored");
  auto r = cli({"restore"}, {"--progress", "none", "--catalog", url("cat"), "--id", id, "--restore-paths",
                             back.string(), "--paths-only"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::vector<fs::path> got;
  for (auto& e : fs::recursive_directory_iterator(back)) got.push_back(e.path().lexically_relative(back));
  fs::path file;
  for (auto& g : got)
    if (g.filename() == "app.ini") file = back / g;
  ASSERT_FALSE(file.empty()) << "app.ini not restored";
  EXPECT_EQ(test::read_text(file), text);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(fs::is_directory(file.parent_path() / "empty"));

  fs::create_symlink("app.ini", src / "conf" / "link");
  auto refused = dump({"--catalog", url("cat2"), "--include-path", src.string()});
  EXPECT_EQ(refused.exit_code, 1) << show(refused);
  EXPECT_EQ(lines_with(refused.err, "").size(), 1u) << show(refused);
  EXPECT_TRUE(
      contains(refused.err, (src / "conf" / "link").string() + ": a symbolic link cannot be stored in object storage"))
      << show(refused);
  auto list = cli({"catalog", "list"}, {url("cat2")});
  EXPECT_FALSE(contains(list.out, "complete")) << show(list);
  expect_nothing_local();
}

}  // namespace
}  // namespace bsonpipe
