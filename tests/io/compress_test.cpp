// Block compression round trips, interop with the gzip(1)/zstd(1) command-line tools as
// independent readers, and detection of truncated or corrupt streams.
#include <gtest/gtest.h>

#include <zlib.h>

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

// Every stock reader of gzip files reads our multi-member output (with its "BP" size field):
// gzip -t, zcat and python3's gzip module, each checking CRC-32 and length itself.
TEST(CompressInterop, StockGzipReadersAcceptOurMembers) {
  auto dir = test::temp_dir("compress-stock");
  auto comp = BlockCompressor::create(Codec::kGzip, 6);
  Bytes input, stream;
  for (std::size_t size : {0u, 100000u, 1u, 250000u}) {
    Bytes block = text_like(size, static_cast<std::uint32_t>(size));
    input.insert(input.end(), block.begin(), block.end());
    ASSERT_TRUE(comp->compress(block, stream).is_ok());
  }
  auto gz = dir / "data.bson.gz";
  test::write_file(gz, stream);
  auto plain = dir / "plain";
  const std::string t = "gzip -t " + gz.string();
  ASSERT_EQ(std::system(t.c_str()), 0) << t;
  const std::string z = "zcat " + gz.string() + " > " + plain.string();
  ASSERT_EQ(std::system(z.c_str()), 0) << z;
  EXPECT_EQ(test::read_file(plain), input) << "zcat";
  std::filesystem::remove(plain);
  const std::string py =
      "python3 -c 'import gzip,sys; open(sys.argv[2],\"wb\").write(gzip.open(sys.argv[1]).read())' " + gz.string() +
      " " + plain.string();
  ASSERT_EQ(std::system(py.c_str()), 0) << py;
  EXPECT_EQ(test::read_file(plain), input) << "python3 gzip";
}

// Members are a function of the bytes alone (no time, no name in the header): what makes dumps
// of unchanged data byte-identical.
TEST(CompressGzip, SameInputGivesTheSameMember) {
  Bytes block = text_like(300000, 11);
  Bytes a, b;
  ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, 6)->compress(block, a).is_ok());
  ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, 6)->compress(block, b).is_ok());
  EXPECT_EQ(a, b);
}

// The level keeps zlib's meaning: each level compresses about as well as zlib's same level
// (within 8% on this synthetic text; on dump data, bench/RESULTS.md), and level 1 less than 6.
TEST(CompressGzip, RatioMatchesZlibAtTheSameLevel) {
  Bytes block = text_like(1u << 20, 5);
  for (int level : {1, 6, 9}) {
    Bytes ours;
    ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, level)->compress(block, ours).is_ok());
    uLongf zlen = compressBound(static_cast<uLong>(block.size()));
    Bytes z(zlen);
    ASSERT_EQ(compress2(z.data(), &zlen, block.data(), static_cast<uLong>(block.size()), level), Z_OK);
    std::printf("[compress] level %d: libdeflate %zu bytes, zlib %lu bytes\n", level, ours.size(), zlen);
    EXPECT_LT(static_cast<double>(ours.size()), 1.08 * static_cast<double>(zlen)) << "level " << level;
    EXPECT_GT(static_cast<double>(ours.size()), 0.80 * static_cast<double>(zlen)) << "level " << level;
  }
  Bytes l1, l6;
  ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, 1)->compress(block, l1).is_ok());
  ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, 6)->compress(block, l6).is_ok());
  EXPECT_GT(l1.size(), l6.size());
}

// Stock members (gzip(1), several concatenated, with a file name in the header) and our members
// decoded member by member: through each streaming inflater built in, fed in awkward chunks.
TEST(CompressGzip, EveryInflaterReadsStockAndOwnMembers) {
  auto dir = test::temp_dir("compress-inflaters");
  Bytes input;
  auto gz = dir / "stock.gz";
  for (int i = 0; i < 3; ++i) {
    Bytes part = text_like(70000 + 1000 * static_cast<std::size_t>(i), 40 + static_cast<std::uint32_t>(i));
    input.insert(input.end(), part.begin(), part.end());
    auto f = dir / ("part" + std::to_string(i));
    test::write_file(f, part);
    const std::string cmd = "gzip -c " + f.string() + " >> " + gz.string();  // -c keeps the name: FNAME set
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  Bytes stock = test::read_file(gz);
  Bytes own;
  auto comp = BlockCompressor::create(Codec::kGzip, 6);
  ASSERT_TRUE(comp->compress(ByteSpan(input).subspan(0, 1000), own).is_ok());
  ASSERT_TRUE(comp->compress(ByteSpan(input).subspan(1000), own).is_ok());
  for (GzipInflater which : {GzipInflater::kZlib, GzipInflater::kIsal}) {
    if (!gzip_inflater_available(which)) continue;
    for (bool whole : {true, false}) {
      for (const Bytes* stream : {&stock, &own}) {
        for (std::size_t chunk : {1u, 5u, 23u, 4096u, 1u << 20}) {
          auto dec = create_gzip_decompressor(which, whole);
          Bytes out;
          for (std::size_t pos = 0; pos < stream->size(); pos += chunk) {
            auto n = std::min(chunk, stream->size() - pos);
            Status s = dec->feed(ByteSpan(stream->data() + pos, n), out);
            ASSERT_TRUE(s.is_ok()) << gzip_inflater_name(which) << " chunk " << chunk << ": " << s.to_string();
          }
          ASSERT_TRUE(dec->finish().is_ok());
          EXPECT_EQ(out, input) << gzip_inflater_name(which) << " whole " << whole << " chunk " << chunk
                                << (stream == &stock ? " stock" : " own");
        }
      }
    }
  }
}

// A corrupt size field is refused with an error, never trusted for an allocation or a read.
TEST(CompressGzip, CorruptSizeFieldIsRejected) {
  Bytes block = text_like(50000, 3);
  Bytes good;
  ASSERT_TRUE(BlockCompressor::create(Codec::kGzip, 6)->compress(block, good).is_ok());
  ASSERT_EQ(good[12], 'B');
  ASSERT_EQ(good[13], 'P');
  for (std::size_t byte : {16u, 17u, 19u, 20u, 23u}) {  // member size, raw size
    for (std::uint8_t flip : {0x01, 0x80}) {
      Bytes bad = good;
      bad[byte] ^= flip;
      auto dec = StreamDecompressor::create(Codec::kGzip);
      Bytes out;
      Status s = dec->feed(bad, out);
      if (s.is_ok()) s = dec->finish();
      EXPECT_FALSE(s.is_ok()) << "byte " << byte << " ^ " << int(flip) << " was accepted";
    }
  }
}

}  // namespace
}  // namespace bsonpipe::io
