// Compatibility with real mongodump output: each fixture dump (written by mongodump 100.8) is
// restored into minimongod and dumped again by bsonpipe; the files must carry the same names
// (percent-escaping, long-name hashing), the same documents and the same metadata fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Bytes;
using formats::DocView;

std::vector<Bytes> documents(const fs::path& file) {
  auto out = test::split_documents(test::read_file(file));
  std::sort(out.begin(), out.end());
  return out;
}

// Index name -> key pattern (canonical JSON of the key document) from a metadata.json.
std::map<std::string, std::string> index_keys(const formats::CollectionMetadata& m) {
  std::map<std::string, std::string> out;
  for (auto& spec : m.indexes) {
    DocView d(spec);
    auto key = d.find("key").as_document();
    std::string k;
    for (auto e : key) k += std::string(e.key()) + ":" + std::to_string(e.number_as_double()) + ",";
    out[std::string(d.find("name").as_string())] = k;
  }
  return out;
}

formats::CollectionMetadata metadata(const fs::path& file) {
  auto m = formats::parse_collection_metadata(test::read_text(file));
  EXPECT_TRUE(m.is_ok()) << file << ": " << m.status().to_string();
  return m.is_ok() ? *m : formats::CollectionMetadata{};
}

class DumpCompat : public ::testing::TestWithParam<std::string> {};

TEST_P(DumpCompat, RestoredFixtureDumpsBackToTheSameFiles) {
  fs::path fixture = test::restore_testdata() / GetParam();
  test::MiniMongod server;
  auto restore = test::bsonpipe({"restore", "--uri", server.uri(), fixture.string(), "--progress", "none"});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  auto out = test::temp_dir("compat") / "d";
  auto dump = test::bsonpipe({"dump", "--uri", server.uri(), "--out", out.string(), "--progress", "none"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;

  std::size_t compared = 0;
  for (auto& dbdir : fs::directory_iterator(fixture)) {
    if (!dbdir.is_directory()) continue;
    for (auto& f : fs::directory_iterator(dbdir.path())) {
      std::string name = f.path().filename().string();
      auto parts = formats::split_dump_file_name(name);
      if (!parts) continue;
      fs::path ours = out / dbdir.path().filename() / name;
      SCOPED_TRACE(ours.string());
      ASSERT_TRUE(fs::exists(ours)) << "bsonpipe did not write a file of the name mongodump wrote";
      if (parts->kind == formats::DumpFileKind::kBson) {
        EXPECT_EQ(documents(ours), documents(f.path()));
      } else {
        auto theirs_md = metadata(f.path()), ours_md = metadata(ours);
        EXPECT_EQ(ours_md.collection_name, theirs_md.collection_name.empty()
                                               ? formats::collection_from_stem(parts->stem).value()
                                               : theirs_md.collection_name);
        EXPECT_EQ(index_keys(ours_md), index_keys(theirs_md));
        EXPECT_EQ(ours_md.uuid.size(), 32u);
        EXPECT_EQ(ours_md.type, "collection");
      }
      ++compared;
    }
  }
  std::printf("[compat] %s: %zu files compared\n", GetParam().c_str(), compared);
  EXPECT_GE(compared, 2u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DumpCompat,
                         ::testing::Values("specialcharacter", "longcollectionname", "coll_with_index", "indextestdump",
                                           "foodump"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bsonpipe
