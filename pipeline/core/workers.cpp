#include "pipeline/core/workers.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <exception>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace bsonpipe::pipeline {

struct WorkerGroup::Impl {
  Impl(std::size_t n, ErrorHolder& e, std::string w) : count(n == 0 ? 1 : n), errors(e), what(std::move(w)) {}

  void fail(Status s) { errors.set_error(std::move(s)); }

  // The task boundary: whatever a body throws becomes the run's error here, once.
  void run_body(std::size_t i) {
    try {
      if (Status s = body(i); !s) fail(std::move(s));
    } catch (const std::exception& e) {
      fail({ErrorCode::kInternal, what + ": " + e.what()});
    } catch (...) {
      fail({ErrorCode::kInternal, what + ": unknown exception"});
    }
  }

  std::size_t count;
  ErrorHolder& errors;
  std::string what;
  std::function<Status(std::size_t)> body;
  std::vector<std::thread> threads;
  bool started = false;
  bool waited = false;
};

WorkerGroup::WorkerGroup(std::size_t n, ErrorHolder& errors, std::string what)
    : impl_(std::make_unique<Impl>(n, errors, std::move(what))) {}

WorkerGroup::~WorkerGroup() {
  wait();
}

void WorkerGroup::start(std::function<Status(std::size_t)> body) {
  Impl& m = *impl_;
  m.started = true;
  m.body = std::move(body);
  m.threads.reserve(m.count);
  for (std::size_t i = 0; i < m.count; ++i) {
    try {
      m.threads.emplace_back([&m, i] { m.run_body(i); });
    } catch (const std::system_error& e) {
      // The system refused a thread: the bodies already started see the run cancelled.
      m.fail({ErrorCode::kInternal, m.what + ": cannot start a thread: " + e.what()});
      return;
    }
  }
}

void WorkerGroup::wait() {
  Impl& m = *impl_;
  if (!m.started || m.waited) return;
  m.waited = true;
  for (auto& t : m.threads) t.join();
}

// The pool is a oneTBB arena of `threads` slots; tasks go in with enqueue() and the destructor
// joins the arena to finish them. The producers that submit never join the arena, so it reserves
// no slot for them (oneTBB's default keeps one), and oneTBB's process-wide worker limit (one
// fewer than the cores by default: one worker on 2 cores) is raised to `threads` workers while a
// pool lives. Without both, a pool of 2 on 2 cores compressed one block at a time.
// oneTBB still decides when an enqueued task starts, so a caller that needs a result never just
// waits for one: it runs the task itself if no worker has taken it yet (OrderedBlockWriter does
// this). That keeps every wait bounded by work already running.
struct CpuPool::Impl {
  explicit Impl(int threads)
      : workers(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads) + 1),
        arena(threads, 0) {}
  ~Impl() {
    arena.execute([this] { group.wait(); });
  }
  tbb::global_control workers;
  tbb::task_arena arena;
  tbb::task_group group;
};

CpuPool::CpuPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  impl_ = std::make_unique<Impl>(threads_);
}

CpuPool::~CpuPool() = default;

void CpuPool::submit(std::function<void()> fn) {
  Impl& m = *impl_;
  m.arena.enqueue(m.group.defer(std::move(fn)));
}

}  // namespace bsonpipe::pipeline
