// Block compression for parallel output (each block becomes a self-contained gzip member or zstd
// frame, so concatenated blocks form one valid stream, as pigz does) and streaming decompression
// of such streams (any number of members/frames).
#pragma once

#include <memory>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;

enum class Codec : std::uint8_t { kNone, kGzip, kZstd };

// ".gz", ".zst" or "".
std::string_view codec_extension(Codec c);
std::string_view codec_name(Codec c);
// From the first bytes of a stream: gzip (1F 8B), zstd (28 B5 2F FD), else kNone.
Codec detect_codec(ByteSpan head);
// Default levels: gzip 6 (as gzip(1) and mongodump), zstd 3.
int default_level(Codec c);

// Compresses whole blocks. One instance per worker thread: not thread-safe, reusable.
class BlockCompressor {
 public:
  virtual ~BlockCompressor() = default;
  // Appends the compressed form of `in` to `out` as one complete member/frame.
  virtual Status compress(ByteSpan in, Bytes& out) = 0;
  static std::unique_ptr<BlockCompressor> create(Codec codec, int level);
};

// Decompresses a stream fed in arbitrary chunks; handles concatenated members/frames.
class StreamDecompressor {
 public:
  virtual ~StreamDecompressor() = default;
  // Decompresses `in` entirely, appending to `out`. `stream_offset` is the position of `in` in
  // the compressed file, for error messages.
  virtual Status feed(ByteSpan in, Bytes& out) = 0;
  // Called at end of input: fails if the stream stopped inside a member/frame (truncation).
  virtual Status finish() = 0;
  static std::unique_ptr<StreamDecompressor> create(Codec codec);
};

}  // namespace bsonpipe::io
