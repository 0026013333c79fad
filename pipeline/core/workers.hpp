// Workers: every concurrent body of a run (cursor readers, inserters, namespace loaders) runs in a
// WorkerGroup (a stage started by the run's Executor), and its failed Status or exception becomes
// the run's first error in this one place.
// These bodies block on the network and on bounded queues, and wait for one another, so each gets
// a thread of its own: none can wait for a body that was never started. (They ran as tasks in a
// oneTBB arena before; oneTBB may leave an enqueued task unstarted, and clean-clone CI hung on
// that twice.) CPU-bound work (compression) goes to CpuPool, a oneTBB arena.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "formats/status.hpp"
#include "pipeline/core/error_holder.hpp"

namespace bsonpipe::pipeline {

// `n` bodies started together and waited for together.
// Threading: construct, start() and wait() on one owner thread; the bodies run concurrently, one
// thread each, never on the owner's.
class WorkerGroup {
 public:
  // `what` names the work in an error made from an exception ("restore: inserting"). What wakes
  // the other bodies after a failure is the executor's cancel hooks (pipeline/core/executor.hpp).
  WorkerGroup(std::size_t n, ErrorHolder& errors, std::string what);
  ~WorkerGroup();  // waits
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Starts body(0) .. body(n-1); returns at once. Call once.
  void start(std::function<Status(std::size_t)> body);
  // Returns when every body has returned. Idempotent.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A CPU-bound task pool on a oneTBB arena capped at `threads` (compression). Fire and forget:
// submit() returns at once; the destructor waits for what was submitted. Thread-safe. oneTBB
// promises no start time for a task: whoever needs a result must be able to run the task itself
// if no pool thread has taken it (see OrderedBlockWriter).
class CpuPool {
 public:
  explicit CpuPool(int threads);
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;
  // `fn` must not throw (an exception ends the process: report errors through your own state).
  void submit(std::function<void()> fn);
  int threads() const { return threads_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int threads_;
};

}  // namespace bsonpipe::pipeline
