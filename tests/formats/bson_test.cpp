// Unit tests of the BSON view, validator offsets, builder and comparison order.
#include <gtest/gtest.h>

#include "formats/bson.hpp"

namespace bsonpipe::formats {
namespace {

Bytes sample() {
  Builder b;
  b.append_int32("a", 1).append_string("s", "héllo").open_document("d").append_int64("x", 7).close();
  b.open_array("arr").append_bool("0", true).append_null("1").close();
  return b.finish();
}

TEST(Bson, BuilderProducesAValidDocumentAndViewFindsFields) {
  Bytes doc = sample();
  ASSERT_TRUE(validate(doc, {.check_utf8 = true}).is_ok());
  DocView v(doc);
  EXPECT_EQ(v.count(), 4u);
  EXPECT_EQ(v.find("a").as_int32(), 1);
  EXPECT_EQ(v.find("s").as_string(), "héllo");
  EXPECT_EQ(v.find_path("d.x").as_int64(), 7);
  EXPECT_TRUE(v.find_path("arr.0").as_bool());
  EXPECT_FALSE(v.find("missing").valid());
}

TEST(Bson, ValidatorNamesTheOffsetOfTheFirstFault) {
  Bytes doc = sample();
  // Corrupt the string length of "s" (type byte at offset 11: 4 len + 7 for "a" element).
  std::size_t s_elem = 4 + (1 + 2 + 4);
  ASSERT_EQ(doc[s_elem], 0x02);
  doc[s_elem + 3] = 0x7F;  // string length low byte -> far too long
  Status st = validate(doc, {}, 1000);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.offset(), 1000 + static_cast<std::int64_t>(s_elem + 3));
  EXPECT_NE(st.to_string().find("offset"), std::string::npos);
}

TEST(Bson, DepthLimitIsEnforced) {
  Builder b;
  for (int i = 0; i < 10; ++i) b.open_document("n");
  for (int i = 0; i < 10; ++i) b.close();
  Bytes doc = b.finish();
  EXPECT_TRUE(validate(doc, {.max_depth = 11}).is_ok());
  EXPECT_FALSE(validate(doc, {.max_depth = 10}).is_ok());
}

TEST(Bson, FullDepthChecksDeeperDocumentsOnlyByTheirBounds) {
  // {d: {x: "abc"}} with the string's length byte broken: a fault inside the nested document.
  Builder b;
  b.open_document("d").append_string("x", "abc").close();
  Bytes doc = b.finish();
  std::size_t len_at = 4 + 3 + 4 + 3;  // doc length, "\x03d\0", inner length, "\x02x\0"
  ASSERT_EQ(doc[len_at], 4);           // "abc" + NUL
  doc[len_at] = 0x70;
  EXPECT_FALSE(validate(doc).is_ok());
  EXPECT_FALSE(validate(doc, {.full_depth = 2}).is_ok());
  EXPECT_TRUE(validate(doc, {.full_depth = 1}).is_ok()) << "depth 2 is checked by its bounds only";
  // The bounds are still checked: a nested length past the end, or a missing terminator.
  Bytes overrun = Builder().append_document("d", DocView(sample())).finish();
  std::size_t inner = 4 + 3;
  overrun[inner + 1] = 0x7F;  // nested length ~32 K, past the end
  Status s = validate(overrun, {.full_depth = 1});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.offset(), static_cast<std::int64_t>(inner));
  Bytes unterminated = Builder().append_document("d", DocView(sample())).finish();
  unterminated[unterminated.size() - 2] = 1;  // the nested document's final NUL
  EXPECT_FALSE(validate(unterminated, {.full_depth = 1}).is_ok());
  // find_checked validates the whole document first.
  EXPECT_FALSE(find_checked(doc, "d").is_ok());
  Bytes good = sample();
  auto found = find_checked(good, "a");
  ASSERT_TRUE(found.is_ok());
  EXPECT_EQ(found->as_int32(), 1);
}

TEST(Bson, SizeLimitIsEnforced) {
  Builder b;
  b.append_string("big", std::string(2000, 'x'));
  Bytes doc = b.finish();
  EXPECT_TRUE(validate(doc, {.max_size = 4096}).is_ok());
  EXPECT_FALSE(validate(doc, {.max_size = 1024}).is_ok());
}

TEST(Bson, WalkDocumentsCountsAndFindsBadLengths) {
  Bytes a = sample();
  Bytes buf = a;
  buf.insert(buf.end(), a.begin(), a.end());
  auto n = walk_documents(buf);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 2u);
  buf.resize(buf.size() - 3);  // truncate the second document
  auto bad = walk_documents(buf, 50);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().offset(), 50 + static_cast<std::int64_t>(a.size()));
}

TEST(Bson, Utf8Checks) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));
  EXPECT_FALSE(is_valid_utf8("\xE9"));
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));      // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
}

TEST(Bson, CompareFollowsMongoTypeOrder) {
  auto one = [](auto fn) {
    Builder b;
    fn(b);
    return b.finish();
  };
  Bytes minkey = one([](Builder& b) { b.append_min_key("v"); });
  Bytes null = one([](Builder& b) { b.append_null("v"); });
  Bytes i5 = one([](Builder& b) { b.append_int32("v", 5); });
  Bytes d55 = one([](Builder& b) { b.append_double("v", 5.5); });
  Bytes l6 = one([](Builder& b) { b.append_int64("v", 6); });
  Bytes s = one([](Builder& b) { b.append_string("v", "a"); });
  Bytes doc = one([](Builder& b) { b.open_document("v").close(); });
  Bytes oid = one([](Builder& b) { b.append_object_id("v", ObjectId{}); });
  Bytes maxkey = one([](Builder& b) { b.append_max_key("v"); });
  std::vector<Bytes*> order{&minkey, &null, &i5, &d55, &l6, &s, &doc, &oid, &maxkey};
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    auto a = *DocView(*order[i]).begin();
    auto b = *DocView(*order[i + 1]).begin();
    EXPECT_LT(compare_values(a, b), 0) << i;
    EXPECT_GT(compare_values(b, a), 0) << i;
    EXPECT_EQ(compare_values(a, a), 0) << i;
  }
}

}  // namespace
}  // namespace bsonpipe::formats

namespace bsonpipe::formats {
namespace {

TEST(Bson, Decimal128ComparesByValueAmongNumbers) {
  // 1.5 as decimal128: coefficient 15, exponent -1 (biased 6175).
  Decimal128 one_and_half{15, static_cast<std::uint64_t>(6175) << 49};
  Decimal128 minus_two{2, (static_cast<std::uint64_t>(6176) << 49) | (1ull << 63)};
  Decimal128 nan{0, 0x7C00000000000000ull};
  auto doc = [](auto fn) {
    Builder b;
    fn(b);
    return b.finish();
  };
  Bytes d15 = doc([&](Builder& b) { b.append_decimal128("v", one_and_half); });
  Bytes dm2 = doc([&](Builder& b) { b.append_decimal128("v", minus_two); });
  Bytes dnan = doc([&](Builder& b) { b.append_decimal128("v", nan); });
  Bytes i1 = doc([](Builder& b) { b.append_int32("v", 1); });
  Bytes i2 = doc([](Builder& b) { b.append_int32("v", 2); });
  Bytes dbl = doc([](Builder& b) { b.append_double("v", 1.5); });
  auto e = [](const Bytes& b) { return *DocView(b).begin(); };
  EXPECT_LT(compare_values(e(dm2), e(i1)), 0);
  EXPECT_LT(compare_values(e(i1), e(d15)), 0);
  EXPECT_LT(compare_values(e(d15), e(i2)), 0);
  EXPECT_EQ(compare_values(e(d15), e(dbl)), 0);
  EXPECT_LT(compare_values(e(dnan), e(dm2)), 0) << "NaN sorts below every number";
}

}  // namespace
}  // namespace bsonpipe::formats
