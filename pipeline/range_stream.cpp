#include "pipeline/range_stream.hpp"

#include <chrono>

namespace bsonpipe::pipeline {

RangeStream::RangeStream(std::size_t ranges, std::size_t max_ahead, Sink sink)
    : sink_(std::move(sink)), max_ahead_(max_ahead < 1 ? 1 : max_ahead), ranges_(ranges < 1 ? 1 : ranges) {}

Status RangeStream::wait_turn(std::size_t r, const ErrorHolder& errors) {
  std::unique_lock lock(mu_);
  // A short timed wait so that a cancelled run (whose head may never advance) is noticed.
  while (r >= head_ + max_ahead_) {
    if (errors.cancelled()) return errors.status().is_ok() ? Status(ErrorCode::kCancelled, "cancelled") : errors.status();
    turn_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return {};
}

Status RangeStream::write(std::size_t r, std::span<const ByteSpan> docs) {
  {
    std::lock_guard lock(mu_);
    if (r != head_) {
      // Read ahead of the head: keep a copy (the reply buffer is reused by the next batch), in
      // chunks recycled from ranges already written, so the copy does not fault in fresh pages.
      auto& held = ranges_[r].held;
      for (ByteSpan d : docs) {
        if (held.empty() || held.back().capacity() - held.back().size() < d.size()) {
          held.push_back(take_chunk());
          if (held.back().capacity() < d.size()) held.back().reserve(d.size());
        }
        held.back().insert(held.back().end(), d.begin(), d.end());
        held_bytes_ += d.size();
      }
      peak_held_bytes_ = std::max(peak_held_bytes_, held_bytes_);
      return {};
    }
  }
  // The head: straight to the sink. If the head just moved here, the thread that moved it holds
  // out_mu_ until this range's held bytes are written, so these follow them.
  std::lock_guard out(out_mu_);
  if (!error_.is_ok()) return error_;
  if (Status s = sink_(docs); !s) error_ = s;
  return error_;
}

Result<bool> RangeStream::end_range(std::size_t r) {
  {
    std::lock_guard lock(mu_);
    ranges_[r].done = true;
    if (r != head_) return false;  // written when the head reaches it
  }
  // Only r's reader moves the head past r, so it is still r here.
  std::lock_guard out(out_mu_);
  return advance();
}

Result<bool> RangeStream::advance() {
  while (true) {
    std::vector<Bytes> held;
    bool done;
    {
      std::lock_guard lock(mu_);
      ++head_;
      turn_.notify_all();
      if (head_ >= ranges_.size()) return true;
      held.swap(ranges_[head_].held);
      done = ranges_[head_].done;
      for (const Bytes& b : held) held_bytes_ -= b.size();
    }
    if (!held.empty()) {
      if (!error_.is_ok()) return error_;
      std::vector<ByteSpan> spans(held.begin(), held.end());
      Status s = sink_(spans);
      {
        std::lock_guard lock(mu_);
        for (Bytes& b : held) give_chunk(std::move(b));
      }
      if (!s) {
        error_ = s;
        return s;
      }
    }
    if (!done) return false;  // its reader goes on writing straight through
  }
}

Bytes RangeStream::take_chunk() {
  if (spare_.empty()) {
    Bytes b;
    b.reserve(kChunkBytes);
    return b;
  }
  Bytes b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void RangeStream::give_chunk(Bytes b) {
  if (b.capacity() != kChunkBytes || spare_.size() >= kMaxSpareChunks) return;  // freed
  b.clear();
  spare_.push_back(std::move(b));
}

std::size_t RangeStream::buffered_bytes() const {
  std::lock_guard lock(mu_);
  return held_bytes_;
}

std::size_t RangeStream::peak_buffered_bytes() const {
  std::lock_guard lock(mu_);
  return peak_held_bytes_;
}

Status FixedBlocks::write(std::span<const ByteSpan> pieces) {
  for (ByteSpan p : pieces) {
    any_ = any_ || !p.empty();
    while (!p.empty()) {
      if (buf_.capacity() < block_) buf_.reserve(block_);
      std::size_t take = std::min(block_ - buf_.size(), p.size());
      buf_.insert(buf_.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(take));
      p = p.subspan(take);
      if (buf_.size() == block_)
        if (Status s = w_->add(std::exchange(buf_, Bytes())); !s) return s;
    }
  }
  return {};
}

Status FixedBlocks::finish() {
  if (!buf_.empty() || !any_)
    if (Status s = w_->add(std::exchange(buf_, Bytes())); !s) return s;
  return w_->finish();
}

}  // namespace bsonpipe::pipeline
