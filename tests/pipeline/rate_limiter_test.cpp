// RateLimiter on an injected clock: the waits it asks for add up to what the limit implies, the
// burst is bounded, idle time refills at most the burst, and a cancelled run stops waiting.
#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

#include "pipeline/core/error_holder.hpp"
#include "pipeline/core/rate_limiter.hpp"

namespace bsonpipe::pipeline {
namespace {

struct FakeTime {
  double now = 100.0;
  double slept = 0;
  RateLimiter make(double rate, double burst) {
    return RateLimiter(
        rate, burst, [this] { return now; },
        [this](double s) {
          now += s;
          slept += s;
        });
  }
};

TEST(RateLimiter, WaitsAddUpToTheLimit) {
  FakeTime t;
  auto lim = t.make(1e6, 0.25);  // 1 MB/s, a burst of 250 KB
  // 10 MB in 1 MB batches: the first 250 KB ride on the full bucket, the rest at 1 MB/s.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(lim.acquire(1000000).is_ok());
  EXPECT_NEAR(t.slept, 9.75, 1e-6);
  EXPECT_NEAR(lim.waited_seconds(), 9.75, 1e-6);
  EXPECT_NEAR(10e6 / (t.now - 100.0), 1e6 * 10 / 9.75, 1);  // average rate over the run
}

TEST(RateLimiter, IdleTimeRefillsAtMostTheBurst) {
  FakeTime t;
  auto lim = t.make(2e6, 0.5);                // 2 MB/s, a burst of 1 MB
  ASSERT_TRUE(lim.acquire(1000000).is_ok());  // empties the bucket
  EXPECT_EQ(t.slept, 0);
  t.now += 60;  // a minute idle refills only the 1 MB burst
  ASSERT_TRUE(lim.acquire(3000000).is_ok());
  EXPECT_NEAR(t.slept, 1.0, 1e-6);  // 2 MB over the burst at 2 MB/s
}

TEST(RateLimiter, SmallTakesWithinTheBurstDoNotWait) {
  FakeTime t;
  auto lim = t.make(1e6, 0.25);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(lim.acquire(10000).is_ok());
  EXPECT_EQ(t.slept, 0);
  ASSERT_TRUE(lim.acquire(10000).is_ok());  // the bucket is empty now: 10 ms
  EXPECT_NEAR(t.slept, 0.01, 1e-9);
}

TEST(RateLimiter, CancelledRunStopsWaiting) {
  std::stop_source interrupt;
  ErrorHolder errors(interrupt.get_token());
  double now = 0;
  int sleeps = 0;
  RateLimiter lim(
      1e6, 0.25, [&] { return now; },
      [&](double s) {
        now += s;
        if (++sleeps == 3) interrupt.request_stop();  // the run is interrupted during the wait
      });
  Status s = lim.acquire(100000000, &errors);  // 100 s of debt
  EXPECT_EQ(s.code(), ErrorCode::kCancelled);
  EXPECT_EQ(sleeps, 3);
}

// On the real clock a wait for the bucket ends when the run fails, not when the debt is paid (a
// thousand seconds of it here, far past ctest's timeout).
TEST(RateLimiter, RealClockWaitEndsOnTheRunsFirstError) {
  ErrorHolder errors;
  RateLimiter lim(1e6);
  std::thread failer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    errors.set_error({ErrorCode::kNetwork, "source gone"});
  });
  Status s = lim.acquire(1'000'000'000, &errors);
  failer.join();
  EXPECT_EQ(s.code(), ErrorCode::kNetwork);
}

// Shared by threads on the real clock: only that every caller gets through and the total debt
// is accounted once per byte (no timing asserted).
TEST(RateLimiter, SharedByThreads) {
  RateLimiter lim(1e9, 0.25);  // fast enough that the test does not wait
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 100; ++k) ASSERT_TRUE(lim.acquire(1000000).is_ok());
    });
  for (auto& t : ts) t.join();
  EXPECT_GE(lim.waited_seconds(), 0.0);
  EXPECT_LE(lim.waited_seconds(), 0.4 + 0.01);  // 400 MB at 1 GB/s less the burst, at most
}

}  // namespace
}  // namespace bsonpipe::pipeline
