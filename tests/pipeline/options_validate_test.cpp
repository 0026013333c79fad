// The options' validate() functions, as tables: each invalid field gives exactly its message
// (kInvalidArgument), valid options give ok, and each operation's entry point refuses invalid
// options with that message before it reads, connects or locks anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/catalog/catalog.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/index_rebuild.hpp"
#include "pipeline/ops/restore.hpp"
#include "pipeline/ops/verify.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;

// Nowhere: an entry point that connected would fail with another message.
constexpr const char* kNoServer = "mongodb://127.0.0.1:1/";

template <class Options>
struct Case {
  std::string name;
  std::function<void(Options&)> change;  // applied to default options
  std::string message;                   // validate()'s exact message
};

template <class Options>
void expect_cases(const std::vector<Case<Options>>& cases) {
  EXPECT_TRUE(Options{}.validate().is_ok()) << Options{}.validate().to_string();
  for (const auto& c : cases) {
    Options o;
    c.change(o);
    Status s = o.validate();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_EQ(s.message(), c.message) << c.name;
    EXPECT_EQ(s.offset(), -1) << c.name;
  }
}

class NullSink : public DocumentSink {
 public:
  Status start(const formats::archive::Prelude&) override { return {}; }
  Status documents(std::string_view, std::string_view, formats::Bytes, std::size_t) override { return {}; }
  Status end_namespace(std::string_view, std::string_view) override { return {}; }
};

TEST(OptionsValidate, Dump) {
  static NullSink sink;
  expect_cases<DumpOptions>({
      {"-j 0", [](DumpOptions& o) { o.parallel_collections = 0; }, "--numParallelCollections must be at least 1"},
      {"--readers 0", [](DumpOptions& o) { o.readers = 0; }, "--readers must be at least 1"},
      {"--retries -1", [](DumpOptions& o) { o.retries = -1; }, "--retries must be 0 or more"},
      {"--out - without --collection",
       [](DumpOptions& o) {
         o.target = DumpTarget::kStdoutBson;
         o.db = "d";
       },
       "--out - (standard output) needs --db and --collection"},
      {"--oplog --db",
       [](DumpOptions& o) {
         o.oplog = true;
         o.db = "d";
       },
       "--oplog dumps the whole instance: it cannot be used with --db or --out -"},
      {"--dumpDbUsersAndRoles without --db", [](DumpOptions& o) { o.dump_users_and_roles = true; },
       "--dumpDbUsersAndRoles needs --db (the database whose users and roles)"},
      {"--dumpDbUsersAndRoles --collection",
       [](DumpOptions& o) {
         o.dump_users_and_roles = true;
         o.db = "d";
         o.collection = "c";
       },
       "--dumpDbUsersAndRoles cannot be used with --collection"},
      {"--collection without --db", [](DumpOptions& o) { o.collection = "c"; }, "--collection needs --db"},
      {"--rate-limit -1", [](DumpOptions& o) { o.rate_limit_mbps = -1; }, "--rate-limit must be a positive MB/s"},
      {"document sink, directory", [](DumpOptions& o) { o.document_sink = &sink; },
       "a document sink takes an archive dump"},
  });
}

TEST(OptionsValidate, Restore) {
  expect_cases<RestoreOptions>({
      {"--preserveUUID without --drop", [](RestoreOptions& o) { o.preserve_uuid = true; },
       "cannot specify --preserveUUID without --drop"},
      {"--oplogLimit without --oplogReplay", [](RestoreOptions& o) { o.oplog_limit = "1700000000"; },
       "--oplogLimit needs --oplogReplay"},
      {"--oplogLimit x",
       [](RestoreOptions& o) {
         o.plan.oplog_replay = true;
         o.oplog_limit = "x";
       },
       "--oplogLimit must be <seconds>[:ordinal] (e.g. 1700000000:3), not 'x'"},
      {"--resume --swap",
       [](RestoreOptions& o) {
         o.resume = true;
         o.swap = true;
       },
       "--resume cannot continue a --swap restore (its temporary collections are removed on failure)"},
      {"--journal, archive on stdin",
       [](RestoreOptions& o) {
         o.journal = "j";
         o.archive = true;
       },
       "--resume/--journal need an archive file: an archive read from standard input cannot be resumed"},
      {"--restoreDbUsersAndRoles without --db", [](RestoreOptions& o) { o.plan.restore_users_and_roles = true; },
       "cannot use --restoreDbUsersAndRoles without a specified database (--db)"},
      {"--restoreDbUsersAndRoles --db admin",
       [](RestoreOptions& o) {
         o.plan.restore_users_and_roles = true;
         o.plan.db = "admin";
       },
       "cannot use --restoreDbUsersAndRoles with the admin database"},
      {"--swap --drop",
       [](RestoreOptions& o) {
         o.swap = true;
         o.drop = true;
       },
       "--swap replaces each collection already: do not combine it with --drop"},
      {"-j 0", [](RestoreOptions& o) { o.num_parallel_collections = 0; },
       "--numParallelCollections must be at least 1"},
      {"--numInsertionWorkersPerCollection 0", [](RestoreOptions& o) { o.insertion_workers = 0; },
       "--numInsertionWorkersPerCollection must be at least 1"},
      {"--retries -1", [](RestoreOptions& o) { o.retries = -1; }, "--retries must be 0 or more"},
      {"--batchSize -1", [](RestoreOptions& o) { o.batch_size = -1; }, "--batchSize must not be negative"},
      {"--archive and a dump path",
       [](RestoreOptions& o) {
         o.archive = true;
         o.archive_path = "a.archive";
         o.input = "dump";
       },
       "give either --archive or a dump path, not both"},
      {"--writeConcern {bad", [](RestoreOptions& o) { o.write_concern = "{bad"; },
       parse_write_concern("{bad").status().message()},
  });
  // The --writeConcern case is the parser's own error, whatever its wording.
  EXPECT_EQ(parse_write_concern("{bad").status().message().rfind("--writeConcern: ", 0), 0u);
}

TEST(OptionsValidate, VerifyIndexRebuildAndPrune) {
  expect_cases<VerifyOptions>({
      {"--jobs 0", [](VerifyOptions& o) { o.jobs = 0; }, "--jobs must be at least 1"},
  });
  expect_cases<IndexRebuildOptions>({
      {"-j 0", [](IndexRebuildOptions& o) { o.num_parallel_collections = 0; },
       "--numParallelCollections must be at least 1"},
  });
  expect_cases<PrunePolicy>({
      {"--keep-last -1", [](PrunePolicy& p) { p.keep_last = -1; }, "--keep-* values must be 0 or more"},
      {"--keep-daily -1", [](PrunePolicy& p) { p.keep_daily = -1; }, "--keep-* values must be 0 or more"},
      {"--keep-weekly -1", [](PrunePolicy& p) { p.keep_weekly = -1; }, "--keep-* values must be 0 or more"},
  });
}

// Each entry point validates first: the message is validate()'s, and nothing was read, connected
// or created (the paths below do not exist, the URI has no server).
TEST(OptionsValidate, EntryPointsRefuseInvalidOptionsFirst) {
  const fs::path missing = test::temp_dir("options-validate") / "missing";

  DumpOptions d;
  d.uri = kNoServer;
  d.out = missing / "dump";
  d.readers = 0;
  auto dump = run_dump(d);
  EXPECT_EQ(dump.status().message(), "--readers must be at least 1");
  auto catalog = run_catalog_dump(missing / "catalog", d);
  EXPECT_EQ(catalog.status().message(), "--readers must be at least 1");
  EXPECT_FALSE(fs::exists(missing / "catalog"));  // not created, not locked

  RestoreOptions r;
  r.uri = kNoServer;
  r.input = missing / "dump";
  r.insertion_workers = 0;
  RestoreReport partial;
  partial.inserted = 7;
  auto restore = run_restore(r, &partial);
  EXPECT_EQ(restore.status().message(), "--numInsertionWorkersPerCollection must be at least 1");
  EXPECT_EQ(partial.inserted, 0u);  // the partial report of a run that did nothing
  auto backup = backup_restore_targets(missing / "backup", r, {"db.c"});
  EXPECT_EQ(backup.status().message(), "--numInsertionWorkersPerCollection must be at least 1");
  EXPECT_FALSE(fs::exists(missing / "backup"));

  VerifyOptions v;
  v.input = missing / "dump";
  v.jobs = 0;
  EXPECT_EQ(run_verify(v).status().message(), "--jobs must be at least 1");

  IndexRebuildOptions i;
  i.uri = kNoServer;
  i.from = missing / "dump";
  i.num_parallel_collections = 0;
  EXPECT_EQ(run_index_rebuild(i).status().message(), "--numParallelCollections must be at least 1");

  auto prune = prune_catalog(missing / "catalog", PrunePolicy{.keep_weekly = -2}, true);
  EXPECT_EQ(prune.status().message(), "--keep-* values must be 0 or more");
}

}  // namespace
}  // namespace bsonpipe::pipeline
