// Workers on oneTBB: every concurrent body of a run (cursor readers, inserters, index finishers,
// compressors) runs here, and its failed Status or exception becomes the run's first error in
// this one place. Bodies that block on the network or on bounded queues get a thread each: the
// group's arena has a slot per body, so they may wait on one another without starving.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "formats/status.hpp"
#include "pipeline/error_holder.hpp"

namespace bsonpipe::pipeline {

// `n` bodies started together and waited for together.
// Threading: construct, start() and wait() on one owner thread; the bodies run concurrently on
// the group's own threads, never on the owner's.
class WorkerGroup {
 public:
  // `what` names the work in an error made from an exception ("restore: inserting").
  // `on_error` (optional) runs once, on the failing body's thread, after the first failure was
  // recorded: it wakes whatever the others block on (cancel their queues).
  WorkerGroup(std::size_t n, ErrorHolder& errors, std::string what, std::function<void()> on_error = {});
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

// Runs body(0) .. body(n-1) concurrently and returns when all have returned (see WorkerGroup).
void run_concurrently(std::size_t n, ErrorHolder& errors, const std::string& what,
                      const std::function<Status(std::size_t)>& body, std::function<void()> on_error = {});

// A CPU-bound task pool capped at `threads` (compression, hashing). Fire and forget: submit()
// returns at once; the destructor waits for what was submitted. Thread-safe.
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
