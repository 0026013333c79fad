// First-error-wins shutdown: every stage reports into one ErrorHolder and polls it; the first
// error is kept, later ones are dropped, and its presence means "cancel". Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "formats/status.hpp"

namespace bsonpipe::pipeline {

class ErrorHolder {
 public:
  // `interrupt`, when given, is an external flag (SIGINT/SIGTERM) that also cancels.
  explicit ErrorHolder(const std::atomic<bool>* interrupt = nullptr) : interrupt_(interrupt) {}

  // Records `s` if it is the first error. Returns true if this call set it. Ok statuses are ignored.
  bool set_error(Status s) {
    if (s.is_ok()) return false;
    std::lock_guard lock(mu_);
    if (failed_.load(std::memory_order_relaxed)) return false;
    error_ = std::move(s);
    failed_.store(true, std::memory_order_release);
    return true;
  }
  // True once an error was set or the interrupt flag was raised. Cheap: call it in hot loops.
  bool cancelled() const {
    return failed_.load(std::memory_order_acquire) ||
           (interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed));
  }
  // The first error; if none but interrupted, a kCancelled status; else ok.
  Status status() const {
    if (failed_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      return error_;
    }
    if (interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed))
      return {ErrorCode::kCancelled, "interrupted"};
    return {};
  }

 private:
  const std::atomic<bool>* interrupt_;
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
    const auto step = std::chrono::milliseconds(10);
    for (auto waited = std::chrono::milliseconds(0); waited < next_ && !errors.cancelled(); waited += step)
      std::this_thread::sleep_for(step);
    next_ = std::min(next_ * 2, std::chrono::milliseconds(5000));
  }
  void reset() { next_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds next_;
};

}  // namespace bsonpipe::pipeline
