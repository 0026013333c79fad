// bsonpipe verify through the storage seam: a byte flipped or a read failing while a dump's .bson
// is read is reported as one line naming the file and the offset, and an exception thrown inside
// a verify worker (a storage backend that throws) is the report's error, not std::terminate.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "formats/bson.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/index_rebuild.hpp"
#include "pipeline/ops/verify.hpp"
#include "tests/support/fault_storage.hpp"
#include "tests/support/test_support.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;

// A storage backend that throws from read() of paths containing `needle` (as a client library
// might on a broken connection); everything else is the local file system.
class ThrowingStorage final : public io::Storage {
 public:
  explicit ThrowingStorage(std::string needle) : needle_(std::move(needle)) {}
  Result<std::unique_ptr<io::WritableObject>> create(const fs::path& p) override { return base_.create(p); }
  Result<std::unique_ptr<io::ReadableObject>> open(const fs::path& p) override {
    auto r = base_.open(p);
    if (!r || p.string().find(needle_) == std::string::npos) return r;
    return std::unique_ptr<io::ReadableObject>(std::make_unique<Throwing>(std::move(*r)));
  }
  Result<bool> exists(const fs::path& p) override { return base_.exists(p); }
  Result<bool> is_directory(const fs::path& p) override { return base_.is_directory(p); }
  Result<std::uint64_t> size(const fs::path& p) override { return base_.size(p); }
  Result<std::vector<io::StorageEntry>> list(const fs::path& d) override { return base_.list(d); }
  Status make_directories(const fs::path& d) override { return base_.make_directories(d); }
  Status remove(const fs::path& p) override { return base_.remove(p); }
  Status remove_all(const fs::path& p) override { return base_.remove_all(p); }
  Status rename(const fs::path& a, const fs::path& b) override { return base_.rename(a, b); }
  Result<std::unique_ptr<io::StorageLock>> try_lock(const fs::path& p, const std::string& h) override {
    return base_.try_lock(p, h);
  }
  Result<std::optional<std::string>> lock_holder(const fs::path& p) override { return base_.lock_holder(p); }

 private:
  class Throwing final : public io::ReadableObject {
   public:
    explicit Throwing(std::unique_ptr<io::ReadableObject> r) : r_(std::move(r)) {}
    Result<std::size_t> read(std::uint8_t*, std::size_t) override {
      throw std::runtime_error("connection reset reading " + r_->path().filename().string());
    }
    std::uint64_t offset() const override { return r_->offset(); }
    const fs::path& path() const override { return r_->path(); }

   private:
    std::unique_ptr<io::ReadableObject> r_;
  };
  io::Storage& base_ = io::local_storage();
  std::string needle_;
};

// One uncompressed directory dump of two collections, made once against an in-process server.
class VerifyStorageFault : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    minimongod::Engine engine;
    for (auto spec : {"v.coll:400:200:1", "v.other:300:150:2"}) {
      auto s = minimongod::parse_generate_spec(spec);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(minimongod::generate_into(engine, s.value()).ok());
    }
    minimongod::Server server(engine, minimongod::ServerOptions{});
    ASSERT_TRUE(server.start().is_ok());
    DumpOptions o;
    o.uri = "mongodb://127.0.0.1:" + std::to_string(server.port()) + "/";
    o.codec = io::Codec::kNone;
    o.progress.mode = ProgressMode::kNone;
    o.progress.quiet = true;
    dir_ = test::temp_dir("verify-storage-fault") / "d";
    o.out = dir_;
    auto r = run_dump(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }
  static VerifyOptions options(io::Storage& storage) {
    VerifyOptions o;
    o.input = dir_;
    o.storage = &storage;
    return o;
  }
  static std::vector<VerifyProblem> problems_of(const VerifyReport& r, const std::string& file) {
    std::vector<VerifyProblem> out;
    for (const auto& p : r.problems)
      if (p.file == file) out.push_back(p);
    return out;
  }
  static std::string lines(const Result<VerifyReport>& r) {
    if (!r) return r.status().to_string();
    std::string out;
    for (const auto& p : r->problems) out += "\n" + p.to_string();
    return out;
  }
  static inline fs::path dir_;
};

TEST_F(VerifyStorageFault, CleanDumpPassesThroughTheStorage) {
  test::FaultInjectionStorage storage;
  auto r = run_verify(options(storage));
  ASSERT_TRUE(r.is_ok()) << lines(r);
  EXPECT_TRUE(r->ok()) << lines(r);
  EXPECT_GE(storage.calls(test::FaultOp::kRead), 4u);  // manifest, two metadata files, two .bson
  EXPECT_GE(storage.calls(test::FaultOp::kList), 2u);  // the root and v/
}

// A byte flipped while v/coll.bson is read: the high byte of its second document's length.
TEST_F(VerifyStorageFault, CorruptReadOfBsonNamesTheFileAndTheOffset) {
  formats::Bytes bson = test::read_file(dir_ / "v" / "coll.bson");
  ASSERT_GT(bson.size(), 8u);
  std::uint64_t second = formats::load_u32(bson.data());
  test::FaultInjectionStorage storage;
  storage.add({.op = test::FaultOp::kRead, .path_contains = "coll.bson", .corrupt_at = second + 3});
  auto r = run_verify(options(storage));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_FALSE(r->ok());
  auto found = problems_of(*r, "v/coll.bson");
  ASSERT_EQ(found.size(), 2u) << lines(r);
  // The BSON fault is one line naming the file, its namespace and the offset of the document.
  EXPECT_EQ(found[0].ns, "v.coll");
  EXPECT_EQ(found[0].offset, static_cast<std::int64_t>(second));
  EXPECT_EQ(found[0].to_string().rfind("v/coll.bson [v.coll]: invalid BSON: invalid document length", 0), 0u)
      << found[0].to_string();
  EXPECT_NE(found[0].to_string().find("(at offset " + std::to_string(second) + ")"), std::string::npos);
  // What was read is not what was dumped.
  EXPECT_EQ(found[1].message.rfind("checksum mismatch: XXH3-128 ", 0), 0u) << found[1].to_string();
  EXPECT_TRUE(problems_of(*r, "v/other.bson").empty());
}

// The third read of v/coll.bson fails (reads of 4 KiB: at offset 8192).
TEST_F(VerifyStorageFault, FailedReadOfBsonNamesTheFileAndTheOffset) {
  test::FaultInjectionStorage storage;
  storage.add({.op = test::FaultOp::kRead, .path_contains = "coll.bson", .nth = 3});
  storage.add({.op = test::FaultOp::kRead, .path_contains = "coll.bson", .short_reads = 4096});
  auto r = run_verify(options(storage));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(storage.fired(), 1);
  ASSERT_EQ(r->problems.size(), 1u) << lines(r);
  std::string line = r->problems[0].to_string();
  EXPECT_EQ(line.rfind("v/coll.bson [v.coll]: read failed: injected fault: read of ", 0), 0u) << line;
  EXPECT_NE(line.find("coll.bson at offset 8192"), std::string::npos) << line;
}

// A worker's scan throws: the run ends with that as its error (before, std::terminate).
TEST_F(VerifyStorageFault, ExceptionInAVerifyWorkerIsTheRunsError) {
  ThrowingStorage storage("coll.bson");
  auto o = options(storage);
  o.jobs = 2;
  Status error;
  EXPECT_NO_THROW(error = run_verify(o).status());
  EXPECT_FALSE(error.is_ok());
  EXPECT_EQ(error.code(), ErrorCode::kInternal) << error.to_string();
  EXPECT_EQ(error.message(), "verify: reading files: connection reset reading coll.bson");
}

// index rebuild reads the dump's metadata through its storage too: a failed read stops the run
// (before it connects) with one line naming the file and the offset.
TEST_F(VerifyStorageFault, IndexRebuildReadsMetadataThroughTheStorage) {
  test::FaultInjectionStorage storage;
  storage.add({.op = test::FaultOp::kRead, .path_contains = "coll.metadata.json", .nth = 1});
  IndexRebuildOptions o;
  o.uri = "mongodb://127.0.0.1:1/";  // never reached: the plan fails first
  o.from = dir_;
  o.plan_only = true;
  o.storage = &storage;
  auto rep = run_index_rebuild(o);
  EXPECT_EQ(storage.fired(), 1);
  EXPECT_FALSE(rep.is_ok());
  std::string line = rep.status().to_string();
  EXPECT_NE(line.find("injected fault: read of "), std::string::npos) << line;
  EXPECT_NE(line.find("coll.metadata.json at offset 0"), std::string::npos) << line;
}

}  // namespace
}  // namespace bsonpipe::pipeline
