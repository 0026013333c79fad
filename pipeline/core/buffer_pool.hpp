// Buffers handed back by the stage that consumed them, for the stage that fills them to reuse:
// a fresh multi-megabyte buffer costs a page fault and a kernel zero-fill for every 4 KiB it
// touches, a reused one neither. The pool keeps at most `max_buffers`; more are freed, so it
// never holds more memory than that many of the largest buffers in flight.
// Threading: take() and give() from any threads (one mutex).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "formats/bson.hpp"

namespace bsonpipe::pipeline {

class BufferPool {
 public:
  explicit BufferPool(std::size_t max_buffers) : max_(max_buffers) {}

  // An empty buffer with room for at least `capacity` bytes: a kept one if there is one large
  // enough, else a new one.
  formats::Bytes take(std::size_t capacity) {
    formats::Bytes b;
    {
      std::lock_guard lock(mu_);
      for (auto it = kept_.begin(); it != kept_.end(); ++it)
        if (it->capacity() >= capacity) {
          b = std::move(*it);
          kept_.erase(it);
          break;
        }
    }
    b.clear();
    if (b.capacity() < capacity) b.reserve(capacity);
    return b;
  }

  // Hands a buffer back (its contents are dropped).
  void give(formats::Bytes&& b) {
    if (b.capacity() == 0) return;
    std::lock_guard lock(mu_);
    if (kept_.size() < max_) kept_.push_back(std::move(b));
  }

 private:
  const std::size_t max_;
  std::mutex mu_;
  std::vector<formats::Bytes> kept_;
};

// pool->take(capacity), or a new buffer with that room where there is no pool.
inline formats::Bytes take_buffer(BufferPool* pool, std::size_t capacity) {
  if (pool != nullptr) return pool->take(capacity);
  formats::Bytes b;
  b.reserve(capacity);
  return b;
}

}  // namespace bsonpipe::pipeline
