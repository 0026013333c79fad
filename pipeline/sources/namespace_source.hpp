// What restore loads one namespace from: batches of whole documents, then the end. Every input
// comes to restore this way, whatever its kind: a .bson file is one namespace's source of its own
// (BsonFileSource, pipeline/sources/restore_source.hpp); a stream that interleaves namespaces (an
// archive, copy's hand-over) is split by its one reader into a FedSource per namespace.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stop_token>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "pipeline/core/bounded_queue.hpp"

namespace bsonpipe::pipeline {

class BufferPool;

// Whole documents of one namespace, concatenated as in a .bson file.
struct DocumentBatch {
  formats::Bytes data;
  std::size_t count = 0;
  // Offset of the first document in its (decompressed) source, for messages and for naming the
  // batch by its place (the restore journal).
  std::int64_t offset = 0;
};

enum class ReadResult : std::uint8_t { kBatch, kEnd };

// Threading: one consumer thread calls every method.
class NamespaceSource {
 public:
  virtual ~NamespaceSource() = default;
  // Fills `out` with the next batch (kBatch) or reports the end of the namespace's documents
  // (kEnd). An error names the input and the offset; kCancelled once the run stopped.
  virtual Result<ReadResult> next(DocumentBatch& out) = 0;
  // Input bytes consumed since the last call (a compressed file's compressed bytes), for progress.
  virtual std::uint64_t take_bytes() = 0;
  // Later batches' buffers may come from `pool`, where their consumer gives them back.
  virtual void reuse_buffers_from(BufferPool* pool) { (void)pool; }
  // The consumer takes nothing more: whoever feeds the source stops waiting on it.
  virtual void refuse() {}
};

// A namespace's share of an interleaved stream, handed in by the stream's reader through a
// bounded queue. Threading: push(), end() and add_bytes() on the reader's thread; the consumer's
// methods on one other thread; a stop of `stop` (the run's cancellation) wakes both from any thread.
class FedSource final : public NamespaceSource {
 public:
  FedSource(std::size_t capacity, std::stop_token stop)
      : q_(capacity), stop_(std::move(stop)), on_stop_(stop_, Cancel{&q_}) {}

  // Blocks while the queue is full. False (and `b` untouched) once refused or stopped.
  bool push(DocumentBatch& b) { return q_.push(b); }
  // No more batches: the consumer drains the queue, then gets kEnd.
  void end() {
    ended_.store(true, std::memory_order_release);
    q_.finish();
  }
  void add_bytes(std::uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }

  Result<ReadResult> next(DocumentBatch& out) override {
    auto b = q_.pop();
    if (b) {
      out = std::move(*b);
      return ReadResult::kBatch;
    }
    // The queue gives nothing more once ended and drained, or at once when cancelled (whatever it
    // still held is dropped): only the first is the namespace's end.
    if (stop_.stop_requested() || refused_ || !ended_.load(std::memory_order_acquire))
      return Status{ErrorCode::kCancelled, "interrupted"};
    return ReadResult::kEnd;
  }
  std::uint64_t take_bytes() override { return bytes_.exchange(0, std::memory_order_relaxed); }
  void refuse() override {
    refused_ = true;
    q_.cancel();
  }

 private:
  struct Cancel {
    BoundedQueue<DocumentBatch>* q;
    void operator()() const noexcept { q->cancel(); }
  };
  BoundedQueue<DocumentBatch> q_;
  std::stop_token stop_;
  std::stop_callback<Cancel> on_stop_;  // after q_ and stop_: it may run at construction
  std::atomic<bool> ended_{false};
  bool refused_ = false;  // consumer's thread only
  std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace bsonpipe::pipeline
