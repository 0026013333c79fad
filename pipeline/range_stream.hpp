// One collection's data file fed by several _id ranges read at once: bytes leave in range order,
// with no part files and no second pass. The range at the head of the order writes straight
// through; a range read ahead of it keeps its documents in memory until it becomes the head. At
// most `max_ahead` ranges (the head included) are open at once, which bounds that memory to about
// (max_ahead - 1) ranges: the pzstd ordered-output pattern, with ranges as the jobs.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "formats/status.hpp"
#include "io/compress.hpp"
#include "pipeline/error_holder.hpp"
#include "pipeline/ordered_writer.hpp"

namespace bsonpipe::pipeline {

using formats::Bytes;
using formats::ByteSpan;

class RangeStream {
 public:
  // Receives the collection's raw bytes in file order. Calls never overlap (they may come from
  // different reader threads, one at a time).
  using Sink = std::function<Status(std::span<const ByteSpan>)>;
  RangeStream(std::size_t ranges, std::size_t max_ahead, Sink sink);

  // Waits until range `r` may open (r < head + max_ahead), or until `errors` cancels the run.
  // Each range's reader calls it once, before reading.
  Status wait_turn(std::size_t r, const ErrorHolder& errors);
  // Documents of range `r`, in its order. Only r's reader calls it, between wait_turn and end_range.
  Status write(std::size_t r, std::span<const ByteSpan> docs);
  // Range `r` is complete. Returns true to the one caller whose call completed the whole stream
  // (every range written to the sink): that caller finishes the file.
  Result<bool> end_range(std::size_t r);

  // Bytes held for ranges that are not yet the head (tests; the bound's check).
  std::size_t buffered_bytes() const;
  std::size_t peak_buffered_bytes() const;

 private:
  struct Range {
    std::vector<Bytes> held;  // documents read ahead of the head, in order
    bool done = false;
  };
  // Under out_mu_ (not mu_): writes the new head's held bytes, and moves on past every range that
  // is already complete. Returns whether the stream is complete.
  Result<bool> advance();
  // Held bytes live in chunks of kChunkBytes; written chunks are kept for reuse (under mu_), at
  // most kMaxSpareChunks of them.
  static constexpr std::size_t kChunkBytes = 1u << 20;
  static constexpr std::size_t kMaxSpareChunks = 64;
  Bytes take_chunk();
  void give_chunk(Bytes b);

  Sink sink_;
  const std::size_t max_ahead_;
  mutable std::mutex mu_;  // head_, ranges_, held byte counts
  std::condition_variable turn_;
  std::mutex out_mu_;  // one writer to the sink at a time, in order
  std::size_t head_ = 0;
  std::vector<Range> ranges_;
  std::vector<Bytes> spare_;
  std::size_t held_bytes_ = 0;
  std::size_t peak_held_bytes_ = 0;
  Status error_;  // the sink's first failure (under out_mu_)
};

// Cuts a byte stream into blocks of exactly `block_bytes` raw bytes (the last one shorter) for an
// OrderedBlockWriter: compressed members then start at fixed raw offsets, so the output is a
// function of the bytes alone, whatever the batch sizes, readers or threads. Not thread-safe.
class FixedBlocks {
 public:
  FixedBlocks(OrderedBlockWriter* writer, std::size_t block_bytes) : w_(writer), block_(block_bytes) {}
  Status write(std::span<const ByteSpan> pieces);
  // Writes the last partial block; an empty stream still gets one (empty) member or frame, as
  // gzip(1) and mongodump write it for an empty collection.
  Status finish();

 private:
  OrderedBlockWriter* w_;
  std::size_t block_;
  Bytes buf_;
  bool any_ = false;
};

}  // namespace bsonpipe::pipeline
