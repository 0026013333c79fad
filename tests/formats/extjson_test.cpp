// Extended JSON units beyond the corpus: the legacy/shell forms mongodump --query takes, error
// offsets, the writer's exact output (compact, indented, relaxed numbers and dates), Decimal128.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "formats/decimal128.hpp"
#include "formats/extjson.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats::extjson {
namespace {

using test::to_hex;

const ParseOptions kStrict{.allow_legacy = false};
const WriteOptions kRelaxed{.mode = Mode::kRelaxed};

// Parses `json` and returns its canonical Extended JSON, or "error: ..." .
std::string canon(std::string_view json, const ParseOptions& opts = {}) {
  auto r = parse(json, opts);
  if (!r) return "error: " + r.status().to_string();
  EXPECT_TRUE(validate(*r).is_ok());
  return to_json(DocView(*r));
}

std::int64_t error_offset(std::string_view json, const ParseOptions& opts = {}) {
  auto r = parse(json, opts);
  EXPECT_FALSE(r.is_ok()) << json << " was accepted";
  if (r.is_ok()) return -2;
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidJson);
  return r.status().offset();
}

TEST(ExtJsonLegacy, ShellConstructors) {
  EXPECT_EQ(canon(R"({"a": ObjectId("56e1fc72e0c917e9c4714161")})"), R"({"a":{"$oid":"56e1fc72e0c917e9c4714161"}})");
  EXPECT_EQ(canon(R"({"a": ISODate("2012-12-24T12:15:30.501Z")})"),
            R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(canon(R"({"a": new Date(1356351330501)})"), R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(canon(R"({"a": Date(-1)})"), R"({"a":{"$date":{"$numberLong":"-1"}}})");
  EXPECT_EQ(canon(R"({"a": NumberLong(42), "b": NumberLong("-9223372036854775808")})"),
            R"({"a":{"$numberLong":"42"},"b":{"$numberLong":"-9223372036854775808"}})");
  EXPECT_EQ(canon(R"({"a": NumberInt(7)})"), R"({"a":{"$numberInt":"7"}})");
  EXPECT_EQ(canon(R"({"a": NumberDecimal("1.50")})"), R"({"a":{"$numberDecimal":"1.50"}})");
  EXPECT_EQ(canon(R"({"a": Timestamp(1, 2)})"), R"({"a":{"$timestamp":{"t":1,"i":2}}})");
  EXPECT_EQ(canon(R"({"a": BinData(0, "//8=")})"), R"({"a":{"$binary":{"base64":"//8=","subType":"00"}}})");
  EXPECT_EQ(canon(R"({"a": UUID("73ffd264-44b3-4c69-90e8-e7d1dfc035d4")})"),
            R"({"a":{"$binary":{"base64":"c//SZESzTGmQ6OfR38A11A==","subType":"04"}}})");
  EXPECT_EQ(canon(R"({"a": MinKey, "b": MaxKey(), "c": undefined})"),
            R"({"a":{"$minKey":1},"b":{"$maxKey":1},"c":{"$undefined":true}})");
  // Inside arrays and nested documents too, with bare keys and single quotes as the shell writes.
  EXPECT_EQ(canon(R"({_id: {$gte: ObjectId('56e1fc72e0c917e9c4714161')}, tags: [NumberInt(1), 'x']})"),
            R"({"_id":{"$gte":{"$oid":"56e1fc72e0c917e9c4714161"}},"tags":[{"$numberInt":"1"},"x"]})");
}

TEST(ExtJsonLegacy, LegacyWrappers) {
  EXPECT_EQ(canon(R"({"a": {"$date": 1356351330501}})"), R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(canon(R"({"a": {"$date": 0}})"), R"({"a":{"$date":{"$numberLong":"0"}}})");
  EXPECT_EQ(canon(R"({"a": {"$date": 1.356351330501e12}})"), R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(error_offset(R"({"a": {"$date": 1.5}})"), 16);
  EXPECT_EQ(canon(R"({"a": {"$date": "2012-12-24T12:15:30.501Z"}})", kStrict),
            R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(canon(R"({"a": {"$date": "2012-12-24T13:15:30.501+01:00"}})"),
            R"({"a":{"$date":{"$numberLong":"1356351330501"}}})");
  EXPECT_EQ(canon(R"({"a": {"$date": "1969-12-31T23:59:59.999Z"}})"), R"({"a":{"$date":{"$numberLong":"-1"}}})");
  EXPECT_EQ(canon(R"({"a": {"$binary": "//8=", "$type": "80"}})", kStrict),
            R"({"a":{"$binary":{"base64":"//8=","subType":"80"}}})");
  EXPECT_EQ(canon(R"({"a": {"$type": "00", "$binary": ""}})"), R"({"a":{"$binary":{"base64":"","subType":"00"}}})");
  EXPECT_EQ(canon(R"({"name": {"$regex": "^a", "$options": "mi"}})", kStrict),
            R"({"name":{"$regularExpression":{"pattern":"^a","options":"im"}}})");
  // Query operators that only look like wrappers stay documents.
  EXPECT_EQ(canon(R"({"name": {"$regex": "^a"}})"), R"({"name":{"$regex":"^a"}})");
  EXPECT_EQ(canon(R"({"x": {"$type": "string"}})"), R"({"x":{"$type":"string"}})");
  EXPECT_EQ(canon(R"({"x": {"$in": [1, 2]}})"), R"({"x":{"$in":[{"$numberInt":"1"},{"$numberInt":"2"}]}})");
  EXPECT_EQ(canon(R"({"$and": [{"a": {"$gt": 1}}]})"), R"({"$and":[{"a":{"$gt":{"$numberInt":"1"}}}]})");
  // DBRef is an ordinary document.
  EXPECT_EQ(canon(R"({"r": {"$ref": "c", "$id": 5}})"), R"({"r":{"$ref":"c","$id":{"$numberInt":"5"}}})");
}

TEST(ExtJsonLegacy, StrictModeRefusesLegacyOnlyForms) {
  EXPECT_EQ(error_offset(R"({"a": ObjectId("56e1fc72e0c917e9c4714161")})", kStrict), 6);
  EXPECT_EQ(error_offset(R"({"a": {"$date": 42}})", kStrict), 16);
  EXPECT_EQ(error_offset(R"({a: 1})", kStrict), 1);
  EXPECT_EQ(error_offset(R"({"a": 'x'})", kStrict), 6);
}

TEST(ExtJsonParse, RelaxedNumbersPickTheNarrowestType) {
  auto r = parse(R"({"i": 1, "l": 2147483648, "n": -2147483648, "d": 1.0, "e": 1E+06, "big": 9223372036854775808})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  DocView d(*r);
  EXPECT_EQ(d.find("i").type(), BsonType::kInt32);
  EXPECT_EQ(d.find("l").type(), BsonType::kInt64);
  EXPECT_EQ(d.find("n").type(), BsonType::kInt32);
  EXPECT_EQ(d.find("d").type(), BsonType::kDouble);
  EXPECT_EQ(d.find("e").as_double(), 1e6);
  EXPECT_EQ(d.find("big").type(), BsonType::kDouble);
}

TEST(ExtJsonParse, StringsAndEscapes) {
  auto r = parse(R"({"s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(DocView(*r).find("s").as_string(), "a\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
  // Embedded NUL is fine in a string value, not in a key.
  auto nul = parse(R"({"s": "a\u0000b"})");
  ASSERT_TRUE(nul.is_ok());
  EXPECT_EQ(DocView(*nul).find("s").as_string(), std::string_view("a\0b", 3));
  EXPECT_EQ(error_offset(R"({"a\u0000": 1})"), 1);
}

TEST(ExtJsonParse, ErrorsCarryTheByteOffset) {
  EXPECT_EQ(error_offset(""), 0);
  EXPECT_EQ(error_offset("[1]"), 0);
  EXPECT_EQ(error_offset(R"({"a": 1,})"), 8);
  EXPECT_EQ(error_offset(R"({"a": 1 "b": 2})"), 8);
  EXPECT_EQ(error_offset(R"({"a": tru})"), 6);
  EXPECT_EQ(error_offset(R"({"a": tru})", kStrict), 6);
  EXPECT_EQ(error_offset(R"({"a": ObjectId(42)})"), 6);
  EXPECT_EQ(error_offset(R"({"a": ObjectId("56e1fc72e0c917e9c4714161"})"), 41);
  EXPECT_EQ(error_offset(R"({"a": "x)"), 6);
  EXPECT_EQ(error_offset(R"({"a": 01})"), 6);
  EXPECT_EQ(error_offset(R"({"a": 1.})"), 8);
  EXPECT_EQ(error_offset(R"({"a": -})"), 7);
  EXPECT_EQ(error_offset(R"({"a": "\x"})"), 8);
  EXPECT_EQ(error_offset(R"({"a": "\ud800"})"), 13);
  EXPECT_EQ(error_offset("{\"a\": \"\x01\"}"), 7);
  EXPECT_EQ(error_offset("{\"a\": \"\xff\"}"), 6);
  EXPECT_EQ(error_offset(R"({} x)"), 3);
  EXPECT_EQ(error_offset(R"({"a": 1e999})"), 6);
  EXPECT_EQ(error_offset(R"({"a": {"$oid": 42}})"), 15);
  EXPECT_EQ(error_offset(R"({"a": {"$oid": "56e1fc72e0c917e9c471416"}})"), 15);
  EXPECT_EQ(error_offset(R"({"a": {"$numberInt": "2147483648"}})"), 21);
  EXPECT_EQ(error_offset(R"({"a": {"$numberLong": "1", "x": 1}})"), 6);
  EXPECT_EQ(error_offset(R"({"a": {"$binary": {"base64": "//8", "subType": "00"}}})"), 18);
  EXPECT_EQ(error_offset(R"({"a": NumberInt(99999999999)})"), 6);
  std::string deep(300, '[');
  deep = "{\"a\":" + deep + std::string(300, ']') + "}";
  EXPECT_GT(error_offset(deep), 0);

  auto r = parse(R"({"a": 1,})");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().to_string().find("(at offset 8)"), std::string::npos) << r.status().to_string();
}

Bytes sample_document() {
  Builder b;
  b.append_int32("i", 1);
  b.append_int64("l", 2);
  b.append_double("d", 0.5);
  b.append_string("s", "x\ty");
  b.open_array("arr");
  b.append_bool(b.next_array_key(), true);
  b.append_null(b.next_array_key());
  b.close();
  b.open_document("sub");
  b.close();
  b.append_datetime("t", 1356351330500);
  return b.finish();
}

TEST(ExtJsonWrite, CompactCanonicalAndRelaxed) {
  const Bytes doc = sample_document();
  EXPECT_EQ(to_json(DocView(doc)),
            R"({"i":{"$numberInt":"1"},"l":{"$numberLong":"2"},"d":{"$numberDouble":"0.5"},"s":"x\ty",)"
            R"("arr":[true,null],"sub":{},"t":{"$date":{"$numberLong":"1356351330500"}}})");
  EXPECT_EQ(to_json(DocView(doc), kRelaxed),
            R"({"i":1,"l":2,"d":0.5,"s":"x\ty","arr":[true,null],"sub":{},"t":{"$date":"2012-12-24T12:15:30.500Z"}})");
  std::string appended = "prefix ";
  append_json(appended, DocView(doc), kRelaxed);
  EXPECT_EQ(appended.rfind("prefix {\"i\":1,", 0), 0u);
}

TEST(ExtJsonWrite, Indented) {
  Builder b;
  b.append_int32("a", 1);
  b.open_array("b");
  b.append_int32(b.next_array_key(), 2);
  b.close();
  b.open_document("c");
  b.close();
  const Bytes doc = b.finish();
  EXPECT_EQ(to_json(DocView(doc), WriteOptions{.mode = Mode::kRelaxed, .indent = 2}),
            "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {}\n}");
}

TEST(ExtJsonWrite, ArrayAtTopLevel) {
  Builder b;
  b.open_array("x");
  b.append_string(b.next_array_key(), "a");
  b.append_int32(b.next_array_key(), 3);
  b.close();
  const Bytes doc = b.finish();
  std::string out;
  append_json_array(out, DocView(doc).find("x").as_document());
  EXPECT_EQ(out, R"(["a",{"$numberInt":"3"}])");
}

std::string relaxed_double(double v) {
  Builder b;
  b.append_double("d", v);
  const Bytes doc = b.finish();
  std::string s = to_json(DocView(doc), kRelaxed);
  return s.substr(5, s.size() - 6);
}

TEST(ExtJsonWrite, DoubleFormatting) {
  EXPECT_EQ(relaxed_double(1.0), "1.0");
  EXPECT_EQ(relaxed_double(-0.0), "-0.0");
  EXPECT_EQ(relaxed_double(0.1), "0.1");
  EXPECT_EQ(relaxed_double(123456.0), "123456.0");
  EXPECT_EQ(relaxed_double(1e6), "1E+06");
  EXPECT_EQ(relaxed_double(1234567.0), "1.234567E+06");
  EXPECT_EQ(relaxed_double(0.0001), "0.0001");
  EXPECT_EQ(relaxed_double(1e-5), "1E-05");
  EXPECT_EQ(relaxed_double(1e300), "1E+300");
  EXPECT_EQ(relaxed_double(std::numeric_limits<double>::infinity()), R"({"$numberDouble":"Infinity"})");
  // Every value prints in a form that parses back to the same bits.
  const double samples[] = {0.1,      1.0 / 3, 2.5e-308,   4.9e-324,          1.7976931348623157e308,
                            -123.456, 1e21,    1e15 + 0.5, 9007199254740993.0};
  for (double v : samples) {
    Builder b;
    b.append_double("d", v);
    const Bytes doc = b.finish();
    for (const auto& opts : {WriteOptions{}, kRelaxed}) {
      auto back = parse(to_json(DocView(doc), opts));
      ASSERT_TRUE(back.is_ok()) << back.status().to_string();
      const double got = DocView(*back).find("d").as_double();
      EXPECT_EQ(std::memcmp(&got, &v, sizeof v), 0) << relaxed_double(v);
    }
  }
}

TEST(ExtJsonWrite, RelaxedDatesOutsideIsoRangeStayCanonical) {
  auto date_json = [](std::int64_t ms) {
    Builder b;
    b.append_datetime("t", ms);
    const Bytes doc = b.finish();
    return to_json(DocView(doc), kRelaxed);
  };
  EXPECT_EQ(date_json(-1), R"({"t":{"$date":{"$numberLong":"-1"}}})");
  EXPECT_EQ(date_json(0), R"({"t":{"$date":"1970-01-01T00:00:00Z"}})");
  EXPECT_EQ(date_json(253402300799999), R"({"t":{"$date":"9999-12-31T23:59:59.999Z"}})");
  EXPECT_EQ(date_json(253402300800000), R"({"t":{"$date":{"$numberLong":"253402300800000"}}})");
  // Leap day, and the relaxed form parses back to the same instant.
  const std::string leap = date_json(951782400007);
  EXPECT_EQ(leap, R"({"t":{"$date":"2000-02-29T00:00:00.007Z"}})");
  auto back = parse(leap, kStrict);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(DocView(*back).find("t").as_datetime(), 951782400007);
}

TEST(Decimal128String, RoundTripsAndRejects) {
  for (std::string_view s : {"0", "-0", "1.50", "1E+3", "-1.00E-8", "0.000001234", "1.234E-7", "NaN", "-Infinity",
                             "9.999999999999999999999999999999999E+6144", "1E-6176"}) {
    auto d = decimal128_from_string(s);
    ASSERT_TRUE(d.is_ok()) << s << ": " << d.status().to_string();
    EXPECT_EQ(decimal128_to_string(*d), s);
  }
  auto one = decimal128_from_string("1");
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->low, 1u);
  EXPECT_EQ(one->high, 0x3040000000000000u);
  EXPECT_EQ(decimal128_to_string(*decimal128_from_string("1e6112")), "1.0E+6112");  // clamped, exact
  EXPECT_FALSE(decimal128_from_string("1E-6177").is_ok());                          // would round
  EXPECT_FALSE(decimal128_from_string("1e6145").is_ok());                           // overflow
  auto bad = decimal128_from_string("12x");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().offset(), 2);
}

}  // namespace
}  // namespace bsonpipe::formats::extjson
