// The test harness's own child start (tests/support/process.cpp), under the condition that hung a
// CI run for 300 s with nothing started: a process started from a fresh thread while another
// thread of the test holds the allocator's locks. This sanitizer's allocator takes no lock across
// fork(), so a child that allocates before exec waits forever for a lock held at the fork. A leak
// check holds every allocator lock while it stops the threads, which makes that window wide: with
// argv built in the child, a start hung within 20 of 50 runs, three runs in three.
// (AddressSanitizer builds only: the leak checker is what holds the locks.)
#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

#include <atomic>
#include <thread>

#include "tests/support/process.hpp"

namespace bsonpipe::test {
namespace {

TEST(TestHarness, ChildStartedDuringALeakCheckReachesExec) {
  std::atomic<bool> stop{false};
  std::thread checker([&stop] {
    while (!stop.load(std::memory_order_relaxed)) __lsan_do_recoverable_leak_check();
  });
  RunResult failed;
  bool ok = true;
  int runs = 0;
  for (; runs < 50 && ok; ++runs) {
    RunResult r;
    // A fresh thread each time, as std::async gives: its allocator cache starts empty.
    std::thread([&r] { r = run({"/bin/echo", "a", "b", "c", "d", "e", "f", "g"}, std::chrono::seconds(10)); }).join();
    ok = r.exit_code == 0 && r.out == "a b c d e f g\n";
    if (!ok) failed = r;
  }
  stop = true;
  checker.join();
  EXPECT_TRUE(ok) << "run " << runs << " of 50: exit " << failed.exit_code << "; " << failed.err;
}

}  // namespace
}  // namespace bsonpipe::test
#endif  // __SANITIZE_ADDRESS__
