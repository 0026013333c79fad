// Parallel compression with ordered output: the stream decompresses to the blocks in submission
// order for every codec, window and thread count; a failing sink stops the writer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "pipeline/core/ordered_writer.hpp"

namespace bsonpipe::pipeline {
namespace {

Bytes block(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<std::uint8_t>("abcdefgh"[rng() % 8]);
  return b;
}

TEST(OrderedWriter, OutputIsInSubmissionOrderForEveryCodecWindowAndThreadCount) {
  std::uint32_t seed = std::random_device{}();
  std::printf("[ordered-writer] seed %u\n", seed);
  for (io::Codec codec : {io::Codec::kNone, io::Codec::kGzip, io::Codec::kZstd})
    for (int threads : {1, 2, 4})
      for (std::size_t window : {1u, 3u, 16u}) {
        SCOPED_TRACE(std::string(io::codec_name(codec)) + " threads " + std::to_string(threads) + " window " +
                     std::to_string(window) + " seed " + std::to_string(seed));
        CompressionPool pool(threads);
        Bytes stream, expected;
        OrderedBlockWriter w(&pool, {codec, 1, window}, [&](ByteSpan b) {
          stream.insert(stream.end(), b.begin(), b.end());
          return Status{};
        });
        std::mt19937 rng(seed);
        for (int i = 0; i < 40; ++i) {
          Bytes b = block(rng() % 50000, rng());
          expected.insert(expected.end(), b.begin(), b.end());
          ASSERT_TRUE(w.add(std::move(b)).is_ok());
        }
        ASSERT_TRUE(w.finish().is_ok());
        EXPECT_EQ(w.raw_bytes(), expected.size());
        EXPECT_EQ(w.stored_bytes(), stream.size());
        auto dec = io::StreamDecompressor::create(codec);
        Bytes out;
        ASSERT_TRUE(dec->feed(stream, out).is_ok());
        ASSERT_TRUE(dec->finish().is_ok());
        EXPECT_EQ(out, expected);
      }
}

TEST(OrderedWriter, SinkErrorStopsTheWriter) {
  CompressionPool pool(2);
  int calls = 0;
  OrderedBlockWriter w(&pool, {io::Codec::kGzip, 1, 2},
                       [&](ByteSpan) { return ++calls == 3 ? Status(ErrorCode::kIo, "disk full") : Status{}; });
  Status last;
  for (int i = 0; i < 20 && last.is_ok(); ++i) last = w.add(block(1000, static_cast<std::uint32_t>(i)));
  if (last.is_ok()) last = w.finish();
  ASSERT_FALSE(last.is_ok());
  EXPECT_EQ(last.message(), "disk full");
  EXPECT_EQ(calls, 3) << "no write after the first failure";
  EXPECT_FALSE(w.add(block(10, 1)).is_ok());
}

// A pool of N threads runs N tasks at once while the submitting thread does something else (the
// dump's producers go on reading). oneTBB keeps one arena slot for a joining thread by default and
// one worker fewer than the cores: a pool of 2 on 2 cores ran one compression at a time.
TEST(CpuPool, RunsAsManyTasksAtOnceAsItHasThreadsWithoutTheSubmitterJoining) {
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 1;
  std::atomic<int> started{0}, saw_all{0};
  {
    CpuPool pool(threads);
    for (int i = 0; i < threads; ++i)
      pool.submit([&] {
        started.fetch_add(1);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (started.load() < threads && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (started.load() >= threads) saw_all.fetch_add(1);
      });
    // The submitter does not join the arena until every task has either seen the others or timed out.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (started.load() < threads && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(saw_all.load(), threads) << "tasks of a " << threads << "-thread pool did not all run at once";
}

}  // namespace
}  // namespace bsonpipe::pipeline
