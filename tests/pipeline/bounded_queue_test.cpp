// The queue contract under concurrency (run under TSan in CI): every item delivered exactly once,
// the bound holds, finish drains, cancel wakes blocked producers and consumers.
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "pipeline/core/bounded_queue.hpp"
#include "pipeline/core/error_holder.hpp"

namespace bsonpipe::pipeline {
namespace {

TEST(BoundedQueue, ManyProducersAndConsumersDeliverEveryItemOnce) {
  BoundedQueue<int> q(3);
  constexpr int kProducers = 4, kPer = 5000;
  std::vector<std::atomic<int>> seen(kProducers * kPer);
  std::atomic<int> in_flight_max{0}, in_flight{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPer; ++i) {
        int v = p * kPer + i;
        int now = ++in_flight;
        int prev = in_flight_max.load();
        while (now > prev && !in_flight_max.compare_exchange_weak(prev, now)) {
        }
        ASSERT_TRUE(q.push(v));
      }
    });
  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c)
    consumers.emplace_back([&] {
      while (auto v = q.pop()) {
        --in_flight;
        seen[static_cast<std::size_t>(*v)]++;
      }
    });
  for (auto& t : threads) t.join();
  q.finish();
  for (auto& t : consumers) t.join();
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(BoundedQueue, PushBlocksAtCapacityAndCancelWakesIt) {
  BoundedQueue<int> q(2);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  std::atomic<bool> returned{false};
  std::atomic<bool> result{true};
  std::thread t([&] {
    result = q.push(3);  // blocks: the queue is full
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load()) << "push did not block at capacity";
  q.cancel();
  t.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(result.load());
  EXPECT_FALSE(q.pop().has_value());
}

TEST(BoundedQueue, FinishDrainsThenEnds) {
  BoundedQueue<std::unique_ptr<int>> q(4);
  ASSERT_TRUE(q.push(std::make_unique<int>(7)));
  ASSERT_TRUE(q.push(std::make_unique<int>(8)));
  q.finish();
  auto late = std::make_unique<int>(9);
  EXPECT_FALSE(q.push(late));
  EXPECT_NE(late, nullptr) << "a failed push must not move the item";
  EXPECT_EQ(**q.pop(), 7);
  EXPECT_EQ(**q.pop(), 8);
  EXPECT_FALSE(q.pop().has_value());
}

TEST(ErrorHolder, FirstErrorWinsAcrossThreads) {
  ErrorHolder h;
  EXPECT_FALSE(h.cancelled());
  EXPECT_FALSE(h.set_error(Status::ok()));
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      if (h.set_error({ErrorCode::kIo, "error " + std::to_string(i)})) ++winners;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_TRUE(h.cancelled());
  EXPECT_EQ(h.status().code(), ErrorCode::kIo);
}

TEST(ErrorHolder, InterruptFlagCancels) {
  std::atomic<bool> flag{false};
  ErrorHolder h(&flag);
  EXPECT_FALSE(h.cancelled());
  flag = true;
  EXPECT_TRUE(h.cancelled());
  EXPECT_EQ(h.status().code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace bsonpipe::pipeline
