// The write path of one ordered stream of whole documents as a dump sink opened it (a
// collection's file, or a collection's share of the archive): uncompressed file output goes from
// the reply to the file with one gather write per batch and is hashed while still in cache; with
// a codec, documents are cut into blocks that end after the document bringing a block to
// `block_bytes` (so the blocks are a function of the documents alone, whatever the batches or the
// split) and compressed in order on the run's pool; a stream without a byte path hands its blocks
// to the sink (the archive multiplexer).
// Threading: one thread at a time (a range's reader, or whoever holds a RangeJoin's front).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "pipeline/core/buffer_pool.hpp"
#include "pipeline/core/ordered_writer.hpp"
#include "pipeline/sinks/dump_sink.hpp"

namespace bsonpipe::pipeline::dump_detail {

struct StreamWriterOptions {
  io::Codec codec = io::Codec::kNone;
  int level = 0;
  std::size_t block_bytes = 4u << 20;
  BufferPool* buffers = nullptr;  // where blocks are taken from (null: allocated)
};

class StreamWriter {
 public:
  StreamWriter(StreamOutput out, CompressionPool* pool, StreamWriterOptions opts, DumpSink& sink, std::string db,
               std::string coll);
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;  // its byte path refers to itself
  StreamWriter& operator=(const StreamWriter&) = delete;
  Status write(std::span<const ByteSpan> docs);
  // Writes what is left. `empty_member`: a stream that held no document still gets one empty
  // gzip member or zstd frame (a zero-byte .gz is an error to gzip(1)). Commits the file.
  Status finish(bool empty_member, bool durable);

  std::uint64_t raw_bytes() const { return raw_; }
  std::uint64_t stored_bytes() const;  // bytes in the file (raw_bytes when uncompressed)
  std::string hash_hex() const;        // XXH3 of the file, when it was hashed; else empty

 private:
  Status flush_block();
  void new_block();  // an empty block_ with room for a whole block

  StreamOutput out_;
  StreamWriterOptions opts_;
  DumpSink& sink_;
  std::string db_;
  std::string coll_;
  std::unique_ptr<OrderedBlockWriter> writer_;
  bool direct_ = false;
  Bytes block_;
  std::size_t block_docs_ = 0;
  std::uint64_t raw_ = 0;
};

}  // namespace bsonpipe::pipeline::dump_detail
