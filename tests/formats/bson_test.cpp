// Unit tests of the BSON view, validator offsets, builder and comparison order.
#include <gtest/gtest.h>

#include "formats/bson.hpp"
#include "tests/support/test_support.hpp"

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

// Every value type's checks, with the exact message and offset of each refusal (also with the
// nested documents checked by their bounds only, and UTF-8 checked). Hex of {"a": <value>}
// documents.
TEST(Bson, ValidatorMessagesForEveryValueTypeExactly) {
  struct Case {
    const char* name;
    const char* hex;
    const char* expected;  // "ok" or the Status text, then " | " and the same with full_depth = 1 and check_utf8
  };
  const Case cases[] = {
      {"double ok", "10000000016100000000000000000000", "ok | ok"},
      {"double short", "0f0000000161000000000000000000",
       "invalid BSON: double value truncated (at offset 14) | invalid BSON: double value truncated (at offset 14)"},
      {"date short", "0b00000009610000000000",
       "invalid BSON: date value truncated (at offset 14) | invalid BSON: date value truncated (at offset 14)"},
      {"timestamp short", "0800000011610000",
       "invalid BSON: timestamp value truncated (at offset 14) | invalid BSON: timestamp value truncated (at offset "
       "14)"},
      {"int64 short", "0f0000001261000000000000000000",
       "invalid BSON: long value truncated (at offset 14) | invalid BSON: long value truncated (at offset 14)"},
      {"int32 ok", "0c0000001061000000000000", "ok | ok"},
      {"int32 short", "0b00000010610000000000",
       "invalid BSON: int value truncated (at offset 14) | invalid BSON: int value truncated (at offset 14)"},
      {"decimal short", "1700000013610000000000000000000000000000000000",
       "invalid BSON: decimal value truncated (at offset 14) | invalid BSON: decimal value truncated (at offset 14)"},
      {"decimal ok", "180000001361000000000000000000000000000000000000", "ok | ok"},
      {"oid short", "13000000076100000000000000000000000000",
       "invalid BSON: objectId value truncated (at offset 14) | invalid BSON: objectId value truncated (at offset 14)"},
      {"null", "080000000a610000", "ok | ok"},
      {"undefined", "0800000006610000", "ok | ok"},
      {"minkey", "08000000ff610000", "ok | ok"},
      {"maxkey", "080000007f610000", "ok | ok"},
      {"bool 1", "090000000861000100", "ok | ok"},
      {"bool 2", "090000000861000200",
       "invalid BSON: boolean value 2 is neither 0 nor 1 (at offset 14) | invalid BSON: boolean value 2 is neither 0 "
       "nor 1 (at offset 14)"},
      {"bool short", "0800000008610000",
       "invalid BSON: bool value truncated (at offset 14) | invalid BSON: bool value truncated (at offset 14)"},
      {"string ok", "0f0000000261000300000068690000", "ok | ok"},
      {"string len 0", "0d000000026100000000000000",
       "invalid BSON: string length 0 is below 1 (at offset 14) | invalid BSON: string length 0 is below 1 (at offset "
       "14)"},
      {"string overrun", "0e00000002610009000000780000",
       "invalid BSON: string length 9 overruns the document (at offset 14) | invalid BSON: string length 9 overruns "
       "the document (at offset 14)"},
      {"string short", "0a000000026100010000",
       "invalid BSON: string length truncated (at offset 14) | invalid BSON: string length truncated (at offset 14)"},
      {"string unterminated", "0e00000002610002000000787900",
       "invalid BSON: string is not NUL-terminated (at offset 19) | invalid BSON: string is not NUL-terminated (at "
       "offset 19)"},
      {"string utf8", "0e00000002610002000000ff0000", "ok | invalid BSON: string is not valid UTF-8 (at offset 18)"},
      {"code ok", "100000000d6100040000006628290000", "ok | ok"},
      {"symbol utf8", "0f0000000e610003000000c0800000", "ok | invalid BSON: string is not valid UTF-8 (at offset 18)"},
      {"doc ok", "140000000361000c000000107800010000000000", "ok | ok"},
      {"array ok", "140000000461000c000000103000010000000000", "ok | ok"},
      {"doc len short", "0a000000036100050000",
       "invalid BSON: embedded document length truncated (at offset 14) | invalid BSON: embedded document length "
       "truncated (at offset 14)"},
      {"doc len 4", "0d000000036100040000000000",
       "invalid BSON: embedded document length 4 overruns its container (at offset 14) | invalid BSON: embedded "
       "document length 4 overruns its container (at offset 14)"},
      {"doc overrun", "1100000003610032000000000000000000",
       "invalid BSON: embedded document length 50 overruns its container (at offset 14) | invalid BSON: embedded "
       "document length 50 overruns its container (at offset 14)"},
      {"doc inner bad", "130000000361000b0000001078000100000000",
       "invalid BSON: int value truncated (at offset 21) | ok"},
      {"doc unterminated", "1100000003610005000000000000000100",
       "invalid BSON: document terminator before the end of the document (at offset 19) | invalid BSON: document "
       "terminator before the end of the document (at offset 19)"},
      {"binary ok", "0f0000000561000200000080616200", "ok | ok"},
      {"binary short", "0c0000000561000000000000",
       "invalid BSON: binary length truncated (at offset 14) | invalid BSON: binary length truncated (at offset 14)"},
      {"binary neg", "0d000000056100ffffffff0000",
       "invalid BSON: binary length -1 overruns the document (at offset 14) | invalid BSON: binary length -1 overruns "
       "the document (at offset 14)"},
      {"binary overrun", "0f0000000561000300000000616200",
       "invalid BSON: binary length 3 overruns the document (at offset 14) | invalid BSON: binary length 3 overruns "
       "the document (at offset 14)"},
      {"binary old ok", "13000000056100060000000202000000616200", "ok | ok"},
      {"binary old short", "10000000056100030000000261626300",
       "invalid BSON: binary subtype 0x02 is shorter than its inner length (at offset 14) | invalid BSON: binary "
       "subtype 0x02 is shorter than its inner length (at offset 14)"},
      {"binary old mismatch", "13000000056100060000000203000000616200",
       "invalid BSON: binary subtype 0x02 inner length 3 disagrees with 2 (at offset 19) | invalid BSON: binary "
       "subtype 0x02 inner length 3 disagrees with 2 (at offset 19)"},
      {"regex ok", "0d0000000b6100616200690000", "ok | ok"},
      {"regex pattern unterminated", "0a0000000b6100616200",
       "invalid BSON: regex pattern is not terminated (at offset 14) | invalid BSON: regex pattern is not terminated "
       "(at offset 14)"},
      {"regex opts unterminated", "0c0000000b61006162006900",
       "invalid BSON: regex options are not terminated (at offset 17) | invalid BSON: regex options are not terminated "
       "(at offset 17)"},
      {"regex utf8", "0b0000000b6100ff000000", "ok | invalid BSON: regex pattern is not valid UTF-8 (at offset 14)"},
      {"regex opts utf8 not checked", "0c0000000b61006100ff0000", "ok | ok"},
      {"dbpointer ok", "1d0000000c61000500000064622e630000000000000000000000000000", "ok | ok"},
      {"dbpointer short oid", "1c0000000c61000500000064622e6300000000000000000000000000",
       "invalid BSON: dbPointer ObjectId truncated (at offset 23) | invalid BSON: dbPointer ObjectId truncated (at "
       "offset 23)"},
      {"dbpointer bad string", "180000000c61000000000000000000000000000000000000",
       "invalid BSON: string length 0 is below 1 (at offset 14) | invalid BSON: string length 0 is below 1 (at offset "
       "14)"},
      {"cws ok", "190000000f6100110000000400000066282900050000000000", "ok | ok"},
      {"cws short", "0b0000000f610001000000",
       "invalid BSON: code with scope length truncated (at offset 14) | invalid BSON: code with scope length truncated "
       "(at offset 14)"},
      {"cws small total", "150000000f61000d00000000000000000000000000",
       "invalid BSON: code with scope length 13 is out of range (at offset 14) | invalid BSON: code with scope length "
       "13 is out of range (at offset 14)"},
      {"cws overrun", "190000000f6100280000000400000066282900050000000000",
       "invalid BSON: code with scope length 40 is out of range (at offset 14) | invalid BSON: code with scope length "
       "40 is out of range (at offset 14)"},
      {"cws bad string", "190000000f6100110000006300000066282900050000000000",
       "invalid BSON: string length 99 overruns the document (at offset 18) | invalid BSON: string length 99 overruns "
       "the document (at offset 18)"},
      {"cws scope short", "180000000f61001000000004000000662829000400000000",
       "invalid BSON: code with scope: scope document does not fill the rest of the value (at offset 26) | invalid "
       "BSON: code with scope: scope document does not fill the rest of the value (at offset 26)"},
      {"cws scope len mismatch", "1a0000000f610012000000040000006628290005000000000000",
       "invalid BSON: code with scope: scope document does not fill the rest of the value (at offset 26) | invalid "
       "BSON: code with scope: scope document does not fill the rest of the value (at offset 26)"},
      {"cws scope inner bad", "1d0000000f610015000000040000006628290009000000087800030000",
       "invalid BSON: boolean value 3 is neither 0 nor 1 (at offset 33) | invalid BSON: boolean value 3 is neither 0 "
       "nor 1 (at offset 33)"},
      {"cws scope ok nested", "200000000f61001800000004000000662829000c000000107800010000000000", "ok | ok"},
      {"cws code utf8", "170000000f61000f00000002000000ff00050000000000",
       "ok | invalid BSON: string is not valid UTF-8 (at offset 22)"},
      {"key utf8", "080000000aff0000", "ok | invalid BSON: key is not valid UTF-8 (at offset 12)"},
      {"unknown type", "0800000014610000",
       "invalid BSON: unknown BSON type 0x14 (at offset 11) | invalid BSON: unknown BSON type 0x14 (at offset 11)"},
      {"deprecated 0x0E ok", "0e0000000e610002000000780000", "ok | ok"},
  };
  for (const auto& c : cases) {
    const Bytes doc = test::from_hex(c.hex);
    Status all = validate(doc, {}, 7);
    Status bounds = validate(doc, {.check_utf8 = true, .full_depth = 1}, 7);
    const std::string got =
        (all ? std::string("ok") : all.to_string()) + " | " + (bounds ? std::string("ok") : bounds.to_string());
    EXPECT_EQ(got, c.expected) << c.name;
  }
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
