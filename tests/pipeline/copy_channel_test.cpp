// The channel inside `bsonpipe copy` (pipeline/sources/copy_channel.hpp) and a whole copy in process
// between two in-process minimongod servers, so the ThreadSanitizer job (label "concurrency")
// sees the dump's readers, the channel and the restore's reader and insertion workers together.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>

#include "formats/archive.hpp"
#include "pipeline/ops/copy.hpp"
#include "pipeline/sources/copy_channel.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

namespace bsonpipe::pipeline {
namespace {

using formats::Bytes;

// ---- CopyChannel -----------------------------------------------------------------------------------

formats::archive::Prelude two_collections() {
  formats::archive::Prelude p;
  p.collections.push_back({"d", "a", "", 0, "collection"});
  p.collections.push_back({"d", "t", "", 0, "timeseries"});
  return p;
}

TEST(CopyChannel, HandsBatchesOverWholeInOrderAndBounded) {
  CopyChannel ch(100);
  ASSERT_TRUE(ch.start(two_collections()).is_ok());
  auto prelude = ch.read_prelude();
  ASSERT_TRUE(prelude.is_ok());
  ASSERT_EQ((*prelude)->collections.size(), 2u);
  ASSERT_TRUE(ch.documents("d", "a", Bytes(60, 1), 3).is_ok());
  std::atomic<bool> second{false};
  std::thread w([&] {
    EXPECT_TRUE(ch.documents("d", "system.buckets.t", Bytes(60, 2), 4).is_ok());
    second = true;
    EXPECT_TRUE(ch.end_namespace("d", "a").is_ok());
    ch.close_write();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second.load()) << "120 bytes would exceed the 100-byte bound";
  StreamEvent ev;
  ASSERT_TRUE(ch.next(ev).is_ok());
  EXPECT_EQ(ev.kind, StreamEventKind::kDocuments);
  EXPECT_EQ(ev.entry->collection, "a");
  EXPECT_EQ(ev.count, 3u);
  EXPECT_EQ(ev.offset, 0);
  Bytes taken = std::move(ev.documents);  // the consumer takes the buffer itself
  EXPECT_EQ(taken, Bytes(60, 1));
  ASSERT_TRUE(ch.next(ev).is_ok());
  EXPECT_EQ(ev.kind, StreamEventKind::kDocuments);
  EXPECT_EQ(ev.entry->collection, "t") << "buckets data belongs to its timeseries entry";
  EXPECT_EQ(ev.documents, Bytes(60, 2));
  EXPECT_EQ(ev.offset, 60);
  EXPECT_EQ(ch.offset(), 120);
  ASSERT_TRUE(ch.next(ev).is_ok());
  EXPECT_EQ(ev.kind, StreamEventKind::kNamespaceEnd);
  EXPECT_EQ(ev.entry->collection, "a");
  EXPECT_TRUE(ev.documents.empty());
  w.join();
  EXPECT_TRUE(second.load());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(ch.next(ev).is_ok());
    EXPECT_EQ(ev.kind, StreamEventKind::kEnd);
    EXPECT_EQ(ev.entry, nullptr);
  }
}

TEST(CopyChannel, RefusesUnknownNamespacesAndEitherEndStopsTheOther) {
  {
    CopyChannel ch(10);
    ASSERT_TRUE(ch.start(two_collections()).is_ok());
    Status s = ch.documents("d", "zzz", Bytes(5, 0), 1);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("d.zzz"), std::string::npos) << s.to_string();
    ASSERT_TRUE(ch.documents("d", "a", Bytes(10, 0), 1).is_ok());
    Status blocked;
    std::thread w([&] { blocked = ch.documents("d", "a", Bytes(5, 0), 1); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ch.close_read();
    w.join();
    EXPECT_EQ(blocked.code(), ErrorCode::kCancelled);
    EXPECT_FALSE(ch.end_namespace("d", "a").is_ok());
  }
  {
    CopyChannel ch(10);
    Result<const formats::archive::Prelude*> got = Status{ErrorCode::kInternal, "not set"};
    std::thread r([&] { got = ch.read_prelude(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ch.close_write({ErrorCode::kNetwork, "source died"});
    r.join();
    ASSERT_FALSE(got.is_ok());
    EXPECT_EQ(got.status().message(), "source died");
  }
  {
    CopyChannel ch(100);
    ASSERT_TRUE(ch.start(two_collections()).is_ok());
    ASSERT_TRUE(ch.documents("d", "a", Bytes(10, 0), 1).is_ok());
    ch.close_write({ErrorCode::kNetwork, "source died"});
    StreamEvent ev;
    Status got = ch.next(ev);  // queued batches are dropped: the error comes at once
    ASSERT_FALSE(got.is_ok());
    EXPECT_EQ(got.message(), "source died");
  }
}

// ---- a whole copy in process ----------------------------------------------------------------------

struct Servers {
  Servers() {
    for (auto spec : {"a.big:5000:400:1", "a.small:300:200:2", "b.c:700:300:3"}) {
      auto s = minimongod::parse_generate_spec(spec);
      EXPECT_TRUE(s.ok());
      EXPECT_TRUE(minimongod::generate_into(source_engine, s.value()).ok());
    }
    source = std::make_unique<minimongod::Server>(source_engine, minimongod::ServerOptions{});
    target = std::make_unique<minimongod::Server>(target_engine, minimongod::ServerOptions{});
    EXPECT_TRUE(source->start().is_ok());
    EXPECT_TRUE(target->start().is_ok());
  }
  std::string uri(const minimongod::Server& s) const { return "mongodb://127.0.0.1:" + std::to_string(s.port()) + "/"; }
  minimongod::Engine source_engine, target_engine;
  std::unique_ptr<minimongod::Server> source, target;
};

CopyOptions copy_options(const Servers& s) {
  CopyOptions o;
  o.dump.uri = s.uri(*s.source);
  o.dump.readers = 3;
  o.dump.parallel_collections = 3;
  o.dump.split_min_bytes = 1;  // a.big in three ranges
  o.dump.batch_size = 100;
  o.restore.uri = s.uri(*s.target);
  o.restore.insertion_workers = 3;
  o.restore.num_parallel_collections = 3;
  o.segment_bytes = 32 * 1024;   // many hand-overs
  o.channel_bytes = 256 * 1024;  // a small bound: the dump side waits often
  o.verify = true;
  return o;
}

TEST(CopyInProcess, EveryNamespaceArrivesWhole) {
  Servers s;
  auto res = run_copy(copy_options(s));
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  const CopyReport& rep = *res;
  ASSERT_TRUE(rep.ok());
  ASSERT_TRUE(rep.verified);
  ASSERT_EQ(rep.verify.size(), 3u);
  std::uint64_t docs = 0;
  for (auto& v : rep.verify) {
    EXPECT_TRUE(v.matches()) << v.target_ns;
    docs += v.target.count();
  }
  EXPECT_EQ(docs, 6000u);
  EXPECT_EQ(rep.dump.documents, 6000u);
}

TEST(CopyInProcess, AnInterruptStopsBothSides) {
  Servers s;
  std::stop_source interrupt;
  CopyOptions o = copy_options(s);
  o.interrupt = interrupt.get_token();
  o.channel_bytes = 1;  // one batch at a time: the copy is still running when interrupted
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    interrupt.request_stop();
  });
  auto rep = run_copy(o);
  stopper.join();
  // Either it finished before the interrupt (then it is whole) or it stopped with "interrupted".
  if (!rep.is_ok())
    EXPECT_EQ(rep.status().code(), ErrorCode::kCancelled) << rep.status().to_string();
  else
    EXPECT_TRUE(rep->ok());
}

}  // namespace
}  // namespace bsonpipe::pipeline
