// Block compression round trips, interop with the gzip(1)/zstd(1) command-line tools as
// independent readers, and detection of truncated or corrupt streams.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdio>
#include <random>
#include <vector>

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

// One stock gzip member (no size field), as gzip(1) or mongodump writes them.
Bytes stock_member(ByteSpan in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A reader that reads what next_read() asks for gets each of our members after the first as its
// header, then the rest in one piece (decoded in place, not gathered), and still reads a stock
// member between them. The member sizes come from the stream's own size fields.
TEST(CompressGzip, ReadsOfTheSizeAskedForCutAtOurMemberBoundaries) {
  auto comp = BlockCompressor::create(Codec::kGzip, 6);
  Bytes input, stream;
  std::vector<std::size_t> members;  // compressed size of each of our members, in order
  auto own = [&](std::size_t n, std::uint32_t seed) {
    Bytes block = text_like(n, seed);
    std::size_t at = stream.size();
    ASSERT_TRUE(comp->compress(block, stream).is_ok());
    ASSERT_EQ(stream[at + 12], 'B');
    members.push_back(stream[at + 16] | stream[at + 17] << 8 | stream[at + 18] << 16 |
                      static_cast<std::size_t>(stream[at + 19]) << 24);
    ASSERT_EQ(members.back(), stream.size() - at);
    input.insert(input.end(), block.begin(), block.end());
  };
  own(200000, 1);
  own(150000, 2);
  own(180000, 3);
  Bytes stock_part = text_like(90000, 4);
  Bytes stock = stock_member(stock_part);
  stream.insert(stream.end(), stock.begin(), stock.end());
  input.insert(input.end(), stock_part.begin(), stock_part.end());
  own(120000, 5);
  ASSERT_GT(members[0], 1000u);

  constexpr std::size_t kUsual = 1000;
  auto dec = StreamDecompressor::create(Codec::kGzip);
  Bytes out;
  std::vector<std::size_t> asked;
  for (std::size_t pos = 0; pos < stream.size();) {
    std::size_t want = dec->next_read(kUsual);
    asked.push_back(want);
    ASSERT_GT(want, 0u);
    std::size_t n = std::min(want, stream.size() - pos);
    Status s = dec->feed(ByteSpan(stream.data() + pos, n), out);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    pos += n;
  }
  ASSERT_TRUE(dec->finish().is_ok());
  EXPECT_EQ(out, input);
  // The first member from a usual read on, then header, rest, header, rest; then the stock
  // member's first bytes (read as a header would be), and usual reads through it.
  const std::vector<std::size_t> expected = {kUsual, members[0] - kUsual, 24, members[1] - 24, 24, members[2] - 24, 24};
  ASSERT_GE(asked.size(), expected.size() + 1);
  EXPECT_EQ(std::vector<std::size_t>(asked.begin(), asked.begin() + static_cast<std::ptrdiff_t>(expected.size())),
            expected);
  EXPECT_EQ(asked[expected.size()], kUsual);
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
