// A bounded multi-producer multi-consumer queue: the back-pressure between pipeline stages.
//
// Contract: push() blocks while the queue is full; it returns false (and the item is NOT moved
// from) once the queue is cancelled or finished. pop() blocks while empty; after finish() it
// drains the remaining items, then returns nullopt; after cancel() it returns nullopt at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace bsonpipe::pipeline {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
#ifdef BSONPIPE_SLOW_PATH
    capacity_ = 1;  // shake out ordering assumptions and races
#endif
  }

  bool push(T& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_ || closed_ || cancelled_; });
    if (closed_ || cancelled_) return false;
    q_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  bool push(T&& item) {
    return push(item);
  }

  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_ || cancelled_; });
    if (cancelled_ || q_.empty()) return std::nullopt;
    std::optional<T> out(std::move(q_.front()));
    q_.pop_front();
    not_full_.notify_one();
    return out;
  }

  // No more pushes; consumers drain what is left.
  void finish() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  // Abandon everything: wake every waiter, drop queued items.
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    q_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  std::size_t capacity() const {
    return capacity_;
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> q_;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace bsonpipe::pipeline
