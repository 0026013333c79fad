#include "pipeline/core/workers.hpp"

#include "pipeline/bounded_queue.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <exception>
#include <utility>

namespace bsonpipe::pipeline {

namespace {

// oneTBB caps its threads at the core count by default; blocking bodies need one thread each
// whatever the cores (8 inserters on 2 cores), so the cap is raised once for the process. CPU
// work stays capped by the arenas it runs in.
void allow_blocking_threads() {
  static tbb::global_control control(tbb::global_control::max_allowed_parallelism, 1024);
}

}  // namespace

struct WorkerGroup::Impl {
  Impl(std::size_t n, ErrorHolder& e, std::string w, std::function<void()> oe)
      : count(n == 0 ? 1 : n),
        arena(static_cast<int>(count) + 1, 1),
        errors(e),
        what(std::move(w)),
        on_error(std::move(oe)) {}

  void fail(Status s) {
    if (errors.set_error(std::move(s)) || errors.cancelled()) {
      bool expected = false;
      if (on_error && notified.compare_exchange_strong(expected, true)) on_error();
    }
  }

  std::size_t count;
  tbb::task_arena arena;
  tbb::task_group group;
  ErrorHolder& errors;
  std::string what;
  std::function<void()> on_error;
  std::atomic<bool> notified{false};
  bool started = false;
  bool waited = false;
};

WorkerGroup::WorkerGroup(std::size_t n, ErrorHolder& errors, std::string what, std::function<void()> on_error)
    : impl_(std::make_unique<Impl>(n, errors, std::move(what), std::move(on_error))) {
  allow_blocking_threads();
}

WorkerGroup::~WorkerGroup() {
  wait();
}

void WorkerGroup::start(std::function<Status(std::size_t)> body) {
  Impl& m = *impl_;
  m.started = true;
  auto shared = std::make_shared<std::function<Status(std::size_t)>>(std::move(body));
  for (std::size_t i = 0; i < m.count; ++i) {
    // Enqueued, not spawned: the owner does not stay in the arena, its workers take these.
    m.arena.enqueue(m.group.defer([&m, shared, i] {
      // The task boundary: whatever a body throws becomes the run's error here, once.
      try {
        if (Status s = (*shared)(i); !s) m.fail(std::move(s));
      } catch (const std::exception& e) {
        m.fail({ErrorCode::kInternal, m.what + ": " + e.what()});
      } catch (...) {
        m.fail({ErrorCode::kInternal, m.what + ": unknown exception"});
      }
    }));
  }
}

void WorkerGroup::wait() {
  Impl& m = *impl_;
  if (!m.started || m.waited) return;
  m.waited = true;
  m.arena.execute([&m] { m.group.wait(); });
}

void run_concurrently(std::size_t n, ErrorHolder& errors, const std::string& what,
                      const std::function<Status(std::size_t)>& body, std::function<void()> on_error) {
  WorkerGroup g(n, errors, what, std::move(on_error));
  g.start(body);
  g.wait();
}

// The pool's threads are WorkerGroup bodies that live as long as the pool and take tasks from a
// bounded queue. Tasks are not enqueued into an arena one by one: with oneTBB 2021.8 (Debian 12)
// an arena that had gone idle was sometimes never given a worker again while the submitters
// blocked waiting for its results (reproduced with 2-3 blocking submitters on 2 cores), and
// long-lived bodies started together never let the arena go idle.
struct CpuPool::Impl {
  explicit Impl(int threads)
      : tasks(static_cast<std::size_t>(threads) * 8), group(static_cast<std::size_t>(threads), errors, "compression") {
    group.start([this](std::size_t) -> Status {
      while (auto task = tasks.pop()) (*task)();
      return {};
    });
  }
  ~Impl() {
    tasks.finish();  // run what is queued, then stop
    group.wait();
  }
  BoundedQueue<std::function<void()>> tasks;
  ErrorHolder errors;  // tasks report through their own state; this only sees a body's exception
  WorkerGroup group;
};

CpuPool::CpuPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  impl_ = std::make_unique<Impl>(threads_);
}

CpuPool::~CpuPool() = default;

void CpuPool::submit(std::function<void()> fn) {
  // push fails only after finish(), which happens in the destructor: no submit can race it.
  (void)impl_->tasks.push(std::move(fn));
}

}  // namespace bsonpipe::pipeline
