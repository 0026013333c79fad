#include "pipeline/core/ordered_writer.hpp"

#include <atomic>
#include <vector>

namespace bsonpipe::pipeline {

namespace {
// One compressor per pool thread and codec/level, reused across blocks.
io::BlockCompressor& thread_compressor(io::Codec codec, int level) {
  struct Cached {
    io::Codec codec = io::Codec::kNone;
    int level = -1;
    std::unique_ptr<io::BlockCompressor> c;
  };
  thread_local Cached cache;
  if (!cache.c || cache.codec != codec || cache.level != level) {
    cache.c = io::BlockCompressor::create(codec, level);
    cache.codec = codec;
    cache.level = level;
  }
  return *cache.c;
}
}  // namespace

// A block's compression runs once, on whichever thread claims it first: a pool task, or the
// producer when it needs the result and no pool thread has started on it (the pool gives no
// promise of when a task starts). The producer waits only for a compression already running.
struct OrderedBlockWriter::Slot {
  std::atomic<bool> claimed{false};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  Bytes raw;
  Bytes out;
  io::Codec codec = io::Codec::kNone;
  int level = 0;

  // Compresses if no one else has claimed the block. Returns whether this call did.
  bool run() {
    if (claimed.exchange(true, std::memory_order_acq_rel)) return false;
    Status s = thread_compressor(codec, level).compress(raw, out);
    Bytes().swap(raw);
    std::lock_guard lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_one();
    return true;
  }
  // Claims the block so that no one compresses it (its result is not wanted); returns whether
  // it was still unclaimed.
  bool drop() {
    if (claimed.exchange(true, std::memory_order_acq_rel)) return false;
    std::lock_guard lock(mu);
    done = true;
    return true;
  }
  void wait_done() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  }
};

OrderedBlockWriter::OrderedBlockWriter(CompressionPool* pool, OrderedWriterOptions opts, Sink sink)
    : pool_(pool), opts_(opts), sink_(std::move(sink)) {
  if (opts_.level == 0) opts_.level = io::default_level(opts_.codec);
  if (opts_.window == 0) opts_.window = 1;
#ifdef BSONPIPE_SLOW_PATH
  opts_.window = 1;
#endif
}

OrderedBlockWriter::~OrderedBlockWriter() {
  for (auto& s : window_)
    if (!s->drop()) s->wait_done();
}

Status OrderedBlockWriter::add_uncompressed(ByteSpan data) {
  if (!error_.is_ok()) return error_;
  if (opts_.codec != io::Codec::kNone) return {ErrorCode::kInternal, "add_uncompressed on a compressing writer"};
  if (Status s = drain(0); !s) return s;
  raw_bytes_ += data.size();
  stored_bytes_ += data.size();
  if (Status s = sink_(data); !s) error_ = s;
  return error_;
}

Status OrderedBlockWriter::add(Bytes block) {
  if (!error_.is_ok()) return error_;
  raw_bytes_ += block.size();
  if (opts_.codec == io::Codec::kNone) {
    if (Status s = drain(0); !s) return s;
    stored_bytes_ += block.size();
    if (Status s = sink_(block); !s) error_ = s;
    return error_;
  }
  auto slot = std::make_shared<Slot>();
  slot->raw = std::move(block);
  slot->codec = opts_.codec;
  slot->level = opts_.level;
  window_.push_back(slot);
  pool_->submit([slot] { slot->run(); });
  return drain(opts_.window);
}

Status OrderedBlockWriter::drain(std::size_t keep) {
  while (!window_.empty()) {
    auto& front = window_.front();
    bool ready = false;
    {
      std::lock_guard lock(front->mu);
      ready = front->done;
    }
    if (!ready) {
      if (window_.size() <= keep) return error_;  // room left: do not wait
      if (!front->run()) front->wait_done();      // compress it here unless a pool thread has
    }
    if (error_.is_ok()) {
      if (!front->status.is_ok()) {
        error_ = front->status;
      } else {
        stored_bytes_ += front->out.size();
        if (Status s = sink_(front->out); !s) error_ = s;
      }
    }
    window_.pop_front();
    if (!error_.is_ok()) return error_;
  }
  return error_;
}

Status OrderedBlockWriter::finish() {
  return drain(0);
}

}  // namespace bsonpipe::pipeline
