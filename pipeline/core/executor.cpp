#include "pipeline/core/executor.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <utility>

namespace bsonpipe::pipeline {

// One thread per executor, started with the first hook: it sleeps on the run's token and, once
// the token stops, runs every hook registered, in registration order, holding `mu` (so removing a
// hook waits for it to have run). It never runs on a thread that failed: a hook may take any lock
// a failing stage holds.
struct Executor::Canceller {
  explicit Canceller(ErrorHolder& e) : errors(e) {}

  void loop() {
    std::unique_lock lock(mu);
    cv.wait(lock, errors.token(), [this] { return closing; });
    if (closing) return;
    fired = true;
    for (auto& [id, wake] : hooks) wake();
    hooks.clear();
  }

  ErrorHolder& errors;
  std::mutex mu;
  std::condition_variable_any cv;  // woken by the token and by close()
  std::map<std::uint64_t, std::function<void()>> hooks;
  std::uint64_t next_id = 1;
  bool fired = false;
  bool closing = false;
  std::unique_ptr<WorkerGroup> thread;
};

Executor::Executor(std::stop_token interrupt)
    : errors_(std::move(interrupt)), canceller_(std::make_unique<Canceller>(errors_)) {}

Executor::~Executor() {
  close();
}

Executor::Hook& Executor::Hook::operator=(Hook&& o) noexcept {
  if (this != &o) {
    if (ex_ != nullptr) ex_->remove_hook(id_);
    ex_ = std::exchange(o.ex_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

Executor::Hook::~Hook() {
  if (ex_ != nullptr) ex_->remove_hook(id_);
}

Executor::Hook Executor::on_cancel(std::function<void()> wake) {
  Canceller& c = *canceller_;
  std::unique_lock lock(c.mu);
  if (c.fired) {  // the hooks ran already: this one runs now, here
    lock.unlock();
    wake();
    return {};
  }
  std::uint64_t id = c.next_id++;
  c.hooks.emplace(id, std::move(wake));
  if (!c.thread && !c.closing) {
    c.thread = std::make_unique<WorkerGroup>(1, errors_, "canceller");
    c.thread->start([&c](std::size_t) {
      c.loop();
      return Status{};
    });
  }
  return Hook(this, id);
}

void Executor::remove_hook(std::uint64_t id) {
  std::lock_guard lock(canceller_->mu);
  canceller_->hooks.erase(id);
}

void Executor::close() {
  Canceller& c = *canceller_;
  {
    std::lock_guard lock(c.mu);
    c.closing = true;
  }
  c.cv.notify_all();
  if (c.thread) c.thread->wait();
}

std::unique_ptr<WorkerGroup> Executor::start(std::size_t n, std::string what, std::function<Status(std::size_t)> body) {
  auto g = std::make_unique<WorkerGroup>(n, errors_, std::move(what));
  g->start(std::move(body));
  return g;
}

void Executor::run(std::size_t n, std::string what, std::function<Status(std::size_t)> body) {
  start(n, std::move(what), std::move(body))->wait();
}

void Executor::for_each(std::size_t items, std::size_t workers, std::string what,
                        std::function<Status(std::size_t, std::size_t)> fn) {
  if (items == 0) return;
  std::size_t n = std::min(std::max<std::size_t>(workers, 1), items);
  std::atomic<std::size_t> next{0};
  run(n, std::move(what), [&](std::size_t w) -> Status {
    for (;;) {
      if (cancelled()) return {};
      std::size_t i = next.fetch_add(1);
      if (i >= items) return {};
      if (Status s = fn(w, i); !s) return s;
    }
  });
}

}  // namespace bsonpipe::pipeline
