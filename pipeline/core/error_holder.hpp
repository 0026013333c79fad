// First-error-wins shutdown: every stage reports into one ErrorHolder; the first error is kept,
// later ones are dropped, and its presence means "cancel". Cancellation is a std::stop_token
// (token()): a blocking wait that must end on cancel waits on it (sleep_for(), a
// std::condition_variable_any wait with the token) instead of polling. Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stop_token>

#include "formats/status.hpp"

namespace bsonpipe::pipeline {

// Sleeps for `d`, or until `token` is stopped if that comes first. Returns true if it was stopped.
bool sleep_unless_stopped(const std::stop_token& token, std::chrono::milliseconds d);

class ErrorHolder {
 public:
  // `interrupt`, when given, is an external stop request (SIGINT/SIGTERM) that also cancels.
  explicit ErrorHolder(std::stop_token interrupt = {})
      : interrupt_(std::move(interrupt)), forward_(interrupt_, Forward{&stop_}) {}
  ErrorHolder(const ErrorHolder&) = delete;
  ErrorHolder& operator=(const ErrorHolder&) = delete;

  // Records `s` if it is the first error, then stops token(). Returns true if this call set it.
  // Ok statuses are ignored.
  bool set_error(Status s);
  // True once an error was set (the interrupt alone does not count).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // True once an error was set or the interrupt was requested. Cheap: call it in hot loops.
  bool cancelled() const { return stop_.stop_requested(); }
  // Stopped by the first error or by the interrupt: what a blocking wait waits on.
  std::stop_token token() const { return stop_.get_token(); }
  // The first error; if none but interrupted, a kCancelled status; else ok.
  Status status() const;
  // Sleeps for `d` unless the run is cancelled first (then returns at once).
  void sleep_for(std::chrono::milliseconds d) const { sleep_unless_stopped(token(), d); }

 private:
  struct Forward {  // the interrupt's callback: cancels this run too
    std::stop_source* to;
    void operator()() const noexcept { to->request_stop(); }
  };
  std::stop_source stop_;
  std::stop_token interrupt_;
  std::stop_callback<Forward> forward_;  // after stop_ and interrupt_: it may run at construction
  mutable std::mutex mu_;
  std::atomic<bool> failed_{false};
  Status error_;
};

// The wait between retries: `first_ms`, doubling up to 5 s; reset() after progress. A wait ends
// early when the run is cancelled.
class RetryBackoff {
 public:
  explicit RetryBackoff(int first_ms) : first_(first_ms), next_(first_) {}
  void wait(const ErrorHolder& errors) {
    errors.sleep_for(next_);
    next_ = std::min(next_ * 2, std::chrono::milliseconds(5000));
  }
  void reset() { next_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds next_;
};

}  // namespace bsonpipe::pipeline
