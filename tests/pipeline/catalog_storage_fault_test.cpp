// The catalog under storage faults (test::FaultInjectionStorage): a catalog entry whose creation
// fails on a rename or a commit is never listed as complete and does not stop the next dump; a
// prune whose removal fails says which path and leaves the catalog listable.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "io/storage.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "tests/support/fault_storage.hpp"
#include "tests/support/test_support.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;
using test::FaultInjectionStorage;
using test::FaultOp;
using test::FaultRule;

formats::ByteSpan bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The ids `list` shows as complete (through `st`, as a reader on that storage would).
std::vector<std::string> complete_ids(const fs::path& root, io::Storage& st) {
  auto entries = list_catalog(root, &st);
  EXPECT_TRUE(entries.is_ok()) << entries.status().to_string();
  std::vector<std::string> out;
  if (entries.is_ok())
    for (const auto& e : *entries)
      if (e.complete()) out.push_back(e.id);
  return out;
}

class CatalogStorageFault : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = minimongod::parse_generate_spec("a.c:200:100:1");
    ASSERT_TRUE(spec.ok());
    ASSERT_TRUE(minimongod::generate_into(engine_, spec.value()).ok());
    server_ = std::make_unique<minimongod::Server>(engine_, minimongod::ServerOptions{});
    ASSERT_TRUE(server_->start().is_ok());
    uri_ = "mongodb://127.0.0.1:" + std::to_string(server_->port()) + "/";
    tmp_ = test::temp_dir("catalog_storage_fault");
    root_ = tmp_ / "cat";
  }
  DumpOptions options(io::Storage* st) const {
    DumpOptions o;
    o.uri = uri_;
    o.progress.mode = ProgressMode::kNone;
    o.progress.quiet = true;
    o.storage = st;
    return o;
  }
  minimongod::Engine engine_;
  std::unique_ptr<minimongod::Server> server_;
  std::string uri_;
  fs::path tmp_, root_;
};

TEST_F(CatalogStorageFault, FailedBundleRenameLeavesNoCompleteEntryAndTheNextDumpSucceeds) {
  fs::path src = tmp_ / "uploads";
  ASSERT_TRUE(io::local_storage().write_all(src / "notes.txt", bytes_of("bundled\n")).is_ok());
  FaultInjectionStorage st;
  // The staging rename of the bundled files into ROOT/<id>/ (move_bundle).
  st.add(FaultRule{.op = FaultOp::kRename, .path_contains = std::string(formats::kBundleDir)});
  auto o = options(&st);
  o.bundle.include_paths = {src};
  auto first = run_catalog_dump(root_, o);
  ASSERT_FALSE(first.is_ok()) << "the dump went through despite the fault: " << first->id;
  EXPECT_EQ(st.fired(), 1);
  EXPECT_NE(first.status().message().find(std::string(formats::kBundleDir)), std::string::npos)
      << first.status().to_string();
  EXPECT_TRUE(complete_ids(root_, st).empty());

  // The lock was given up and the failed entry is in nobody's way.
  auto second = run_catalog_dump(root_, o);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(complete_ids(root_, st), std::vector<std::string>{second->id});
  auto e = find_catalog_entry(root_, "latest", &st);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  ASSERT_TRUE(e->manifest.has_value());
  EXPECT_EQ(e->manifest->bundled.size(), 1u);
}

TEST_F(CatalogStorageFault, FailedManifestCommitOfABackupLeavesNoCompleteEntry) {
  RestoreOptions ro;
  ro.uri = uri_;
  const std::vector<std::string> targets{"a.c", "a.missing"};
  // The manifest.json commits while the backup's catalog entry is created: 1st the dump's own,
  // 2nd the rewrite that records the absent namespace (with the lock still held).
  for (std::uint64_t nth : {1, 2}) {
    SCOPED_TRACE("failing manifest commit #" + std::to_string(nth));
    fs::path root = root_ / std::to_string(nth);
    FaultInjectionStorage st;
    st.add(FaultRule{.op = FaultOp::kCommit, .path_contains = std::string(formats::kManifestName), .nth = nth});
    auto first = backup_restore_targets(root, ro, targets, &st);
    ASSERT_FALSE(first.is_ok()) << "the backup went through despite the fault: " << first->id;
    EXPECT_EQ(st.fired(), 1);
    EXPECT_NE(first.status().message().find(std::string(formats::kManifestName)), std::string::npos)
        << first.status().to_string();
    if (nth == 2) {  // the finished dump is taken back: its manifest already said complete
      EXPECT_NE(first.status().message().find("(the dump was removed)"), std::string::npos)
          << first.status().to_string();
    }
    EXPECT_TRUE(complete_ids(root, st).empty());

    auto second = backup_restore_targets(root, ro, targets, &st);
    ASSERT_TRUE(second.is_ok()) << second.status().to_string();
    EXPECT_EQ(second->absent_namespaces, std::vector<std::string>{"a.missing"});
    EXPECT_EQ(complete_ids(root, st), std::vector<std::string>{second->id});
    // The next plain catalog dump goes through too.
    auto third = run_catalog_dump(root, options(&st));
    ASSERT_TRUE(third.is_ok()) << third.status().to_string();
    EXPECT_EQ(complete_ids(root, st).size(), 2u);
  }
}

// A complete entry written by hand (through the storage, as a dump would).
void fabricate(io::Storage& st, const fs::path& root, const std::string& id) {
  auto t = parse_catalog_id(id);
  ASSERT_TRUE(t.has_value()) << id;
  formats::Manifest m;
  m.tool_version = "test";
  m.format = "directory";
  m.compression = "none";
  m.start_ms = t->first;
  m.end_ms = t->first + 1000;
  m.files.push_back({"db/c.bson", "db.c", "data", 1, 10, 10, std::string(32, '0')});
  m.complete = true;
  ASSERT_TRUE(st.write_all(root / id / "db" / "c.bson", bytes_of(std::string(10, 'x'))).is_ok());
  ASSERT_TRUE(
      st.write_all(root / id / std::string(formats::kManifestName), bytes_of(formats::manifest_to_json(m))).is_ok());
}

TEST(CatalogStorageFaultPrune, FailedRemoveNamesThePathAndTheCatalogStaysListable) {
  fs::path root = test::temp_dir("catalog_storage_fault_prune") / "cat";
  FaultInjectionStorage st;
  const std::string newest = "2026-11-20T01-00-00Z", middle = "2026-11-19T01-00-00Z", oldest = "2026-11-18T01-00-00Z";
  for (const auto& id : {newest, middle, oldest}) fabricate(st, root, id);
  st.add(FaultRule{.op = FaultOp::kRemove, .path_contains = middle});

  auto r = prune_catalog(root, PrunePolicy{.keep_last = 1}, false, &st);
  ASSERT_FALSE(r.is_ok()) << "the prune went through despite the fault";
  EXPECT_EQ(st.fired(), 1);
  EXPECT_NE(r.status().message().find((root / middle).string()), std::string::npos) << r.status().to_string();
  // Listable, and nothing half-removed shows as complete: the entries prune did not get to are
  // whole.
  EXPECT_EQ(complete_ids(root, st), (std::vector<std::string>{newest, middle, oldest}));

  // Without the fault the same prune finishes the job.
  auto again = prune_catalog(root, PrunePolicy{.keep_last = 1}, false, &st);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(complete_ids(root, st), std::vector<std::string>{newest});
}

}  // namespace
}  // namespace bsonpipe::pipeline
