// XXH3-128 matches the xxhsum(1) tool (an independent implementation of the digest's text form),
// streaming equals one-shot, and the multiset digest ignores order but not content.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "formats/hash.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats {
namespace {

TEST(Hash, Xxh3MatchesXxhsumAndStreamingMatchesOneShot) {
  auto dir = test::temp_dir("hash");
  Bytes data(1 << 20);
  std::mt19937 rng(42);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  test::write_file(dir / "blob", data);
  std::string cmd = "xxhsum -H2 " + (dir / "blob").string();
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[256] = {};
  ASSERT_NE(fgets(line, sizeof line, p), nullptr);
  pclose(p);
  std::string expected(line, 32);
  EXPECT_EQ(xxh3_128_hex(data), expected);
  Xxh3Hasher h;
  for (std::size_t pos = 0; pos < data.size(); pos += 4099)
    h.update(ByteSpan(data.data() + pos, std::min<std::size_t>(4099, data.size() - pos)));
  EXPECT_EQ(h.hex_digest(), expected);
}

TEST(Hash, MultisetDigestIsOrderIndependentButContentSensitive) {
  Bytes a{1, 2, 3}, b{4, 5}, c{6};
  MultisetDigest x, y, z;
  x.add(a), x.add(b), x.add(c);
  y.add(c), y.add(a), y.add(b);
  EXPECT_EQ(x, y);
  z.add(a), z.add(b), z.add(b);
  EXPECT_NE(x, z);
  MultisetDigest part1, part2;
  part1.add(b);
  part2.add(c), part2.add(a);
  part1.merge(part2);
  EXPECT_EQ(part1.hex(), x.hex());
}

}  // namespace
}  // namespace bsonpipe::formats
