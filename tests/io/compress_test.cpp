// Block compression round trips, interop with the gzip(1)/zstd(1) command-line tools as
// independent readers, and detection of truncated or corrupt streams.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "io/compress.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::io {
namespace {

Bytes text_like(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"alpha ", "beta ", "gamma ", "delta ", "épsilon ", "zeta ", "{\"x\":", "12345 "};
  Bytes out;
  while (out.size() < n) {
    const char* w = words[rng() % 8];
    out.insert(out.end(), w, w + std::strlen(w));
    if (rng() % 7 == 0) out.push_back(static_cast<std::uint8_t>(rng()));
  }
  out.resize(n);
  return out;
}

struct Case {
  Codec codec;
  int level;
};

class CompressRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(CompressRoundTrip, ManyBlocksConcatenatedDecodeToTheInput) {
  std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::printf("[compress] seed %u\n", seed);
  auto comp = BlockCompressor::create(GetParam().codec, GetParam().level);
  Bytes input, stream;
  for (std::size_t size : {0u, 1u, 1000u, 65536u, 300000u, 7u}) {
    Bytes block = text_like(size, seed + static_cast<std::uint32_t>(size));
    input.insert(input.end(), block.begin(), block.end());
    ASSERT_TRUE(comp->compress(block, stream).is_ok());
  }
  if (GetParam().codec != Codec::kNone) {
    EXPECT_EQ(detect_codec(stream), GetParam().codec);
  }
  // Feed in awkward chunk sizes so members/frames straddle feeds.
  for (std::size_t chunk : {1u, 3u, 4096u, 1u << 20}) {
    auto dec = StreamDecompressor::create(GetParam().codec);
    Bytes out;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
      auto n = std::min(chunk, stream.size() - pos);
      ASSERT_TRUE(dec->feed(ByteSpan(stream.data() + pos, n), out).is_ok()) << "chunk " << chunk;
    }
    ASSERT_TRUE(dec->finish().is_ok());
    EXPECT_EQ(out, input) << "chunk " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressRoundTrip,
                         ::testing::Values(Case{Codec::kNone, 0}, Case{Codec::kGzip, 1}, Case{Codec::kGzip, 6},
                                           Case{Codec::kZstd, 1}, Case{Codec::kZstd, 3}));

class CompressTruncation : public ::testing::TestWithParam<Codec> {};

TEST_P(CompressTruncation, TruncatedAndCorruptStreamsAreRejected) {
  auto comp = BlockCompressor::create(GetParam(), default_level(GetParam()));
  Bytes stream;
  Bytes block = text_like(200000, 7);
  ASSERT_TRUE(comp->compress(block, stream).is_ok());
  ASSERT_TRUE(comp->compress(block, stream).is_ok());
  // Cuts inside a member/frame. (A cut exactly between two members leaves a valid, shorter stream;
  // that is caught one layer up, by BSON length checks and the manifest's sizes and hashes.)
  for (std::size_t cut : {stream.size() - 1, stream.size() / 2 - 7, stream.size() / 2 + 9, std::size_t{5}}) {
    auto dec = StreamDecompressor::create(GetParam());
    Bytes out;
    Status s = dec->feed(ByteSpan(stream.data(), cut), out);
    if (s.is_ok()) s = dec->finish();
    EXPECT_FALSE(s.is_ok()) << "cut at " << cut << " was accepted";
  }
  Bytes bad = stream;
  bad[bad.size() / 4] ^= 0x5A;
  auto dec = StreamDecompressor::create(GetParam());
  Bytes out;
  Status s = dec->feed(bad, out);
  if (s.is_ok()) s = dec->finish();
  EXPECT_FALSE(s.is_ok()) << "a flipped byte was accepted";
  Bytes trailing = stream;
  trailing.insert(trailing.end(), {'j', 'u', 'n', 'k', '!', '!'});
  auto dec2 = StreamDecompressor::create(GetParam());
  out.clear();
  s = dec2->feed(trailing, out);
  if (s.is_ok()) s = dec2->finish();
  EXPECT_FALSE(s.is_ok()) << "trailing garbage was accepted";
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressTruncation, ::testing::Values(Codec::kGzip, Codec::kZstd));

// The command-line tools read our multi-member output: the compatibility mongorestore relies on.
TEST(CompressInterop, CommandLineToolsReadConcatenatedMembers) {
  auto dir = test::temp_dir("compress-interop");
  Bytes input;
  for (Codec codec : {Codec::kGzip, Codec::kZstd}) {
    auto comp = BlockCompressor::create(codec, default_level(codec));
    Bytes stream;
    input.clear();
    for (int i = 0; i < 5; ++i) {
      Bytes block = text_like(100000 + i, static_cast<std::uint32_t>(i));
      input.insert(input.end(), block.begin(), block.end());
      ASSERT_TRUE(comp->compress(block, stream).is_ok());
    }
    auto in = dir / (std::string("data") + std::string(codec_extension(codec)));
    test::write_file(in, stream);
    auto out = dir / "plain";
    std::string cmd =
        std::string(codec == Codec::kGzip ? "gzip -dc " : "zstd -qdc ") + in.string() + " > " + out.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    EXPECT_EQ(test::read_file(out), input) << codec_name(codec);
  }
}

}  // namespace
}  // namespace bsonpipe::io
