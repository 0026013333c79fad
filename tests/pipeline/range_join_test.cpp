// A split collection's ranges, read at once, reach its one file in range order through a bounded
// window: the order, the bound, completion, cancellation and a failing write.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/core/range_join.hpp"

namespace bsonpipe::pipeline {
namespace {

using formats::Bytes;
using formats::ByteSpan;

// What the join wrote, in order, as text ("r<range>b<batch>d<doc>;" per document).
struct Collected {
  std::mutex mu;
  std::string text;
  int writers_inside = 0;
  bool overlapped = false;
  Status write(std::span<const ByteSpan> docs) {
    {
      std::lock_guard lk(mu);
      if (++writers_inside > 1) overlapped = true;
    }
    std::string s;
    for (ByteSpan d : docs) s.append(reinterpret_cast<const char*>(d.data()), d.size());
    std::lock_guard lk(mu);
    text += s;
    --writers_inside;
    return {};
  }
};

// One batch of range r: `docs` documents, each its own label, in one buffer as a reply holds them.
struct Batch {
  Bytes buffer;
  std::vector<ByteSpan> docs;
  Batch(std::size_t r, std::size_t b, std::size_t docs_n) {
    std::vector<std::size_t> sizes;
    for (std::size_t d = 0; d < docs_n; ++d) {
      std::string s = "r" + std::to_string(r) + "b" + std::to_string(b) + "d" + std::to_string(d) + ";";
      buffer.insert(buffer.end(), s.begin(), s.end());
      sizes.push_back(s.size());
    }
    std::size_t off = 0;
    for (std::size_t n : sizes) {
      docs.emplace_back(buffer.data() + off, n);
      off += n;
    }
  }
};

std::string expected(std::size_t ranges, std::size_t batches, std::size_t docs) {
  std::string s;
  for (std::size_t r = 0; r < ranges; ++r)
    for (std::size_t b = 0; b < batches; ++b)
      for (std::size_t d = 0; d < docs; ++d)
        s += "r" + std::to_string(r) + "b" + std::to_string(b) + "d" + std::to_string(d) + ";";
  return s;
}

// Feeds range r's batches from its own thread, as a reader does: a held batch's buffer is taken,
// and the next batch is built in a new one.
Status feed(RangeJoin& j, std::size_t r, std::size_t batches, std::size_t docs, std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (std::size_t b = 0; b < batches; ++b) {
    auto batch = std::make_unique<Batch>(r, b, docs);
    if (rng() % 4 == 0) std::this_thread::yield();
    if (Status s = j.add(r, batch->docs, [&] { return std::move(batch->buffer); }); !s) return s;
  }
  return j.finish_range(r);
}

TEST(RangeJoin, RangesReadAtOnceAreWrittenInRangeOrderWhateverTheWindow) {
  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (std::size_t window : {std::size_t{1}, std::size_t{200}, std::size_t{1} << 20}) {
    for (int round = 0; round < 20; ++round) {
      const std::size_t ranges = 1 + (seed + round) % 5, batches = 7, docs = 3;
      Collected out;
      std::atomic<int> completed{0};
      RangeJoin j(
          ranges, window, [&](std::span<const ByteSpan> d) { return out.write(d); },
          [&] {
            ++completed;
            return Status{};
          });
      std::vector<std::thread> ts;
      std::vector<Status> results(ranges);
      // Start the ranges in a shuffled order, as workers may take them.
      std::vector<std::size_t> order(ranges);
      for (std::size_t i = 0; i < ranges; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), std::mt19937(seed + round));
      for (std::size_t r : order)
        ts.emplace_back([&, r] { results[r] = feed(j, r, batches, docs, seed + round * 31 + r); });
      for (auto& t : ts) t.join();
      for (std::size_t r = 0; r < ranges; ++r) ASSERT_TRUE(results[r].is_ok()) << results[r].to_string();
      EXPECT_EQ(out.text, expected(ranges, batches, docs)) << "window " << window;
      EXPECT_FALSE(out.overlapped) << "two threads wrote at once";
      EXPECT_EQ(completed.load(), 1);
      EXPECT_EQ(j.held_bytes(), 0u);
    }
  }
}

// Waits (bounded) until `pred` holds; the assertions after it decide the test.
template <class Pred>
void wait_until(Pred pred) {
  for (int i = 0; i < 2000 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(RangeJoin, ARangeAheadOfTheFrontWaitsOnceTheWindowIsHeld) {
  Collected out;
  RangeJoin j(
      2, /*window_bytes=*/100, [&](std::span<const ByteSpan> d) { return out.write(d); }, [] { return Status{}; });
  std::atomic<int> added{0};
  std::thread ahead([&] {
    for (int b = 0; b < 6; ++b) {
      Bytes buf(64, std::uint8_t{'x'});
      ByteSpan doc(buf.data(), buf.size());
      ASSERT_TRUE(j.add(1, std::span(&doc, 1), [&] { return std::move(buf); }).is_ok());
      ++added;
    }
    ASSERT_TRUE(j.finish_range(1).is_ok());
  });
  // Two held replies (128 bytes) reach the window: the third add waits for the front.
  wait_until([&] { return j.held_bytes() >= 128; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(added.load(), 2);
  EXPECT_EQ(j.held_bytes(), 128u);
  EXPECT_EQ(out.text, "");  // nothing of range 1 is written before range 0
  Batch first(0, 0, 2);
  ASSERT_TRUE(j.add(0, first.docs, [&] { return std::move(first.buffer); }).is_ok());
  EXPECT_EQ(out.text, "r0b0d0;r0b0d1;");  // the front writes through
  ASSERT_TRUE(j.finish_range(0).is_ok());
  ahead.join();
  EXPECT_EQ(added.load(), 6);
  EXPECT_EQ(out.text, "r0b0d0;r0b0d1;" + std::string(6 * 64, 'x'));
  EXPECT_EQ(j.held_bytes(), 0u);
}

TEST(RangeJoin, CancelWakesAWaitingRangeWithTheError) {
  RangeJoin j(
      2, 10, [](std::span<const ByteSpan>) { return Status{}; }, [] { return Status{}; });
  Status second;
  std::thread ahead([&] {
    Bytes a(16), b(16);
    ByteSpan da(a.data(), a.size()), db(b.data(), b.size());
    ASSERT_TRUE(j.add(1, std::span(&da, 1), [&] { return std::move(a); }).is_ok());
    second = j.add(1, std::span(&db, 1), [&] { return std::move(b); });  // waits: window held
  });
  wait_until([&] { return j.held_bytes() > 0; });
  j.cancel(Status(ErrorCode::kCancelled, "another range failed"));
  ahead.join();
  EXPECT_EQ(second.code(), ErrorCode::kCancelled);
  EXPECT_EQ(second.message(), "another range failed");
  EXPECT_EQ(j.finish_range(0).code(), ErrorCode::kCancelled);
}

TEST(RangeJoin, AFailedWriteIsReturnedAndStopsTheJoin) {
  int calls = 0;
  bool completed = false;
  RangeJoin j(
      2, 1 << 20,
      [&](std::span<const ByteSpan>) {
        return ++calls == 2 ? Status(ErrorCode::kIo, "out.bson: disk full") : Status{};
      },
      [&] {
        completed = true;
        return Status{};
      });
  Batch r1(1, 0, 1), r0a(0, 0, 1), r0b(0, 1, 1);
  ASSERT_TRUE(j.add(1, r1.docs, [&] { return std::move(r1.buffer); }).is_ok());  // held
  ASSERT_TRUE(j.add(0, r0a.docs, [&] { return std::move(r0a.buffer); }).is_ok());
  ASSERT_TRUE(j.finish_range(1).is_ok());
  Status s = j.add(0, r0b.docs, [&] { return std::move(r0b.buffer); });
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  EXPECT_EQ(j.finish_range(0).message(), "out.bson: disk full");
  EXPECT_FALSE(completed);
}

}  // namespace
}  // namespace bsonpipe::pipeline
