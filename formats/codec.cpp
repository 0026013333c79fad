#include "formats/codec.hpp"

#include <array>

namespace bsonpipe::formats {

namespace {
using namespace std::string_view_literals;
constexpr std::array kCodecs{
    CodecInfo{Codec::kNone, "none"sv, ""sv, ""sv, 0},
    CodecInfo{Codec::kGzip, "gzip"sv, ".gz"sv, "\x1F\x8B"sv, 6},
    CodecInfo{Codec::kZstd, "zstd"sv, ".zst"sv, "\x28\xB5\x2F\xFD"sv, 3},
};
}  // namespace

std::span<const CodecInfo> codecs() {
  return kCodecs;
}

const CodecInfo& codec_info(Codec c) {
  for (const auto& info : kCodecs)
    if (info.codec == c) return info;
  return kCodecs[0];
}

Codec detect_codec(ByteSpan head) {
  for (const auto& info : kCodecs) {
    if (info.magic.empty() || head.size() < info.magic.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < info.magic.size() && match; ++i)
      match = head[i] == static_cast<std::uint8_t>(info.magic[i]);
    if (match) return info.codec;
  }
  return Codec::kNone;
}

std::optional<Codec> codec_by_name(std::string_view name) {
  for (const auto& info : kCodecs)
    if (info.name == name) return info.codec;
  return std::nullopt;
}

}  // namespace bsonpipe::formats
