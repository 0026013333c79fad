// The dump pipeline in-process against an in-process minimongod, so the ThreadSanitizer job
// (label "concurrency") sees every thread of a dump: range readers, compression pool, ordered
// writers, the archive multiplexer and the progress reporter.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stop_token>

#include "formats/archive.hpp"
#include "formats/manifest.hpp"
#include "io/compress.hpp"
#include "pipeline/ops/dump.hpp"
#include "tests/support/test_support.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::pipeline {
namespace {

namespace fs = std::filesystem;

std::size_t count_documents(const formats::Bytes& stored) {
  auto dec = io::StreamDecompressor::create(io::detect_codec(stored));
  formats::Bytes raw;
  EXPECT_TRUE(dec->feed(stored, raw).is_ok());
  EXPECT_TRUE(dec->finish().is_ok());
  auto n = formats::walk_documents(raw);
  EXPECT_TRUE(n.is_ok()) << n.status().to_string();
  return n.is_ok() ? *n : 0;
}

class DumpPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto spec : {"a.big:4000:400:1", "a.small:300:200:2", "b.c:700:300:3"}) {
      auto s = minimongod::parse_generate_spec(spec);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(minimongod::generate_into(engine_, s.value()).ok());
    }
    server_ = std::make_unique<minimongod::Server>(engine_, minimongod::ServerOptions{});
    ASSERT_TRUE(server_->start().is_ok());
    uri_ = "mongodb://127.0.0.1:" + std::to_string(server_->port()) + "/";
  }
  DumpOptions options(io::Codec codec) const {
    DumpOptions o;
    o.uri = uri_;
    o.codec = codec;
    o.readers = 3;
    o.parallel_collections = 3;
    o.split_min_bytes = 1;
    o.compress_threads = 3;
    o.block_bytes = 64 * 1024;  // many blocks: more hand-offs between threads
    o.batch_size = 100;
    o.progress.mode = ProgressMode::kJson;
    o.progress.interval_seconds = 0.01;
    o.progress.stream = std::tmpfile();
    return o;
  }
  minimongod::Engine engine_;
  std::unique_ptr<minimongod::Server> server_;
  std::string uri_;
};

TEST_F(DumpPipeline, DirectoryDumpWithRangesAndCompression) {
  for (io::Codec codec : {io::Codec::kGzip, io::Codec::kZstd}) {
    auto o = options(codec);
    o.out = test::temp_dir("dump-pipeline") / "d";
    auto r = run_dump(o);
    std::fclose(o.progress.stream);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->documents, 5000u);
    std::string ext(io::codec_extension(codec));
    EXPECT_EQ(count_documents(test::read_file(o.out / "a" / ("big.bson" + ext))), 4000u);
    EXPECT_EQ(count_documents(test::read_file(o.out / "a" / ("small.bson" + ext))), 300u);
    EXPECT_EQ(count_documents(test::read_file(o.out / "b" / ("c.bson" + ext))), 700u);
    auto m = formats::manifest_from_json(test::read_text(o.out / "manifest.json"));
    ASSERT_TRUE(m.is_ok());
    EXPECT_TRUE(m->complete);
    for (auto& ns : r->namespaces) {
      if (ns.ns == "a.big") {
        EXPECT_EQ(ns.ranges, 3);
      }
    }
  }
}

TEST_F(DumpPipeline, ArchiveDumpMultiplexesConcurrentRanges) {
  auto o = options(io::Codec::kGzip);
  o.target = DumpTarget::kArchive;
  o.out = test::temp_dir("dump-pipeline-archive") / "a.archive.gz";
  auto r = run_dump(o);
  std::fclose(o.progress.stream);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  formats::Bytes stored = test::read_file(o.out);
  auto dec = io::StreamDecompressor::create(io::Codec::kGzip);
  formats::Bytes raw;
  ASSERT_TRUE(dec->feed(stored, raw).is_ok());
  formats::archive::Reader reader(formats::archive::span_source(raw));
  ASSERT_TRUE(reader.read_prelude().is_ok());
  std::map<std::string, std::uint64_t> counts;
  while (true) {
    auto ev = reader.next();
    ASSERT_TRUE(ev.is_ok()) << ev.status().to_string();
    if (ev->kind == formats::archive::EventKind::kEnd) break;
    if (ev->kind == formats::archive::EventKind::kNamespaceEnd)
      counts[std::string(ev->db) + "." + std::string(ev->collection)] = ev->total_documents;
  }
  EXPECT_EQ(counts, (std::map<std::string, std::uint64_t>{{"a.big", 4000}, {"a.small", 300}, {"b.c", 700}}));
}

TEST_F(DumpPipeline, InterruptCancelsEveryStage) {
  std::stop_source interrupt;  // raised before the first batch: the run must stop cleanly
  interrupt.request_stop();
  auto o = options(io::Codec::kGzip);
  o.out = test::temp_dir("dump-pipeline-int") / "d";
  o.interrupt = interrupt.get_token();
  auto r = run_dump(o);
  std::fclose(o.progress.stream);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
  EXPECT_FALSE(fs::exists(o.out / "manifest.json"));
  EXPECT_FALSE(fs::exists(fs::path(o.out.string() + ".partial")));
}

}  // namespace
}  // namespace bsonpipe::pipeline
