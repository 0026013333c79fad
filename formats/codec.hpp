// The codecs a dump's files and archives may be compressed with: one table of names, file
// suffixes, magic bytes and default levels. Adding a codec is a row here, its compressor and
// decompressor in io/compress.cpp, and its flag in the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "formats/bson.hpp"

namespace bsonpipe::formats {

enum class Codec : std::uint8_t { kNone, kGzip, kZstd };  // kZstd (".zst") is our extension

struct CodecInfo {
  Codec codec;
  std::string_view name;    // "gzip", as in messages and manifests
  std::string_view suffix;  // ".gz" on file names; "" for kNone
  std::string_view magic;   // the first bytes of a stream; "" for kNone
  int default_level;        // gzip 6 (as gzip(1) and mongodump), zstd 3
};

// Every codec, kNone first.
std::span<const CodecInfo> codecs();
const CodecInfo& codec_info(Codec c);
// From the first bytes of a stream: the codec whose magic they start with, else kNone.
Codec detect_codec(ByteSpan head);
// By name ("gzip", "zstd", "none").
std::optional<Codec> codec_by_name(std::string_view name);

}  // namespace bsonpipe::formats
