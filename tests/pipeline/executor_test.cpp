// The executor's contract (run under TSan in CI): a work list hands out every item once, the
// first error wins and stops the taking, cancel hooks run once on the canceller (never on the
// thread that failed) and wake what stages block on, an interrupt cancels without being an error.
#include "pipeline/core/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/core/bounded_queue.hpp"

namespace bsonpipe::pipeline {
namespace {

using namespace std::chrono_literals;

// A flag another thread sets; wait() gives up after 20 s (a hook that never runs fails the test
// instead of hanging it).
class Flag {
 public:
  void set() {
    {
      std::lock_guard lock(mu_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [this] { return set_; });
  }
  bool is_set() {
    std::lock_guard lock(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

TEST(Executor, AWorkListHandsOutEveryItemOnce) {
  Executor ex;
  constexpr std::size_t kItems = 2000, kWorkers = 4;
  std::vector<std::atomic<int>> seen(kItems);
  std::atomic<bool> bad_worker{false};
  ex.for_each(kItems, kWorkers, "test", [&](std::size_t w, std::size_t i) -> Status {
    if (w >= kWorkers) bad_worker = true;
    seen[i]++;
    return {};
  });
  EXPECT_TRUE(ex.status().is_ok());
  EXPECT_FALSE(bad_worker.load());
  for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(Executor, TheFirstErrorWinsAndNoItemIsTakenAfterIt) {
  Executor ex;
  std::atomic<int> taken_after{0};
  std::atomic<int> woken_by_cancel{0};
  ex.for_each(1000, 2, "test", [&](std::size_t, std::size_t i) -> Status {
    if (i < 5) return {};
    if (i == 5) return {ErrorCode::kIo, "first failure"};
    // Items after the failing one wait for the run to be cancelled, then fail too: too late.
    ++taken_after;
    if (sleep_unless_stopped(ex.token(), 20s)) ++woken_by_cancel;
    return {ErrorCode::kNetwork, "a later failure"};
  });
  EXPECT_EQ(ex.status().message(), "first failure");
  EXPECT_TRUE(ex.failed());
  // At most one item per other worker was in hand when the first error came.
  EXPECT_LE(taken_after.load(), 1);
  EXPECT_EQ(woken_by_cancel.load(), taken_after.load());
}

TEST(Executor, AHookRunsOnceOnTheCancellerAndWakesABlockedStage) {
  Executor ex;
  BoundedQueue<int> q(1);
  std::atomic<int> runs{0};
  std::thread::id hook_thread, failing_thread;
  Flag hook_ran;
  auto hook = ex.on_cancel([&] {
    hook_thread = std::this_thread::get_id();
    ++runs;
    q.cancel();
    hook_ran.set();
  });
  bool popped_nothing = false;
  ex.run(3, "test", [&](std::size_t i) -> Status {
    if (i == 0) {  // blocks until the hook cancels the queue: nothing is ever pushed
      popped_nothing = !q.pop().has_value();
      return {};
    }
    if (i == 1) {
      failing_thread = std::this_thread::get_id();
      return {ErrorCode::kIo, "boom"};
    }
    ex.fail({ErrorCode::kNetwork, "second"});
    return {};
  });
  ASSERT_TRUE(hook_ran.wait());
  EXPECT_TRUE(popped_nothing);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_NE(hook_thread, failing_thread);
  EXPECT_NE(hook_thread, std::this_thread::get_id());
}

TEST(Executor, AnInterruptRunsTheHooksAndIsNoError) {
  std::stop_source interrupt;
  Executor ex(interrupt.get_token());
  Flag hook_ran;
  auto hook = ex.on_cancel([&] { hook_ran.set(); });
  EXPECT_FALSE(hook_ran.is_set());
  interrupt.request_stop();
  ASSERT_TRUE(hook_ran.wait());
  EXPECT_TRUE(ex.cancelled());
  EXPECT_FALSE(ex.failed());
  EXPECT_EQ(ex.status().code(), ErrorCode::kCancelled);
}

TEST(Executor, AHookRegisteredAfterTheHooksRanRunsAtOnceOnTheCaller) {
  Executor ex;
  Flag first;
  auto h1 = ex.on_cancel([&] { first.set(); });
  ex.fail({ErrorCode::kIo, "boom"});
  ASSERT_TRUE(first.wait());
  std::thread::id ran_on;
  auto h2 = ex.on_cancel([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(Executor, ARemovedHookNeverRuns) {
  Executor ex;
  std::atomic<bool> removed_ran{false};
  {
    auto gone = ex.on_cancel([&] { removed_ran = true; });
  }
  Flag kept;
  auto h = ex.on_cancel([&] { kept.set(); });
  ex.fail({ErrorCode::kIo, "boom"});
  ASSERT_TRUE(kept.wait());
  EXPECT_FALSE(removed_ran.load());
}

TEST(Executor, NoHookRunsAfterClose) {
  Executor ex;
  std::atomic<bool> ran{false};
  auto h = ex.on_cancel([&] { ran = true; });
  ex.close();
  ex.fail({ErrorCode::kIo, "after the run"});
  EXPECT_FALSE(ran.load());  // close() joined the canceller: nothing is left to run it
}

TEST(Executor, AnExceptionInABodyIsTheRunsErrorNamedWithTheStage) {
  Executor ex;
  ex.run(2, "reading things", [](std::size_t i) -> Status {
    if (i == 1) throw std::runtime_error("out of cheese");
    return {};
  });
  EXPECT_EQ(ex.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(ex.status().message(), "reading things: out of cheese");
}

}  // namespace
}  // namespace bsonpipe::pipeline
