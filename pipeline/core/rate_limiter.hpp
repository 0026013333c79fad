// --rate-limit: a token bucket of raw BSON bytes per second shared by every reader of a dump or
// copy, or every insertion worker of a restore. Callers take the bytes of each batch before
// sending or after receiving it; a caller that overdraws the bucket waits until the debt is paid,
// so the average rate over any long window stays at the limit. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "formats/status.hpp"

namespace bsonpipe::pipeline {

class ErrorHolder;

class RateLimiter {
 public:
  // Seconds on a monotonic clock, and a sleep of that many seconds: injected by tests (an injected
  // sleep is called in slices of at most 50 ms, with cancellation checked between them).
  using Clock = std::function<double()>;
  using Sleep = std::function<void(double)>;
  // `bytes_per_second` > 0. The bucket holds at most `burst_seconds` of tokens (it starts full).
  explicit RateLimiter(double bytes_per_second, double burst_seconds = 0.25, Clock clock = {}, Sleep sleep = {});

  // Takes `bytes` tokens, waiting while the bucket is in debt. Returns early (with the run's
  // status) when `errors` cancels the run; ok otherwise.
  Status acquire(std::uint64_t bytes, const ErrorHolder* errors = nullptr);

  double bytes_per_second() const { return rate_; }
  // Seconds spent waiting in acquire() so far, over all callers.
  double waited_seconds() const;

 private:
  const double rate_;
  const double capacity_;
  Clock clock_;
  Sleep sleep_;
  mutable std::mutex mu_;
  double tokens_;
  double last_;
  double waited_ = 0;
};

}  // namespace bsonpipe::pipeline
