// RangeStream: ranges written from several threads at once come out in range order, a range
// never opens more than max_ahead ranges past the head, and what is held for ranges ahead of the
// head stays within that bound. FixedBlocks: blocks start at fixed raw offsets whatever the
// sizes of the pieces written.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include "pipeline/range_stream.hpp"

namespace bsonpipe::pipeline {
namespace {

// Range r's piece i: 1000 + r bytes of value (r * 31 + i) & 0xFF.
Bytes piece(std::size_t r, std::size_t i) {
  return Bytes(1000 + r, static_cast<std::uint8_t>((r * 31 + i) & 0xFF));
}

TEST(RangeStream, RangesFromManyThreadsComeOutInOrderWithinTheBound) {
  const std::uint32_t seed = std::random_device{}();
  std::printf("[range_stream] seed %u\n", seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  constexpr std::size_t kRanges = 40, kPieces = 25, kAhead = 3, kThreads = 5;
  Bytes out;
  std::atomic<int> in_sink{0};
  bool overlapped = false;
  RangeStream stream(kRanges, kAhead, [&](std::span<const ByteSpan> docs) {
    if (in_sink.fetch_add(1) != 0) overlapped = true;
    for (ByteSpan d : docs) out.insert(out.end(), d.begin(), d.end());
    in_sink.fetch_sub(1);
    return Status{};
  });
  ErrorHolder errors;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> completions{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed + static_cast<std::uint32_t>(t));
      while (true) {
        std::size_t r = next.fetch_add(1);  // taken in order, as dump's workers take ranges
        if (r >= kRanges) return;
        ASSERT_TRUE(stream.wait_turn(r, errors).is_ok());
        for (std::size_t i = 0; i < kPieces; ++i) {
          Bytes p = piece(r, i);
          ByteSpan span(p);
          ASSERT_TRUE(stream.write(r, std::span<const ByteSpan>(&span, 1)).is_ok());
          if (rng() % 4 == 0) std::this_thread::yield();
        }
        auto done = stream.end_range(r);
        ASSERT_TRUE(done.is_ok());
        if (*done) completions.fetch_add(1);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(completions.load(), 1u);
  EXPECT_FALSE(overlapped);
  Bytes expected;
  for (std::size_t r = 0; r < kRanges; ++r)
    for (std::size_t i = 0; i < kPieces; ++i) {
      Bytes p = piece(r, i);
      expected.insert(expected.end(), p.begin(), p.end());
    }
  EXPECT_TRUE(out == expected) << "output out of order (" << out.size() << " bytes against " << expected.size() << ")";
  // At most kAhead - 1 ranges are held besides the head, each at most kPieces pieces.
  EXPECT_LE(stream.peak_buffered_bytes(), (kAhead - 1) * kPieces * (1000 + kRanges));
  EXPECT_EQ(stream.buffered_bytes(), 0u);
}

TEST(RangeStream, AWaitingRangeLeavesWhenTheRunIsCancelled) {
  RangeStream stream(10, 2, [](std::span<const ByteSpan>) { return Status{}; });
  ErrorHolder errors;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    errors.set_error({ErrorCode::kIo, "reader failed"});
  });
  Status s = stream.wait_turn(5, errors);  // range 0 never ends: only the cancel lets it go
  t.join();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "reader failed");
}

TEST(RangeStream, ASinkFailureReachesTheWriters) {
  RangeStream stream(2, 2, [](std::span<const ByteSpan>) { return Status(ErrorCode::kIo, "disk full"); });
  Bytes p(10, 1);
  ByteSpan span(p);
  ASSERT_TRUE(stream.write(1, std::span<const ByteSpan>(&span, 1)).is_ok());  // held, not yet written
  EXPECT_FALSE(stream.write(0, std::span<const ByteSpan>(&span, 1)).is_ok());
  auto done = stream.end_range(1);
  ASSERT_TRUE(done.is_ok());
  EXPECT_FALSE(stream.end_range(0).is_ok());
}

// Blocks cut at multiples of the block size, however the stream arrives.
TEST(FixedBlocks, BlockBoundariesDependOnlyOnTheBytes) {
  Bytes data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  std::vector<std::vector<std::size_t>> layouts;
  for (std::size_t step : {1u, 999u, 4096u, 100000u}) {
    CompressionPool pool(2);
    std::vector<std::size_t> sizes;
    Bytes joined;
    OrderedBlockWriter w(&pool, OrderedWriterOptions{io::Codec::kNone, 0, 4}, [&](ByteSpan b) {
      sizes.push_back(b.size());
      joined.insert(joined.end(), b.begin(), b.end());
      return Status{};
    });
    FixedBlocks blocks(&w, 4096);
    for (std::size_t off = 0; off < data.size(); off += step) {
      ByteSpan s = ByteSpan(data).subspan(off, std::min(step, data.size() - off));
      ASSERT_TRUE(blocks.write(std::span<const ByteSpan>(&s, 1)).is_ok());
    }
    ASSERT_TRUE(blocks.finish().is_ok());
    EXPECT_EQ(joined, data) << "step " << step;
    layouts.push_back(sizes);
  }
  std::vector<std::size_t> expected(24, 4096);
  expected.push_back(100000 - 24 * 4096);
  for (auto& l : layouts) EXPECT_EQ(l, expected);
}

}  // namespace
}  // namespace bsonpipe::pipeline
