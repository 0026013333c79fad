// The executor every operation runs on: dump, restore, copy, verify and index rebuild compose
// their stages (sources, sinks, the work between them) and hand the concurrent parts to one
// Executor per run. It owns what a run's stages share:
//  - first error wins: the first failed Status is the run's; later ones are dropped;
//  - one cancellation token, stopped by that error or by the interrupt (SIGINT/SIGTERM);
//  - what wakes blocked stages on a cancel: hooks (cancel a queue, close a channel) run by the
//    executor's canceller thread, so no stage polls and no failing thread runs them;
//  - the stages themselves: groups of bodies on threads of their own (WorkerGroup), and work
//    lists (namespaces, ranges, files) that up to N bodies take in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "formats/status.hpp"
#include "pipeline/core/error_holder.hpp"
#include "pipeline/core/workers.hpp"

namespace bsonpipe::pipeline {

// Threading: thread-safe, except that the owner constructs and destroys it (after every stage it
// started has been waited for) and calls close().
class Executor {
 public:
  explicit Executor(std::stop_token interrupt = {});
  ~Executor();  // close()
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // --- first error and cancellation (see ErrorHolder) ---
  // Records `s` if it is the first error (the run is then cancelled). True if this call set it.
  bool fail(Status s) { return errors_.set_error(std::move(s)); }
  bool failed() const { return errors_.failed(); }
  bool cancelled() const { return errors_.cancelled(); }
  std::stop_token token() const { return errors_.token(); }
  Status status() const { return errors_.status(); }
  ErrorHolder& errors() { return errors_; }

  // A hook registration: while it lives, its hook runs once when the run is cancelled. Its
  // destructor removes the hook; if the hook is running then, it waits for it to return.
  class Hook {
   public:
    Hook() = default;
    Hook(Hook&& o) noexcept : ex_(o.ex_), id_(o.id_) { o.ex_ = nullptr; }
    Hook& operator=(Hook&& o) noexcept;
    ~Hook();

   private:
    friend class Executor;
    Hook(Executor* ex, std::uint64_t id) : ex_(ex), id_(id) {}
    Executor* ex_ = nullptr;
    std::uint64_t id_ = 0;
  };
  // `wake` runs once when the run is cancelled (the first error or the interrupt), on the
  // executor's canceller thread: never on a thread that failed, so it may take any lock a failing
  // thread holds. It must only wake what stages block on (cancel a BoundedQueue, close a channel,
  // cancel a connection); it must not wait for a stage or remove a hook. Registered after the
  // hooks ran, it runs at once, on the calling thread.
  [[nodiscard]] Hook on_cancel(std::function<void()> wake);

  // --- stages ---
  // Starts `n` bodies, body(0) .. body(n-1), each on a thread of its own; returns at once. A
  // body's failed Status or exception (named with `what`) is the run's first error. The caller
  // waits on the group (or destroys it) before the executor goes.
  [[nodiscard]] std::unique_ptr<WorkerGroup> start(std::size_t n, std::string what,
                                                   std::function<Status(std::size_t)> body);
  // start() and wait for every body.
  void run(std::size_t n, std::string what, std::function<Status(std::size_t)> body);
  // A work list: items 0 .. items-1 taken in order, each once, by min(workers, items) bodies
  // (fn(worker, item): a body's own state, such as its connection, is the caller's, indexed by
  // worker < workers). A body takes no item once the run is cancelled, and stops at its first
  // failure. Returns when every body has returned.
  void for_each(std::size_t items, std::size_t workers, std::string what,
                std::function<Status(std::size_t worker, std::size_t item)> fn);

  // Ends the canceller: no hook runs after it returns (one running is waited for). Idempotent.
  void close();

 private:
  struct Canceller;
  void remove_hook(std::uint64_t id);

  ErrorHolder errors_;
  std::unique_ptr<Canceller> canceller_;
};

}  // namespace bsonpipe::pipeline
