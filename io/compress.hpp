// Block compression for parallel output (each block becomes a self-contained gzip member or zstd
// frame, so concatenated blocks form one valid stream, as pigz does) and streaming decompression
// of such streams (any number of members/frames).
//
// gzip members are written with libdeflate's whole-buffer compressor and carry their own sizes in
// a gzip extra subfield ("BP", like BGZF's "BC"): member size and raw size, both u32 LE. Stock
// readers skip the field; our reader uses it to decode a whole member with libdeflate in one call.
// Members without it (stock gzip, mongodump) go through a streaming inflater (ISA-L when built
// with it, else zlib).
#pragma once

#include <memory>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/codec.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;

// The codecs and their names, suffixes and magic bytes are one table in formats/codec.hpp; this
// file holds their compressors and decompressors.
using formats::Codec;
using formats::detect_codec;

// ".gz", ".zst" or "".
inline std::string_view codec_extension(Codec c) {
  return formats::codec_info(c).suffix;
}
inline std::string_view codec_name(Codec c) {
  return formats::codec_info(c).name;
}
// Default levels: gzip 6 (as gzip(1) and mongodump), zstd 3.
inline int default_level(Codec c) {
  return formats::codec_info(c).default_level;
}

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
  // How many bytes the next feed() should hold, given the reader's `usual` read size: a
  // decompressor that decodes whole units (our gzip members) asks for the rest of the unit, so
  // that it is decoded in place instead of gathered. Any size stays correct; this one is cheapest.
  virtual std::size_t next_read(std::size_t usual) const { return usual; }
  // For gzip, the environment variable BSONPIPE_GZIP_INFLATER=zlib|isal (benchmarks only) streams
  // every member with that inflater instead of the default choice.
  static std::unique_ptr<StreamDecompressor> create(Codec codec);
};

// The streaming inflater for gzip members without a size field. kAuto: the fastest one built in.
enum class GzipInflater : std::uint8_t { kAuto, kZlib, kIsal };
bool gzip_inflater_available(GzipInflater which);
std::string_view gzip_inflater_name(GzipInflater which);  // kAuto: the one it stands for
// A gzip StreamDecompressor with a chosen streaming inflater (tests and benchmarks); members that
// carry the size field are decoded whole with libdeflate unless `whole_members` is false.
std::unique_ptr<StreamDecompressor> create_gzip_decompressor(GzipInflater which, bool whole_members = true);

}  // namespace bsonpipe::io
