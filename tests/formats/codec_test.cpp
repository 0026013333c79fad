// The codec table: names, suffixes, magic bytes and levels as the stock tools and files use them.
#include "formats/codec.hpp"

#include <gtest/gtest.h>

#include "formats/dump_layout.hpp"

namespace bsonpipe::formats {
namespace {

TEST(CodecTable, EveryRowAgreesWithTheFilesItNames) {
  struct Case {
    Codec codec;
    const char* name;
    const char* suffix;
    Bytes head;  // the first bytes of a real stream (gzip -c, zstd -c of "x")
    int level;
  };
  const Case cases[] = {
      {Codec::kNone, "none", "", {0x05, 0x00, 0x00, 0x00, 0x00}, 0},
      {Codec::kGzip, "gzip", ".gz", {0x1F, 0x8B, 0x08, 0x00}, 6},
      {Codec::kZstd, "zstd", ".zst", {0x28, 0xB5, 0x2F, 0xFD, 0x24}, 3},
  };
  ASSERT_EQ(codecs().size(), std::size(cases));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(codec_info(c.codec).name, c.name);
    EXPECT_EQ(codec_info(c.codec).suffix, c.suffix);
    EXPECT_EQ(codec_info(c.codec).default_level, c.level);
    EXPECT_EQ(codec_by_name(c.name), c.codec);
    EXPECT_EQ(detect_codec(c.head), c.codec);
    auto split = split_dump_file_name(std::string("coll.bson") + c.suffix);
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ(split->compression, c.codec);
    EXPECT_EQ(dump_file_name("coll", DumpFileKind::kMetadata, c.codec), std::string("coll.metadata.json") + c.suffix);
  }
  EXPECT_FALSE(codec_by_name("lz4").has_value());
  // A magic cut short is not that codec.
  EXPECT_EQ(detect_codec(Bytes{0x28, 0xB5, 0x2F}), Codec::kNone);
  EXPECT_EQ(detect_codec(Bytes{0x1F}), Codec::kNone);
}

}  // namespace
}  // namespace bsonpipe::formats
