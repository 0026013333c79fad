// Restore reads through io::Storage: a byte corrupted or a read failed under a dump's .bson file
// or an archive (test::FaultInjectionStorage) ends the run with one error line naming the file
// and the offset. A dump of an in-process minimongod is the fixture; a second one is the target.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "formats/archive.hpp"
#include "io/commands.hpp"
#include "io/uri.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/restore.hpp"
#include "pipeline/ops/restore_journal.hpp"
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

class RestoreStorageFault : public ::testing::Test {
 protected:
  void SetUp() override {
    // Small: each namespace's documents fit one batch and one archive segment.
    for (auto spec : {"src.c:60:120:1", "src.d:40:100:2"}) {
      auto s = minimongod::parse_generate_spec(spec);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(minimongod::generate_into(source_engine_, s.value()).ok());
    }
    source_ = std::make_unique<minimongod::Server>(source_engine_, minimongod::ServerOptions{});
    ASSERT_TRUE(source_->start().is_ok());
    target_ = std::make_unique<minimongod::Server>(target_engine_, minimongod::ServerOptions{});
    ASSERT_TRUE(target_->start().is_ok());
    target_uri_ = "mongodb://127.0.0.1:" + std::to_string(target_->port()) + "/";

    fs::path dir = test::temp_dir("restore-storage-fault");
    dump_dir_ = dir / "dump";
    archive_ = dir / "dump.archive";
    for (DumpTarget t : {DumpTarget::kDirectory, DumpTarget::kArchive}) {
      DumpOptions o;
      o.uri = "mongodb://127.0.0.1:" + std::to_string(source_->port()) + "/";
      o.target = t;
      o.out = t == DumpTarget::kDirectory ? dump_dir_ : archive_;
      auto r = run_dump(o);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    }
  }

  RestoreOptions options(FaultInjectionStorage& storage, bool archive) const {
    RestoreOptions o;
    o.uri = target_uri_;
    o.storage = &storage;
    o.num_parallel_collections = 1;
    if (archive) {
      o.archive = true;
      o.archive_path = archive_.string();
    } else {
      o.input = dump_dir_;
    }
    return o;
  }

  std::int64_t target_count(const std::string& collection) const {
    auto uri = io::parse_uri(target_uri_);
    EXPECT_TRUE(uri.is_ok());
    auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
    EXPECT_TRUE(conn) << conn.error().to_string();
    auto n = io::count(**conn, "src", collection);
    return n ? *n : -1;  // -1: not there
  }

  // Archive offset of the first document of src.c.
  std::int64_t archive_documents_offset() const {
    formats::Bytes bytes = test::read_file(archive_);
    std::size_t pos = 0;
    formats::archive::Reader reader([&](std::span<std::uint8_t> buf) -> Result<std::size_t> {
      std::size_t n = std::min(buf.size(), bytes.size() - pos);
      std::copy_n(bytes.data() + pos, n, buf.data());
      pos += n;
      return n;
    });
    EXPECT_TRUE(reader.read_prelude().is_ok());
    for (;;) {
      auto ev = reader.next();
      if (!ev || ev->kind == formats::archive::EventKind::kEnd) return -1;
      if (ev->kind == formats::archive::EventKind::kDocuments && ev->collection == "c") return ev->offset;
    }
  }

  // An archive's error names it once, at the start.
  void expect_archive_named_once(const Status& s) const {
    std::string msg = s.to_string();
    std::string name = "archive " + archive_.string() + ": ";
    EXPECT_EQ(msg.find(name), 0u) << msg;
    EXPECT_EQ(msg.find(name, 1), std::string::npos) << msg;
  }

  static void expect_one_line(const Status& s, const std::string& file, const std::string& offset_text) {
    std::string msg = s.to_string();
    EXPECT_FALSE(s.is_ok());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_NE(msg.find(offset_text), std::string::npos) << msg;
  }

  minimongod::Engine source_engine_;
  minimongod::Engine target_engine_;
  std::unique_ptr<minimongod::Server> source_;
  std::unique_ptr<minimongod::Server> target_;
  std::string target_uri_;
  fs::path dump_dir_;
  fs::path archive_;
};

TEST_F(RestoreStorageFault, CorruptByteInBsonFileNamesFileAndOffset) {
  fs::path file = dump_dir_ / "src" / "c.bson";
  formats::Bytes bytes = test::read_file(file);
  ASSERT_GT(bytes.size(), 8u);
  std::uint32_t first = formats::load_u32(bytes.data());
  // The high byte of the second document's length: it becomes a length no document can have.
  FaultInjectionStorage storage;
  storage.add(FaultRule{.op = FaultOp::kRead, .path_contains = "c.bson", .corrupt_at = first + 3});
  auto r = run_restore(options(storage, false));
  expect_one_line(r.status(), file.string(), "bad document length");
  expect_one_line(r.status(), file.string(), "(at offset " + std::to_string(first) + ")");
  EXPECT_FALSE(r.is_ok());
}

TEST_F(RestoreStorageFault, FailedReadOfBsonFileNamesFileAndOffset) {
  fs::path file = dump_dir_ / "src" / "d.bson";
  std::uint64_t size = fs::file_size(file);
  // The second read of the file (the first read took all of it): fails at its end.
  FaultInjectionStorage storage;
  storage.add(FaultRule{.op = FaultOp::kRead, .path_contains = "d.bson", .nth = 2});
  auto r = run_restore(options(storage, false));
  expect_one_line(r.status(), file.string(), "injected fault: read of");
  expect_one_line(r.status(), file.string(), "(at offset " + std::to_string(size) + ")");
  EXPECT_EQ(storage.fired(), 1);
}

TEST_F(RestoreStorageFault, CorruptByteInArchiveNamesArchiveAndOffsetAndWritesNothing) {
  std::int64_t docs = archive_documents_offset();
  ASSERT_GT(docs, 0);
  // Inside the first document's body: every length still adds up, the namespace's CRC does not.
  FaultInjectionStorage storage;
  storage.add(FaultRule{
      .op = FaultOp::kRead, .path_contains = "dump.archive", .corrupt_at = static_cast<std::uint64_t>(docs + 20)});
  auto r = run_restore(options(storage, true));
  expect_one_line(r.status(), "archive " + archive_.string() + ": ", "CRC mismatch for namespace src.c");
  expect_one_line(r.status(), archive_.string(), "(at offset ");
  expect_archive_named_once(r.status());
  // The namespace's only batch waited for its EOF block: nothing of src.c reached the server.
  EXPECT_LE(target_count("c"), 0);
}

TEST_F(RestoreStorageFault, FailedReadOfArchiveNamesArchiveAndOffset) {
  // The first read sniffs 4 bytes of magic; the second is the reader's first chunk.
  FaultInjectionStorage storage;
  storage.add(FaultRule{.op = FaultOp::kRead, .path_contains = "dump.archive", .nth = 2});
  auto r = run_restore(options(storage, true));
  expect_one_line(r.status(), "archive " + archive_.string() + ": ", "injected fault: read of");
  expect_one_line(r.status(), archive_.string(), "at offset 4");
  expect_archive_named_once(r.status());
  EXPECT_EQ(storage.fired(), 1);
}

TEST_F(RestoreStorageFault, FailedReadInsideArchiveDataNamesArchiveAndOffset) {
  std::int64_t docs = archive_documents_offset();
  ASSERT_GT(docs, 0);
  // Reads of at most 1000 bytes after the 4-byte sniff: the one that starts past the first
  // document of src.c fails.
  std::uint64_t chunks = static_cast<std::uint64_t>(docs - 4) / 1000 + 1;
  std::uint64_t fails_at = 4 + chunks * 1000;
  FaultInjectionStorage storage;
  storage.add(FaultRule{.op = FaultOp::kRead, .path_contains = "dump.archive", .nth = chunks + 2});
  storage.add(FaultRule{.op = FaultOp::kRead, .path_contains = "dump.archive", .short_reads = 1000});
  auto r = run_restore(options(storage, true));
  expect_one_line(r.status(), "archive " + archive_.string() + ": ", "injected fault: read of");
  expect_one_line(r.status(), archive_.string(), "(at offset " + std::to_string(fails_at) + ")");
  expect_archive_named_once(r.status());
  EXPECT_GT(fails_at, static_cast<std::uint64_t>(docs));
  EXPECT_EQ(storage.fired(), 1);
}

TEST_F(RestoreStorageFault, WithoutFaultsEverythingIsReadThroughTheStorage) {
  for (bool archive : {false, true}) {
    FaultInjectionStorage storage;
    RestoreOptions o = options(storage, archive);
    o.drop = true;
    auto r = run_restore(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(r->ok());
    EXPECT_EQ(r->inserted, 100u);
    EXPECT_GT(storage.calls(FaultOp::kOpen), 0u);
    EXPECT_GT(storage.calls(FaultOp::kRead), 0u);
    if (!archive) {
      EXPECT_GT(storage.calls(FaultOp::kList), 0u);
    }
    EXPECT_EQ(target_count("c"), 60);
    EXPECT_EQ(target_count("d"), 40);
  }
}

TEST_F(RestoreStorageFault, JournalIsWrittenThroughTheStorage) {
  fs::path journal = test::temp_dir("restore-storage-fault-journal") / "restore.journal";
  FaultInjectionStorage storage;
  RestoreOptions o = options(storage, false);
  o.journal = journal;
  auto r = run_restore(o);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(r->journal, journal.string());
  // The header, one start, batch and done record per namespace, and the end: each committed.
  EXPECT_GE(storage.calls(FaultOp::kCommit), 8u);
  auto st = read_journal(journal);
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_TRUE(st->complete);
  EXPECT_EQ(st->done.size(), 2u);
}

TEST_F(RestoreStorageFault, FailedJournalWriteStopsTheRunNamingTheJournal) {
  fs::path journal = test::temp_dir("restore-storage-fault-journal") / "restore.journal";
  FaultInjectionStorage storage;
  // The header goes in; the first record after it does not.
  storage.add(FaultRule{.op = FaultOp::kCommit, .path_contains = "restore.journal", .nth = 2});
  RestoreOptions o = options(storage, false);
  o.journal = journal;
  auto r = run_restore(o);
  expect_one_line(r.status(), "writing restore journal " + journal.string(), "injected fault: commit of");
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(storage.fired(), 1);
}

}  // namespace
}  // namespace bsonpipe::pipeline
