// Dumps of unchanged data are byte-identical, whatever the batch size, the number of readers
// (ranges) and compression threads: every data and metadata file of a directory dump, with
// --gzip, --zstd and plain, so checksums of nightly dumps match and deduplicating backup stores
// keep one copy. Only manifest.json may differ, in its start and end times.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "formats/manifest.hpp"
#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;

// Every file under `root` (relative path -> bytes), manifest.json aside.
std::map<std::string, formats::Bytes> files_of(const fs::path& root) {
  std::map<std::string, formats::Bytes> out;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() != formats::kManifestName)
      out[fs::relative(e.path(), root).string()] = test::read_file(e.path());
  return out;
}

TEST(DumpDeterminism, SameDataGivesTheSameFilesWhateverTheParallelism) {
  // ~12 MB in one collection: three 4 MiB blocks, split into ranges when --readers > 1, plus a
  // small collection.
  test::MiniMongod server({"--generate", "det.big:12000:1000:7", "--generate", "det.small:300:200:8"});
  auto dir = test::temp_dir("dump-determinism");
  // Each run's flags: batch size, readers (with a split threshold low enough to split), threads.
  const std::vector<std::vector<std::string>> runs = {
      {"--readers", "1", "-j", "1", "--compress-threads", "1", "--batchSize", "1000"},
      {"--readers", "4", "-j", "4", "--compress-threads", "3", "--batchSize", "37", "--split-threshold", "1"},
      {"--readers", "3", "-j", "2", "--compress-threads", "2", "--batchSize", "5000", "--split-threshold", "1"},
  };
  for (const std::vector<std::string>& codec : {std::vector<std::string>{"--gzip"}, {"--zstd"}, {}}) {
    const std::string name = codec.empty() ? "plain" : codec[0];
    std::map<std::string, formats::Bytes> first;
    formats::Manifest first_manifest;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      fs::path out = dir / (name + std::to_string(i));
      std::vector<std::string> args = {"dump", "--uri", server.uri(), "--out", out.string(), "--quiet"};
      args.insert(args.end(), codec.begin(), codec.end());
      args.insert(args.end(), runs[i].begin(), runs[i].end());
      auto r = test::bsonpipe(args);
      ASSERT_EQ(r.exit_code, 0) << test::show(r);
      auto files = files_of(out);
      auto m = formats::manifest_from_json(test::read_text(out / formats::kManifestName));
      ASSERT_TRUE(m.is_ok()) << m.status().to_string();
      if (i == 0) {
        ASSERT_GE(files.size(), 5u) << name;  // data + metadata of two collections, prelude
        first = std::move(files);
        first_manifest = *m;
        continue;
      }
      ASSERT_EQ(files.size(), first.size()) << name << " run " << i;
      for (auto& [path, bytes] : first) {
        ASSERT_TRUE(files.count(path)) << name << " run " << i << ": " << path << " missing";
        EXPECT_TRUE(files[path] == bytes) << name << " run " << i << ": " << path << " differs (" << files[path].size()
                                          << " bytes against " << bytes.size() << ")";
      }
      // The manifest lists the same files with the same sizes and hashes; only times differ.
      ASSERT_EQ(m->files.size(), first_manifest.files.size());
      for (std::size_t f = 0; f < m->files.size(); ++f) {
        EXPECT_EQ(m->files[f].path, first_manifest.files[f].path);
        EXPECT_EQ(m->files[f].stored_bytes, first_manifest.files[f].stored_bytes) << m->files[f].path;
        EXPECT_EQ(m->files[f].xxh3_128, first_manifest.files[f].xxh3_128) << m->files[f].path;
      }
    }
  }
}

}  // namespace
}  // namespace bsonpipe
