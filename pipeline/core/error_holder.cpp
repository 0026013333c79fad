#include "pipeline/core/error_holder.hpp"

#include <condition_variable>

namespace bsonpipe::pipeline {

bool sleep_unless_stopped(const std::stop_token& token, std::chrono::milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // Woken only by the token (its callback notifies cv). The wait returns its predicate's value,
  // which is always false here: whether it ended by the stop is the token's to say.
  cv.wait_for(lock, token, d, [] { return false; });
  return token.stop_requested();
}

bool ErrorHolder::set_error(Status s) {
  if (s.is_ok()) return false;
  {
    std::lock_guard lock(mu_);
    if (failed_.load(std::memory_order_relaxed)) return false;
    error_ = std::move(s);
    failed_.store(true, std::memory_order_release);
  }
  // Outside the lock: a waiter woken by the stop may ask for status() at once.
  stop_.request_stop();
  return true;
}

Status ErrorHolder::status() const {
  if (failed_.load(std::memory_order_acquire)) {
    std::lock_guard lock(mu_);
    return error_;
  }
  if (interrupt_.stop_requested()) return {ErrorCode::kCancelled, "interrupted"};
  return {};
}

}  // namespace bsonpipe::pipeline
