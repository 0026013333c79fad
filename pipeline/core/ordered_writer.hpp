// Parallel compression with ordered output: a single producer hands raw blocks in order; each is
// compressed on a shared oneTBB pool while the producer goes on; finished blocks are written in
// submission order. At most `window` blocks are in flight: the window is the back-pressure (the
// pzstd pattern, with the producer thread doing the in-order writes itself).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "formats/status.hpp"
#include "io/compress.hpp"
#include "pipeline/core/workers.hpp"

namespace bsonpipe::pipeline {

using formats::Bytes;
using formats::ByteSpan;

// The oneTBB pool that compresses blocks for every writer of a run (pipeline/core/workers.hpp).
using CompressionPool = CpuPool;

struct OrderedWriterOptions {
  io::Codec codec = io::Codec::kNone;
  int level = 0;  // 0: the codec's default
  // Blocks compressed or waiting to be written at once (per writer).
  std::size_t window = 4;
};

// One producer thread calls add()/finish(); `sink` is called on that thread, in order.
class OrderedBlockWriter {
 public:
  using Sink = std::function<Status(ByteSpan)>;
  OrderedBlockWriter(CompressionPool* pool, OrderedWriterOptions opts, Sink sink);
  ~OrderedBlockWriter();  // waits for blocks still being compressed (their results are dropped)

  // Queues a raw block (whole BSON documents). Blocks while the window is full; writes every
  // block that is ready. Returns the first error of compression or of the sink.
  Status add(Bytes block);
  // Writes a raw span without taking ownership: only for Codec::kNone, where no copy is needed.
  Status add_uncompressed(ByteSpan data);
  // Waits for every queued block and writes it.
  Status finish();

  std::uint64_t raw_bytes() const { return raw_bytes_; }
  std::uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  struct Slot;
  Status drain(std::size_t keep);
  CompressionPool* pool_;
  OrderedWriterOptions opts_;
  Sink sink_;
  std::deque<std::shared_ptr<Slot>> window_;
  std::uint64_t raw_bytes_ = 0;
  std::uint64_t stored_bytes_ = 0;
  Status error_;
};

}  // namespace bsonpipe::pipeline
