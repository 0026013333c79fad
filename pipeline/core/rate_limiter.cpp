#include "pipeline/core/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "pipeline/core/error_holder.hpp"

namespace bsonpipe::pipeline {

RateLimiter::RateLimiter(double bytes_per_second, double burst_seconds, Clock clock, Sleep sleep)
    : rate_(bytes_per_second > 0 ? bytes_per_second : 1),
      capacity_(rate_ * std::max(burst_seconds, 0.001)),
      clock_(clock ? std::move(clock) : Clock([] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      })),
      sleep_(std::move(sleep)),
      tokens_(capacity_),
      last_(clock_()) {}

Status RateLimiter::acquire(std::uint64_t bytes, const ErrorHolder* errors) {
  double wait;
  {
    // Refill for the time since the last call, then take the bytes: a negative balance is debt
    // that this caller waits out (later callers queue behind it, as the debt only grows).
    std::lock_guard lock(mu_);
    const double now = clock_();
    tokens_ = std::min(capacity_, tokens_ + (now - last_) * rate_);
    last_ = now;
    tokens_ -= static_cast<double>(bytes);
    wait = tokens_ < 0 ? -tokens_ / rate_ : 0;
    waited_ += wait;
  }
  if (wait <= 0) return {};
  if (!sleep_) {  // the real clock: one wait that the run's cancellation ends early
    const auto d = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(wait));
    if (errors == nullptr) {
      std::this_thread::sleep_for(d);
      return {};
    }
    errors->sleep_for(d);
    return errors->cancelled() ? errors->status() : Status{};
  }
  // An injected sleep (tests) is called in slices, and cancellation is checked between them.
  constexpr double kSlice = 0.05;
  while (wait > 0) {
    if (errors != nullptr && errors->cancelled()) return errors->status();
    const double s = std::min(wait, kSlice);
    sleep_(s);
    wait -= s;
  }
  return {};
}

double RateLimiter::waited_seconds() const {
  std::lock_guard lock(mu_);
  return waited_;
}

}  // namespace bsonpipe::pipeline
