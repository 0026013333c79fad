// One ordered stream fed by several ranges read at once (the ordered-output pattern of pzstd):
// a split collection's file is its ranges' documents in range order, with no part files and no
// second pass. The range at the front writes its batches straight through; a range ahead of the
// front keeps its reply buffers, untouched, until the front reaches it, and waits while `window`
// bytes are held. When the front range ends, the thread that ended it writes what the next
// ranges held, in order, until it reaches a range still being read, which then writes through.
//
// Threading: add/finish_range/cancel/spare may be called from any number of reader threads at
// once; one mutex guards the held buffers and the front. `write` is called by one thread at a
// time (the front range's reader, or the thread flushing what a new front held), always in range
// order. A waiting reader wakes when the front moves, when held bytes are written, or on cancel:
// nothing polls.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::pipeline {

class RangeJoin {
 public:
  // Writes whole documents, in order, to the joined stream.
  using Write = std::function<Status(std::span<const formats::ByteSpan>)>;
  // Runs once, on the thread that wrote the last range's last batch.
  using Complete = std::function<Status()>;

  RangeJoin(std::size_t ranges, std::size_t window_bytes, Write write, Complete complete);

  // Range `i`'s next batch. `docs` point into a reply buffer that `take` moves out of the cursor;
  // `take` is called only when the batch is held (then the caller's cursor must not reuse it).
  // Blocks while range `i` is not at the front and `window_bytes` are held (unless nothing is).
  Status add(std::size_t i, std::span<const formats::ByteSpan> docs, const std::function<formats::Bytes()>& take);
  // Range `i` has no more batches. If it is at the front, writes what the ranges after it held,
  // and completes the stream once every range is written.
  Status finish_range(std::size_t i);
  // Fails every later call and wakes every waiting reader with `why`.
  void cancel(Status why);
  // A buffer whose held batch was written, for the caller's connection to receive into (so held
  // replies do not cost fresh allocations). Empty when none is free.
  formats::Bytes spare();

  std::size_t held_bytes() const;

 private:
  struct Held {
    formats::Bytes buffer;
    std::vector<formats::ByteSpan> docs;
  };
  Status flush_from_front(std::unique_lock<std::mutex>& lk);

  const std::size_t ranges_;
  const std::size_t window_;
  Write write_;
  Complete complete_;

  mutable std::mutex mu_;
  std::condition_variable moved_;        // the front moved, held bytes were written, or cancel
  std::size_t front_ = 0;                // the range that writes through (ranges_: all written)
  bool flushing_ = false;                // a thread is writing what the front range held
  std::vector<std::vector<Held>> held_;  // per range, in arrival order
  std::vector<bool> done_;
  std::size_t held_bytes_ = 0;
  std::vector<formats::Bytes> spares_;  // at most window_ bytes
  std::size_t spare_bytes_ = 0;
  Status failed_;
};

}  // namespace bsonpipe::pipeline
