// The queue contract under concurrency (run under TSan in CI): every item delivered exactly once,
// the bound holds, finish drains, cancel wakes blocked producers and consumers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stop_token>
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
  std::stop_source flag;
  ErrorHolder h(flag.get_token());
  EXPECT_FALSE(h.cancelled());
  flag.request_stop();
  EXPECT_TRUE(h.cancelled());
  EXPECT_EQ(h.status().code(), ErrorCode::kCancelled);
}

// The token a blocking wait waits on stops on the interrupt and on the first error, and an
// interrupt raised before the holder exists counts too.
TEST(ErrorHolder, TokenStopsOnInterruptOrFirstError) {
  std::stop_source interrupt;
  ErrorHolder a(interrupt.get_token());
  EXPECT_FALSE(a.token().stop_requested());
  interrupt.request_stop();
  EXPECT_TRUE(a.token().stop_requested());
  ErrorHolder late(interrupt.get_token());
  EXPECT_TRUE(late.token().stop_requested());
  EXPECT_EQ(late.status().code(), ErrorCode::kCancelled);

  ErrorHolder b;
  EXPECT_FALSE(b.token().stop_requested());
  b.set_error({ErrorCode::kIo, "disk"});
  EXPECT_TRUE(b.token().stop_requested());
  EXPECT_EQ(b.status().code(), ErrorCode::kIo);
}

// A wait for the token ends when another thread stops it: no sleep runs to its end (a plain
// sleep here would hold the test for ten minutes, past ctest's timeout).
TEST(ErrorHolder, SleepEndsWhenTheRunIsCancelled) {
  ErrorHolder h;
  std::thread failer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    h.set_error({ErrorCode::kNetwork, "gone"});
  });
  h.sleep_for(std::chrono::minutes(10));
  failer.join();
  EXPECT_TRUE(h.cancelled());

  std::stop_source s;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    s.request_stop();
  });
  EXPECT_TRUE(sleep_unless_stopped(s.get_token(), std::chrono::minutes(10)));
  stopper.join();
  EXPECT_FALSE(sleep_unless_stopped(std::stop_source().get_token(), std::chrono::milliseconds(1)));
}

// A retry's backoff is cut short by the run's first error.
TEST(ErrorHolder, RetryBackoffEndsOnCancel) {
  ErrorHolder h;
  RetryBackoff backoff(10 * 60 * 1000);
  std::thread failer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    h.set_error({ErrorCode::kNetwork, "gone"});
  });
  backoff.wait(h);
  failer.join();
  EXPECT_TRUE(h.cancelled());
}

}  // namespace
}  // namespace bsonpipe::pipeline
