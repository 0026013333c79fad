#include "pipeline/core/range_join.hpp"

#include <utility>

namespace bsonpipe::pipeline {

RangeJoin::RangeJoin(std::size_t ranges, std::size_t window_bytes, Write write, Complete complete)
    : ranges_(ranges),
      window_(window_bytes),
      write_(std::move(write)),
      complete_(std::move(complete)),
      held_(ranges),
      done_(ranges, false) {}

Status RangeJoin::add(std::size_t i, std::span<const formats::ByteSpan> docs,
                      const std::function<formats::Bytes()>& take) {
  std::unique_lock lk(mu_);
  while (true) {
    if (!failed_) return failed_;
    if (i == front_ && !flushing_) {
      lk.unlock();
      Status s = write_(docs);
      if (!s) cancel(s);
      return s;
    }
    if (held_bytes_ == 0 || held_bytes_ < window_) break;
    moved_.wait(lk);
  }
  Held h{take(), {docs.begin(), docs.end()}};
  held_bytes_ += h.buffer.capacity();
  held_[i].push_back(std::move(h));
  return {};
}

Status RangeJoin::finish_range(std::size_t i) {
  std::unique_lock lk(mu_);
  done_[i] = true;
  if (!failed_) return failed_;
  // Another range is at the front, or a flushing thread will see this range done.
  if (i != front_ || flushing_) return {};
  return flush_from_front(lk);
}

// Called with the lock held, by the thread that ended the front range: writes what the next
// ranges held, in order, and moves the front past every range that is done.
Status RangeJoin::flush_from_front(std::unique_lock<std::mutex>& lk) {
  flushing_ = true;
  while (true) {
    if (front_ < ranges_ && done_[front_] && held_[front_].empty()) {
      ++front_;
      moved_.notify_all();
      continue;
    }
    if (front_ == ranges_) {
      flushing_ = false;
      lk.unlock();
      Status s = complete_();
      if (!s) cancel(s);
      return s;
    }
    if (held_[front_].empty()) {  // the front range is still being read: its reader writes on
      flushing_ = false;
      moved_.notify_all();
      return {};
    }
    std::vector<Held> batch = std::exchange(held_[front_], {});
    lk.unlock();
    Status s;
    for (const Held& h : batch)
      if (s = write_(h.docs); !s) break;
    lk.lock();
    // Written buffers are kept (up to a window's worth) for the readers' connections, so a
    // held reply does not cost a fresh allocation (page faults and zero-filling).
    for (Held& h : batch) {
      held_bytes_ -= h.buffer.capacity();
      if (spare_bytes_ + h.buffer.capacity() > window_) continue;
      spare_bytes_ += h.buffer.capacity();
      spares_.push_back(std::move(h.buffer));
    }
    moved_.notify_all();
    if (!s) {
      flushing_ = false;
      lk.unlock();
      cancel(s);
      return s;
    }
    if (!failed_) {
      flushing_ = false;
      return failed_;
    }
  }
}

void RangeJoin::cancel(Status why) {
  std::lock_guard lk(mu_);
  if (failed_) failed_ = std::move(why);
  moved_.notify_all();
}

formats::Bytes RangeJoin::spare() {
  std::lock_guard lk(mu_);
  if (spares_.empty()) return {};
  formats::Bytes b = std::move(spares_.back());
  spares_.pop_back();
  spare_bytes_ -= b.capacity();
  return b;
}

std::size_t RangeJoin::held_bytes() const {
  std::lock_guard lk(mu_);
  return held_bytes_;
}

}  // namespace bsonpipe::pipeline
