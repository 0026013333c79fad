// Storage faults at each stage of a dump: a failed write, commit, rename (or read of a range part)
// aimed at one file of a directory dump (a .bson file, a metadata file, prelude.json, the
// manifest) or at an archive file. The dump must fail naming that file, and afterwards nothing
// in the output location may look finished: no manifest.json with complete=true, no staging
// directory, no archive under its final name, no ".partial" leftover.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "formats/manifest.hpp"
#include "io/compress.hpp"
#include "pipeline/ops/dump.hpp"
#include "tests/support/fault_storage.hpp"
#include "tests/support/test_support.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;
using test::FaultOp;

struct FaultCase {
  const char* name;
  DumpTarget target;
  FaultOp op;
  const char* path_contains;  // the file the fault is aimed at (and the error must name)
  std::uint64_t nth;
};

void PrintTo(const FaultCase& c, std::ostream* os) {
  *os << c.name;
}

// What "finished" means for a dump (formats/manifest.hpp, pipeline/ops/dump.hpp): a directory with a
// manifest.json whose complete is true, or an archive file under its final name. Returns what
// looks finished, or "" when nothing does.
std::string finished_output(const fs::path& out, DumpTarget target) {
  std::string found;
  if (target == DumpTarget::kDirectory && fs::exists(out / formats::kManifestName)) {
    auto m = formats::manifest_from_json(test::read_text(out / formats::kManifestName));
    if (!m.is_ok() || m->complete) found += (out / formats::kManifestName).string() + " (complete); ";
  }
  if (target == DumpTarget::kArchive && fs::exists(out)) found += out.string() + " (the archive); ";
  // The staging directory and any file still being written are removed on failure.
  fs::path staging = out.string() + ".partial";
  if (fs::exists(staging)) found += staging.string() + " (staging left behind); ";
  for (const fs::path& dir : {out.parent_path(), out}) {
    if (!fs::is_directory(dir)) continue;
    for (auto& e : fs::recursive_directory_iterator(dir))
      if (e.path().extension() == ".partial" && e.path() != staging) found += e.path().string() + "; ";
  }
  return found;
}

class DumpStorageFault : public ::testing::TestWithParam<FaultCase> {
 protected:
  void SetUp() override {
    for (auto spec : {"a.big:3000:300:1", "a.small:200:200:2", "b.c:400:300:3"}) {
      auto s = minimongod::parse_generate_spec(spec);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(minimongod::generate_into(engine_, s.value()).ok());
    }
    server_ = std::make_unique<minimongod::Server>(engine_, minimongod::ServerOptions{});
    ASSERT_TRUE(server_->start().is_ok());
  }
  DumpOptions options(DumpTarget target, const fs::path& out) {
    DumpOptions o;
    o.uri = "mongodb://127.0.0.1:" + std::to_string(server_->port()) + "/";
    o.target = target;
    o.out = out;
    o.codec = io::Codec::kGzip;
    o.readers = 3;  // a.big is read as 3 ranges, joined in range order into its one file
    o.parallel_collections = 3;
    o.split_min_bytes = 1;
    o.compress_threads = 2;
    o.block_bytes = 16 * 1024;  // several blocks, so several writes per file
    o.batch_size = 100;
    o.progress.mode = ProgressMode::kNone;
    o.progress.quiet = true;
    o.storage = &storage_;
    return o;
  }
  minimongod::Engine engine_;
  std::unique_ptr<minimongod::Server> server_;
  test::FaultInjectionStorage storage_;
};

TEST_P(DumpStorageFault, FailsNamingTheFileAndLeavesNothingThatLooksFinished) {
  const FaultCase& c = GetParam();
  fs::path dir = test::temp_dir(std::string("dump-fault-") + c.name);
  fs::path out = dir / (c.target == DumpTarget::kArchive ? "dump.archive.gz" : "dump");
  storage_.add({c.op, c.path_contains, c.nth});

  auto r = run_dump(options(c.target, out));

  EXPECT_EQ(storage_.fired(), 1) << "the fault was never reached: the case tests nothing";
  EXPECT_FALSE(r.is_ok()) << "the dump succeeded despite the fault";
  EXPECT_EQ(r.status().code(), ErrorCode::kIo) << r.status().to_string();
  EXPECT_NE(r.status().message().find(c.path_contains), std::string::npos)
      << "the error does not name the file: " << r.status().to_string();
  EXPECT_EQ(finished_output(out, c.target), "");
}

// Without a fault the same dump finishes (so each case above fails for the fault alone).
TEST_F(DumpStorageFault, WithoutAFaultBothDumpsFinish) {
  fs::path dir = test::temp_dir("dump-fault-none");
  for (DumpTarget t : {DumpTarget::kDirectory, DumpTarget::kArchive}) {
    fs::path out = dir / (t == DumpTarget::kArchive ? "dump.archive.gz" : "dump");
    auto r = run_dump(options(t, out));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->documents, 3600u);
    EXPECT_NE(finished_output(out, t), "");
  }
  EXPECT_EQ(storage_.fired(), 0);
  EXPECT_GT(storage_.calls(FaultOp::kRename), 0u);  // the directory dump's files were moved
  EXPECT_EQ(storage_.calls(FaultOp::kOpen), 0u);    // no range part is written and read back
}

constexpr DumpTarget kDir = DumpTarget::kDirectory;
constexpr DumpTarget kArc = DumpTarget::kArchive;

INSTANTIATE_TEST_SUITE_P(Stages, DumpStorageFault,
                         ::testing::Values(
                             // A split collection's data: its one file written in range order (early, and
                             // late, when held ranges are flushed), its commit, and its move into the output.
                             FaultCase{"dir_write_bson_split", kDir, FaultOp::kWrite, "big.bson.gz", 2},
                             FaultCase{"dir_write_bson_split_late", kDir, FaultOp::kWrite, "big.bson.gz", 12},
                             FaultCase{"dir_commit_bson", kDir, FaultOp::kCommit, "big.bson.gz", 1},
                             FaultCase{"dir_write_bson_single", kDir, FaultOp::kWrite, "small.bson.gz", 1},
                             FaultCase{"dir_rename_bson", kDir, FaultOp::kRename, "c.bson.gz", 1},
                             // Metadata and prelude: written into the staging directory, then moved.
                             FaultCase{"dir_write_metadata", kDir, FaultOp::kWrite, "small.metadata.json.gz", 1},
                             FaultCase{"dir_commit_metadata", kDir, FaultOp::kCommit, "c.metadata.json.gz", 1},
                             FaultCase{"dir_rename_metadata", kDir, FaultOp::kRename, "big.metadata.json.gz", 1},
                             FaultCase{"dir_rename_prelude", kDir, FaultOp::kRename, "prelude.json", 1},
                             // The manifest: written last, straight into the output directory.
                             FaultCase{"dir_write_manifest", kDir, FaultOp::kWrite, "manifest.json", 1},
                             FaultCase{"dir_commit_manifest", kDir, FaultOp::kCommit, "manifest.json", 1},
                             // The archive file: its first block (the prelude), a later block, and its commit.
                             FaultCase{"archive_create", kArc, FaultOp::kCreate, "dump.archive.gz", 1},
                             FaultCase{"archive_write_first", kArc, FaultOp::kWrite, "dump.archive.gz", 1},
                             FaultCase{"archive_write_later", kArc, FaultOp::kWrite, "dump.archive.gz", 3},
                             FaultCase{"archive_commit", kArc, FaultOp::kCommit, "dump.archive.gz", 1}),
                         [](const ::testing::TestParamInfo<FaultCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace bsonpipe::pipeline
