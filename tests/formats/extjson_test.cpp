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

// ---- exact results of every wrapper and shell form, and of the writer for every type -------------

// What a case gives: the canonical Extended JSON or "error: ..." (L: legacy forms allowed, S:
// strict), or for W the writer's relaxed indented, canonical indented and relaxed compact texts.
std::string golden(char mode, std::string_view json) {
  if (mode == 'L') return canon(json);
  if (mode == 'S') return canon(json, kStrict);
  auto r = parse(json);
  if (!r) return "error: " + r.status().to_string();
  return to_json(DocView(*r), WriteOptions{.mode = Mode::kRelaxed, .indent = 2}) + "|" +
         to_json(DocView(*r), WriteOptions{.mode = Mode::kCanonical, .indent = 1}) + "|" +
         to_json(DocView(*r), kRelaxed);
}

TEST(ExtJsonGolden, EveryWrapperShellFormAndWriterTypeExactly) {
  struct Case {
    char mode;
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {'L', "{\"a\": {\"$regex\": \"^a\", \"$options\": 1}}",
       "{\"a\":{\"$regex\":\"^a\",\"$options\":{\"$numberInt\":\"1\"}}}"},
      {'L', "{\"a\": {\"$regex\": \"^a\", \"$options\": \"x\", \"$z\": 1}}",
       "{\"a\":{\"$regex\":\"^a\",\"$options\":\"x\",\"$z\":{\"$numberInt\":\"1\"}}}"},
      {'L', "{\"a\": {\"$options\": \"mi\", \"$regex\": \"^a\"}}",
       "{\"a\":{\"$regularExpression\":{\"pattern\":\"^a\",\"options\":\"im\"}}}"},
      {'L', "{\"a\": {\"$regex\": \"a\\u0000\", \"$options\": \"i\"}}",
       "error: NUL character in a regular expression (at offset 6)"},
      {'L', "{\"a\": {\"$foo\": 1, \"$bar\": [2]}}",
       "{\"a\":{\"$foo\":{\"$numberInt\":\"1\"},\"$bar\":[{\"$numberInt\":\"2\"}]}}"},
      {'L', "{\"a\": {\"$foo\": 1, \"$oid\": \"56e1fc72e0c917e9c4714161\"}}",
       "error: unexpected extra key in $oid wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$code\": \"f()\"}}", "{\"a\":{\"$code\":\"f()\"}}"},
      {'L', "{\"a\": {\"$code\": 1}}", "error: invalid $code: expected a string (at offset 16)"},
      {'L', "{\"a\": {\"$code\": ObjectId(\"56e1fc72e0c917e9c4714161\")}}",
       "error: invalid $code: expected a string (at offset 16)"},
      {'L', "{\"a\": {\"$code\": \"f()\", \"$scope\": {\"x\": 1}}}",
       "{\"a\":{\"$code\":\"f()\",\"$scope\":{\"x\":{\"$numberInt\":\"1\"}}}}"},
      {'L', "{\"a\": {\"$scope\": {\"x\": 1}, \"$code\": \"f()\"}}",
       "{\"a\":{\"$code\":\"f()\",\"$scope\":{\"x\":{\"$numberInt\":\"1\"}}}}"},
      {'L', "{\"a\": {\"$code\": \"f()\", \"$scope\": 1}}", "error: invalid $scope: expected a document (at offset 6)"},
      {'L', "{\"a\": {\"$code\": \"f()\", \"$other\": {}}}",
       "error: unexpected extra key in $code wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$code\": \"f()\", \"$scope\": {}, \"$x\": 1}}",
       "error: unexpected extra key in $code wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"05\"}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"05\"}}}"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"2\"}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"02\"}}}"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$subType\": \"05\"}}",
       "error: unexpected extra key in $binary wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$binary\": 1, \"$type\": \"05\"}}",
       "error: invalid $binary: legacy form needs string $binary and $type (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": 5}}",
       "error: invalid $binary: legacy form needs string $binary and $type (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"5g\"}}",
       "error: invalid $binary: subType must be hex (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"\"}}",
       "error: invalid $binary: subType must be 1 or 2 hex digits (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"123\"}}",
       "error: invalid $binary: subType must be 1 or 2 hex digits (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI\", \"$type\": \"00\"}}", "error: invalid $binary: bad base64 (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"02\"}}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"02\"}}}"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"80\"}}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"80\"}}}"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"\", \"subType\": \"0\"}}}",
       "{\"a\":{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}}}"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"zz\"}}}",
       "error: invalid $binary: subType must be hex (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"A=I=\", \"subType\": \"00\"}}}",
       "error: invalid $binary: bad base64 (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": \"AQI=\"}}", "error: invalid $binary: expected a document (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\"}}}",
       "error: invalid $binary: expected exactly \"base64\" and \"subType\" (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\", \"x\": 1}}}",
       "error: invalid $binary: expected exactly \"base64\" and \"subType\" (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": 1, \"subType\": \"00\"}}}",
       "error: invalid $binary: \"base64\" and \"subType\" must be strings (at offset 18)"},
      {'L', "{\"a\": {\"$binary\": {\"subType\": \"00\", \"base64\": \"AQI=\"}}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"00\"}}}"},
      {'L', "{\"a\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"00\"}, \"$x\": 1, \"$y\": 2}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"00\"}}}"},
      {'L', "{\"a\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}}", "{\"a\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}"},
      {'L', "{\"a\": {\"$oid\": \"56E1FC72E0C917E9C4714161\"}}", "{\"a\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}"},
      {'L', "{\"a\": {\"$oid\": \"56e1fc72e0c917e9c471416g\"}}",
       "error: invalid $oid: expected a string of 24 hex digits (at offset 15)"},
      {'L', "{\"a\": {\"$oid\": 5}}", "error: invalid $oid: expected a string of 24 hex digits (at offset 15)"},
      {'L', "{\"a\": {\"$oid\": \"56e1fc72e0c917e9c4714161\", \"$x\": 1}}",
       "error: unexpected extra key in $oid wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$symbol\": \"s\"}}", "{\"a\":{\"$symbol\":\"s\"}}"},
      {'L', "{\"a\": {\"$symbol\": 1}}", "error: invalid $symbol: expected a string (at offset 18)"},
      {'L', "{\"a\": {\"$symbol\": NumberInt(1)}}", "error: invalid $symbol: expected a string (at offset 18)"},
      {'L', "{\"a\": {\"$numberInt\": \"-2147483648\"}}", "{\"a\":{\"$numberInt\":\"-2147483648\"}}"},
      {'L', "{\"a\": {\"$numberInt\": 5}}", "error: invalid $numberInt: expected an int32 string (at offset 21)"},
      {'L', "{\"a\": {\"$numberInt\": \"5.0\"}}", "error: invalid $numberInt: expected an int32 string (at offset 21)"},
      {'L', "{\"a\": {\"$numberInt\": \"\"}}", "error: invalid $numberInt: expected an int32 string (at offset 21)"},
      {'L', "{\"a\": {\"$numberLong\": \"-9223372036854775808\"}}",
       "{\"a\":{\"$numberLong\":\"-9223372036854775808\"}}"},
      {'L', "{\"a\": {\"$numberLong\": \"9223372036854775808\"}}",
       "error: invalid $numberLong: expected an int64 string (at offset 22)"},
      {'L', "{\"a\": {\"$numberLong\": 5}}", "error: invalid $numberLong: expected an int64 string (at offset 22)"},
      {'L', "{\"a\": {\"$numberDouble\": \"1.5\"}}", "{\"a\":{\"$numberDouble\":\"1.5\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": \"-1.0e+10\"}}", "{\"a\":{\"$numberDouble\":\"-1E+10\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": \"Infinity\"}}", "{\"a\":{\"$numberDouble\":\"Infinity\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": \"-Infinity\"}}", "{\"a\":{\"$numberDouble\":\"-Infinity\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": \"NaN\"}}", "{\"a\":{\"$numberDouble\":\"NaN\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": \"inf\"}}",
       "error: invalid $numberDouble: expected a double string (at offset 24)"},
      {'L', "{\"a\": {\"$numberDouble\": \"-0.0\"}}", "{\"a\":{\"$numberDouble\":\"-0.0\"}}"},
      {'L', "{\"a\": {\"$numberDouble\": 1.5}}",
       "error: invalid $numberDouble: expected a double string (at offset 24)"},
      {'L', "{\"a\": {\"$numberDouble\": \"1.5x\"}}",
       "error: invalid $numberDouble: expected a double string (at offset 24)"},
      {'L', "{\"a\": {\"$numberDecimal\": \"1.50\"}}", "{\"a\":{\"$numberDecimal\":\"1.50\"}}"},
      {'L', "{\"a\": {\"$numberDecimal\": \"12x\"}}",
       "error: invalid $numberDecimal: invalid Decimal128 string: unexpected character (at offset 25)"},
      {'L', "{\"a\": {\"$numberDecimal\": 1}}",
       "error: invalid $numberDecimal: expected a Decimal128 string (at offset 25)"},
      {'L', "{\"a\": {\"$uuid\": \"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}}",
       "{\"a\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"04\"}}}"},
      {'L', "{\"a\": {\"$uuid\": \"73ffd26444b34c6990e8e7d1dfc035d4\"}}",
       "error: invalid $uuid: expected a UUID string like 00112233-4455-6677-8899-aabbccddeeff (at offset 16)"},
      {'L', "{\"a\": {\"$uuid\": 1}}",
       "error: invalid $uuid: expected a UUID string like 00112233-4455-6677-8899-aabbccddeeff (at offset 16)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 2}}}", "{\"a\":{\"$timestamp\":{\"t\":1,\"i\":2}}}"},
      {'L', "{\"a\": {\"$timestamp\": {\"i\": 2, \"t\": 4294967295}}}",
       "{\"a\":{\"$timestamp\":{\"t\":4294967295,\"i\":2}}}"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": 4294967296, \"i\": 2}}}",
       "error: invalid $timestamp: expected {\"t\": <uint32>, \"i\": <uint32>} (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": -1, \"i\": 2}}}",
       "error: invalid $timestamp: expected {\"t\": <uint32>, \"i\": <uint32>} (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": 1.0, \"i\": 2}}}",
       "error: invalid $timestamp: expected {\"t\": <uint32>, \"i\": <uint32>} (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": 1}}}",
       "error: invalid $timestamp: expected {\"t\": <uint32>, \"i\": <uint32>} (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 2, \"x\": 3}}}",
       "error: invalid $timestamp: expected {\"t\": <uint32>, \"i\": <uint32>} (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": 1}}", "error: invalid $timestamp: expected a document (at offset 21)"},
      {'L', "{\"a\": {\"$timestamp\": {\"t\": NumberLong(3), \"i\": 2}}}",
       "{\"a\":{\"$timestamp\":{\"t\":3,\"i\":2}}}"},
      {'L', "{\"a\": {\"$regularExpression\": {\"pattern\": \"^a\", \"options\": \"xmi\"}}}",
       "{\"a\":{\"$regularExpression\":{\"pattern\":\"^a\",\"options\":\"imx\"}}}"},
      {'L', "{\"a\": {\"$regularExpression\": {\"options\": \"\", \"pattern\": \"\"}}}",
       "{\"a\":{\"$regularExpression\":{\"pattern\":\"\",\"options\":\"\"}}}"},
      {'L', "{\"a\": {\"$regularExpression\": {\"pattern\": \"^a\"}}}",
       "error: invalid $regularExpression: expected exactly \"pattern\" and \"options\" (at offset 29)"},
      {'L', "{\"a\": {\"$regularExpression\": {\"pattern\": 1, \"options\": \"\"}}}",
       "error: invalid $regularExpression: \"pattern\" and \"options\" must be strings (at offset 29)"},
      {'L', "{\"a\": {\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\\u0000\"}}}",
       "error: NUL character in a regular expression (at offset 29)"},
      {'L', "{\"a\": {\"$regularExpression\": \"^a\"}}",
       "error: invalid $regularExpression: expected a document (at offset 29)"},
      {'L', "{\"a\": {\"$dbPointer\": {\"$ref\": \"db.c\", \"$id\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}}}}",
       "{\"a\":{\"$dbPointer\":{\"$ref\":\"db.c\",\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}}}"},
      {'L', "{\"a\": {\"$dbPointer\": {\"$ref\": \"db.c\", \"$id\": \"56e1fc72e0c917e9c4714161\"}}}",
       "error: invalid $dbPointer: expected a string $ref and an ObjectId $id (at offset 21)"},
      {'L', "{\"a\": {\"$dbPointer\": {\"$ref\": \"db.c\"}}}",
       "error: invalid $dbPointer: expected exactly \"$ref\" and \"$id\" (at offset 21)"},
      {'L', "{\"a\": {\"$dbPointer\": 1}}", "error: invalid $dbPointer: expected a document (at offset 21)"},
      {'L', "{\"a\": {\"$dbPointer\": {\"$ref\": 1, \"$id\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}}}}",
       "error: invalid $dbPointer: expected a string $ref and an ObjectId $id (at offset 21)"},
      {'L', "{\"a\": {\"$date\": {\"$numberLong\": \"-5\"}}}", "{\"a\":{\"$date\":{\"$numberLong\":\"-5\"}}}"},
      {'L', "{\"a\": {\"$date\": {\"$numberInt\": \"5\"}}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'L', "{\"a\": {\"$date\": \"2012-12-24\"}}", "{\"a\":{\"$date\":{\"$numberLong\":\"1356307200000\"}}}"},
      {'L', "{\"a\": {\"$date\": \"2012-12-24T12:15Z\"}}", "{\"a\":{\"$date\":{\"$numberLong\":\"1356351300000\"}}}"},
      {'L', "{\"a\": {\"$date\": \"2012-12-24 12:15:30-0130\"}}",
       "{\"a\":{\"$date\":{\"$numberLong\":\"1356356730000\"}}}"},
      {'L', "{\"a\": {\"$date\": \"2012-02-30T00:00:00Z\"}}",
       "error: invalid $date: expected an ISO-8601 date (at offset 16)"},
      {'L', "{\"a\": {\"$date\": \"2012-12-24T12:15:30.\"}}",
       "error: invalid $date: expected an ISO-8601 date (at offset 16)"},
      {'L', "{\"a\": {\"$date\": \"yesterday\"}}", "error: invalid $date: expected an ISO-8601 date (at offset 16)"},
      {'L', "{\"a\": {\"$date\": 5}}", "{\"a\":{\"$date\":{\"$numberLong\":\"5\"}}}"},
      {'L', "{\"a\": {\"$date\": 5000000000}}", "{\"a\":{\"$date\":{\"$numberLong\":\"5000000000\"}}}"},
      {'L', "{\"a\": {\"$date\": 1.5e3}}", "{\"a\":{\"$date\":{\"$numberLong\":\"1500\"}}}"},
      {'L', "{\"a\": {\"$date\": 1e19}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'L', "{\"a\": {\"$date\": -1.0}}", "{\"a\":{\"$date\":{\"$numberLong\":\"-1\"}}}"},
      {'L', "{\"a\": {\"$date\": true}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'L', "{\"a\": {\"$date\": [1]}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'L', "{\"a\": {\"$date\": ISODate(\"2012-12-24T12:15:30.501Z\")}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'S', "{\"a\": {\"$date\": 5}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'S', "{\"a\": {\"$date\": 5000000000}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'S', "{\"a\": {\"$date\": 1.5e3}}",
       "error: invalid $date: expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string (at offset 16)"},
      {'S', "{\"a\": {\"$date\": \"2012-12-24T12:15:30.501Z\"}}",
       "{\"a\":{\"$date\":{\"$numberLong\":\"1356351330501\"}}}"},
      {'S', "{\"a\": {\"$date\": {\"$numberLong\": \"1\"}}}", "{\"a\":{\"$date\":{\"$numberLong\":\"1\"}}}"},
      {'L', "{\"a\": {\"$minKey\": 1}}", "{\"a\":{\"$minKey\":1}}"},
      {'L', "{\"a\": {\"$maxKey\": 1}}", "{\"a\":{\"$maxKey\":1}}"},
      {'L', "{\"a\": {\"$minKey\": 2}}", "error: invalid $minKey: expected the number 1 (at offset 18)"},
      {'L', "{\"a\": {\"$maxKey\": \"1\"}}", "error: invalid $maxKey: expected the number 1 (at offset 18)"},
      {'L', "{\"a\": {\"$minKey\": 1.0}}", "error: invalid $minKey: expected the number 1 (at offset 18)"},
      {'L', "{\"a\": {\"$maxKey\": NumberInt(1)}}", "error: invalid $maxKey: expected the number 1 (at offset 18)"},
      {'L', "{\"a\": {\"$undefined\": true}}", "{\"a\":{\"$undefined\":true}}"},
      {'L', "{\"a\": {\"$undefined\": false}}", "error: invalid $undefined: expected true (at offset 21)"},
      {'L', "{\"a\": {\"$undefined\": 1}}", "error: invalid $undefined: expected true (at offset 21)"},
      {'L', "{\"a\": {\"$undefined\": true, \"$x\": 1}}",
       "error: unexpected extra key in $undefined wrapper (at offset 6)"},
      {'L', "{\"a\": {\"$numberLong\": \"1\", \"$numberInt\": \"1\"}}",
       "error: unexpected extra key in $numberLong wrapper (at offset 6)"},
      {'S', "{\"a\": {\"$numberLong\": \"1\", \"$numberInt\": \"1\"}}",
       "error: unexpected extra key in $numberLong wrapper (at offset 6)"},
      {'S', "{\"a\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}}", "{\"a\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}"},
      {'S', "{\"a\": {\"$binary\": \"AQI=\", \"$type\": \"05\"}}",
       "{\"a\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"05\"}}}"},
      {'S', "{\"a\": {\"$regex\": \"^a\", \"$options\": \"i\"}}",
       "{\"a\":{\"$regularExpression\":{\"pattern\":\"^a\",\"options\":\"i\"}}}"},
      {'L', "{\"a\": [{\"$numberInt\": \"1\"}, {\"$oid\": 1}]}",
       "error: invalid $oid: expected a string of 24 hex digits (at offset 37)"},
      {'L', "{\"a\": {\"b\": {\"$numberLong\": \"x\"}}}",
       "error: invalid $numberLong: expected an int64 string (at offset 28)"},
      {'L', "{\"a\": new Date(5)}", "{\"a\":{\"$date\":{\"$numberLong\":\"5\"}}}"},
      {'L', "{\"a\": new ISODate(\"2012-12-24T12:15:30.501Z\")}",
       "{\"a\":{\"$date\":{\"$numberLong\":\"1356351330501\"}}}"},
      {'L', "{\"a\": new NumberLong(5)}", "error: expected Date after 'new' (at offset 10)"},
      {'L', "{\"a\": new  Date(5)}", "{\"a\":{\"$date\":{\"$numberLong\":\"5\"}}}"},
      {'L', "{\"a\": new}", "error: expected Date after 'new' (at offset 9)"},
      {'L', "{\"a\": undefined}", "{\"a\":{\"$undefined\":true}}"},
      {'L', "{\"a\": undefined()}", "error: expected ',' or '}' (at offset 15)"},
      {'L', "{\"a\": MinKey}", "{\"a\":{\"$minKey\":1}}"},
      {'L', "{\"a\": MaxKey}", "{\"a\":{\"$maxKey\":1}}"},
      {'L', "{\"a\": MinKey()}", "{\"a\":{\"$minKey\":1}}"},
      {'L', "{\"a\": MaxKey( )}", "{\"a\":{\"$maxKey\":1}}"},
      {'L', "{\"a\": MinKey(1)}", "error: MinKey takes no arguments (at offset 6)"},
      {'L', "{\"a\": MaxKey(\"x\", 2)}", "error: MaxKey takes no arguments (at offset 6)"},
      {'L', "{\"a\": MinKey(}", "error: expected a string or a number argument (at offset 13)"},
      {'L', "{\"a\": Foo(1)}", "error: unknown value 'Foo' (at offset 6)"},
      {'L', "{\"a\": Infinity}", "error: unknown value 'Infinity' (at offset 6)"},
      {'L', "{\"a\": NaN}", "error: unknown value 'NaN' (at offset 6)"},
      {'L', "{\"a\": ObjectId}", "error: expected '(' (at offset 14)"},
      {'L', "{\"a\": ObjectId()}", "error: ObjectId(): expected 24 hex digits (at offset 6)"},
      {'L', "{\"a\": ObjectId(\"56e1fc72e0c917e9c4714161\", 1)}",
       "error: ObjectId(): expected 24 hex digits (at offset 6)"},
      {'L', "{\"a\": ObjectId('56e1fc72e0c917e9c4714161')}", "{\"a\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}"},
      {'L', "{\"a\": ObjectId(\"xyz\")}", "error: ObjectId(): expected 24 hex digits (at offset 6)"},
      {'L', "{\"a\": ObjectId(1 2)}", "error: expected ',' or ')' (at offset 17)"},
      {'L', "{\"a\": ObjectId(x)}", "error: expected a string or a number argument (at offset 15)"},
      {'L', "{\"a\": ObjectId(\"a}", "error: unterminated string (at offset 15)"},
      {'L', "{\"a\": ISODate(\"2012-12-24T12:15:30.501Z\")}",
       "{\"a\":{\"$date\":{\"$numberLong\":\"1356351330501\"}}}"},
      {'L', "{\"a\": ISODate(5)}", "{\"a\":{\"$date\":{\"$numberLong\":\"5\"}}}"},
      {'L', "{\"a\": ISODate(-5)}", "{\"a\":{\"$date\":{\"$numberLong\":\"-5\"}}}"},
      {'L', "{\"a\": ISODate(1.5)}", "error: ISODate(): expected integer milliseconds (at offset 6)"},
      {'L', "{\"a\": ISODate(\"nope\")}", "error: ISODate(): expected an ISO-8601 date (at offset 6)"},
      {'L', "{\"a\": ISODate()}", "error: ISODate(): expected one argument (at offset 6)"},
      {'L', "{\"a\": Date(\"2012-12-24\", 1)}", "error: Date(): expected one argument (at offset 6)"},
      {'L', "{\"a\": Date(01)}", "error: leading zero in a number (at offset 11)"},
      {'L', "{\"a\": NumberLong(\"5\")}", "{\"a\":{\"$numberLong\":\"5\"}}"},
      {'L', "{\"a\": NumberLong(5.5)}", "error: NumberLong(): expected an int64 (at offset 6)"},
      {'L', "{\"a\": NumberLong()}", "error: NumberLong(): expected an int64 (at offset 6)"},
      {'L', "{\"a\": NumberLong(9223372036854775808)}", "error: NumberLong(): expected an int64 (at offset 6)"},
      {'L', "{\"a\": NumberInt(\"7\")}", "{\"a\":{\"$numberInt\":\"7\"}}"},
      {'L', "{\"a\": NumberInt(2147483648)}", "error: NumberInt(): expected an int32 (at offset 6)"},
      {'L', "{\"a\": NumberInt(1, 2)}", "error: NumberInt(): expected an int32 (at offset 6)"},
      {'L', "{\"a\": NumberDecimal(\"1.50\")}", "{\"a\":{\"$numberDecimal\":\"1.50\"}}"},
      {'L', "{\"a\": NumberDecimal(1.5)}", "{\"a\":{\"$numberDecimal\":\"1.5\"}}"},
      {'L', "{\"a\": NumberDecimal(\"1x\")}",
       "error: NumberDecimal(): invalid Decimal128 string: unexpected character (at offset 6)"},
      {'L', "{\"a\": NumberDecimal()}", "error: NumberDecimal(): expected one argument (at offset 6)"},
      {'L', "{\"a\": Timestamp(4294967295, 0)}", "{\"a\":{\"$timestamp\":{\"t\":4294967295,\"i\":0}}}"},
      {'L', "{\"a\": Timestamp(4294967296, 0)}", "error: Timestamp(): expected two uint32 numbers (at offset 6)"},
      {'L', "{\"a\": Timestamp(\"1\", 2)}", "error: Timestamp(): expected two uint32 numbers (at offset 6)"},
      {'L', "{\"a\": Timestamp(1)}", "error: Timestamp(): expected two uint32 numbers (at offset 6)"},
      {'L', "{\"a\": Timestamp(-1, 2)}", "error: Timestamp(): expected two uint32 numbers (at offset 6)"},
      {'L', "{\"a\": BinData(128, \"\")}", "{\"a\":{\"$binary\":{\"base64\":\"\",\"subType\":\"80\"}}}"},
      {'L', "{\"a\": BinData(256, \"\")}",
       "error: BinData(): expected a subtype number and a base64 string (at offset 6)"},
      {'L', "{\"a\": BinData(\"0\", \"AQI=\")}",
       "error: BinData(): expected a subtype number and a base64 string (at offset 6)"},
      {'L', "{\"a\": BinData(0, 1)}", "error: BinData(): expected a subtype number and a base64 string (at offset 6)"},
      {'L', "{\"a\": BinData(0, \"AQI\")}", "error: BinData(): bad base64 (at offset 6)"},
      {'L', "{\"a\": BinData(0)}", "error: BinData(): expected a subtype number and a base64 string (at offset 6)"},
      {'L', "{\"a\": UUID(\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\")}",
       "{\"a\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"04\"}}}"},
      {'L', "{\"a\": UUID(\"73ffd26444b34c6990e8e7d1dfc035d4\")}",
       "{\"a\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"04\"}}}"},
      {'L', "{\"a\": UUID(\"73ffd26444b34c6990e8e7d1dfc035dz\")}",
       "error: UUID(): expected a UUID string (at offset 6)"},
      {'L', "{\"a\": UUID(\"73ffd264-44b3-4c69-90e8-e7d1dfc035d\")}",
       "error: UUID(): expected a UUID string (at offset 6)"},
      {'L', "{\"a\": UUID(1)}", "error: UUID(): expected a UUID string (at offset 6)"},
      {'L', "{\"a\": UUID()}", "error: UUID(): expected a UUID string (at offset 6)"},
      {'L', "{a: true, b: false, c: null, d: [undefined, MinKey]}",
       "{\"a\":true,\"b\":false,\"c\":null,\"d\":[{\"$undefined\":true},{\"$minKey\":1}]}"},
      {'S', "{\"a\": true, \"b\": false, \"c\": null}", "{\"a\":true,\"b\":false,\"c\":null}"},
      {'S', "{\"a\": undefined}", "error: unexpected word 'undefined' (at offset 6)"},
      {'S', "{\"a\": new Date(5)}", "error: unexpected word 'new' (at offset 6)"},
      {'L', "{\"a\": tru}", "error: unknown value 'tru' (at offset 6)"},
      {'W',
       "{\"d\": 1.5, \"dn\": {\"$numberDouble\": \"NaN\"}, \"di\": {\"$numberDouble\": \"-Infinity\"}, \"dp\": "
       "{\"$numberDouble\": \"Infinity\"}, \"dl\": 1e300, \"s\": \"x\\\"\\n\", \"o\": {\"a\": [1, {\"b\": null}]}, "
       "\"bin\": {\"$binary\": {\"base64\": \"AQI=\", \"subType\": \"80\"}}, \"old\": {\"$binary\": {\"base64\": "
       "\"AQI=\", \"subType\": \"02\"}}, \"bd\": BinData(128, \"AQI=\"), \"u\": {\"$undefined\": true}, \"oid\": "
       "{\"$oid\": \"56e1fc72e0c917e9c4714161\"}, \"t\": true, \"f\": false, \"dt\": {\"$date\": "
       "\"2012-12-24T12:15:30.501Z\"}, \"dt0\": {\"$date\": \"2012-12-24T12:15:30Z\"}, \"dneg\": {\"$date\": -5}, "
       "\"dbig\": {\"$date\": 253402300800000}, \"n\": null, \"re\": {\"$regularExpression\": {\"pattern\": "
       "\"a\\\"b\", \"options\": \"xi\"}}, \"dbp\": {\"$dbPointer\": {\"$ref\": \"db.c\", \"$id\": {\"$oid\": "
       "\"56e1fc72e0c917e9c4714161\"}}}, \"code\": {\"$code\": \"f()\"}, \"sym\": {\"$symbol\": \"s\"}, \"cws\": "
       "{\"$code\": \"g()\", \"$scope\": {\"x\": 1, \"y\": {\"z\": []}}}, \"i\": 7, \"ineg\": -7, \"ts\": "
       "{\"$timestamp\": {\"t\": 4294967295, \"i\": 2}}, \"l\": {\"$numberLong\": \"9\"}, \"lneg\": {\"$numberLong\": "
       "\"-9223372036854775808\"}, \"dec\": {\"$numberDecimal\": \"1.5\"}, \"min\": {\"$minKey\": 1}, \"max\": "
       "{\"$maxKey\": 1}, \"e\": {}, \"ea\": []}",
       "{\x0a  \"d\": 1.5,\x0a  \"dn\": {\"$numberDouble\": \"NaN\"},\x0a  \"di\": {\"$numberDouble\": "
       "\"-Infinity\"},\x0a  \"dp\": {\"$numberDouble\": \"Infinity\"},\x0a  \"dl\": 1E+300,\x0a  \"s\": "
       "\"x\\\"\\n\",\x0a  \"o\": {\x0a    \"a\": [\x0a      1,\x0a      {\x0a        \"b\": null\x0a      }\x0a    "
       "]\x0a  },\x0a  \"bin\": {\"$binary\": {\"base64\": \"AQI=\",\"subType\": \"80\"}},\x0a  \"old\": {\"$binary\": "
       "{\"base64\": \"AQI=\",\"subType\": \"02\"}},\x0a  \"bd\": {\"$binary\": {\"base64\": \"AQI=\",\"subType\": "
       "\"80\"}},\x0a  \"u\": {\"$undefined\": true},\x0a  \"oid\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"},\x0a  "
       "\"t\": true,\x0a  \"f\": false,\x0a  \"dt\": {\"$date\": \"2012-12-24T12:15:30.501Z\"},\x0a  \"dt0\": "
       "{\"$date\": \"2012-12-24T12:15:30Z\"},\x0a  \"dneg\": {\"$date\": {\"$numberLong\": \"-5\"}},\x0a  \"dbig\": "
       "{\"$date\": {\"$numberLong\": \"253402300800000\"}},\x0a  \"n\": null,\x0a  \"re\": {\"$regularExpression\": "
       "{\"pattern\": \"a\\\"b\",\"options\": \"ix\"}},\x0a  \"dbp\": {\"$dbPointer\": {\"$ref\": \"db.c\",\"$id\": "
       "{\"$oid\": \"56e1fc72e0c917e9c4714161\"}}},\x0a  \"code\": {\"$code\": \"f()\"},\x0a  \"sym\": {\"$symbol\": "
       "\"s\"},\x0a  \"cws\": {\"$code\": \"g()\",\"$scope\": {\x0a    \"x\": 1,\x0a    \"y\": {\x0a      \"z\": "
       "[]\x0a    }\x0a  }},\x0a  \"i\": 7,\x0a  \"ineg\": -7,\x0a  \"ts\": {\"$timestamp\": {\"t\": 4294967295,\"i\": "
       "2}},\x0a  \"l\": 9,\x0a  \"lneg\": -9223372036854775808,\x0a  \"dec\": {\"$numberDecimal\": \"1.5\"},\x0a  "
       "\"min\": {\"$minKey\": 1},\x0a  \"max\": {\"$maxKey\": 1},\x0a  \"e\": {},\x0a  \"ea\": []\x0a}|{\x0a \"d\": "
       "{\"$numberDouble\": \"1.5\"},\x0a \"dn\": {\"$numberDouble\": \"NaN\"},\x0a \"di\": {\"$numberDouble\": "
       "\"-Infinity\"},\x0a \"dp\": {\"$numberDouble\": \"Infinity\"},\x0a \"dl\": {\"$numberDouble\": "
       "\"1E+300\"},\x0a \"s\": \"x\\\"\\n\",\x0a \"o\": {\x0a  \"a\": [\x0a   {\"$numberInt\": \"1\"},\x0a   {\x0a    "
       "\"b\": null\x0a   }\x0a  ]\x0a },\x0a \"bin\": {\"$binary\": {\"base64\": \"AQI=\",\"subType\": \"80\"}},\x0a "
       "\"old\": {\"$binary\": {\"base64\": \"AQI=\",\"subType\": \"02\"}},\x0a \"bd\": {\"$binary\": {\"base64\": "
       "\"AQI=\",\"subType\": \"80\"}},\x0a \"u\": {\"$undefined\": true},\x0a \"oid\": {\"$oid\": "
       "\"56e1fc72e0c917e9c4714161\"},\x0a \"t\": true,\x0a \"f\": false,\x0a \"dt\": {\"$date\": {\"$numberLong\": "
       "\"1356351330501\"}},\x0a \"dt0\": {\"$date\": {\"$numberLong\": \"1356351330000\"}},\x0a \"dneg\": {\"$date\": "
       "{\"$numberLong\": \"-5\"}},\x0a \"dbig\": {\"$date\": {\"$numberLong\": \"253402300800000\"}},\x0a \"n\": "
       "null,\x0a \"re\": {\"$regularExpression\": {\"pattern\": \"a\\\"b\",\"options\": \"ix\"}},\x0a \"dbp\": "
       "{\"$dbPointer\": {\"$ref\": \"db.c\",\"$id\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}}},\x0a \"code\": "
       "{\"$code\": \"f()\"},\x0a \"sym\": {\"$symbol\": \"s\"},\x0a \"cws\": {\"$code\": \"g()\",\"$scope\": {\x0a  "
       "\"x\": {\"$numberInt\": \"1\"},\x0a  \"y\": {\x0a   \"z\": []\x0a  }\x0a }},\x0a \"i\": {\"$numberInt\": "
       "\"7\"},\x0a \"ineg\": {\"$numberInt\": \"-7\"},\x0a \"ts\": {\"$timestamp\": {\"t\": 4294967295,\"i\": "
       "2}},\x0a \"l\": {\"$numberLong\": \"9\"},\x0a \"lneg\": {\"$numberLong\": \"-9223372036854775808\"},\x0a "
       "\"dec\": {\"$numberDecimal\": \"1.5\"},\x0a \"min\": {\"$minKey\": 1},\x0a \"max\": {\"$maxKey\": 1},\x0a "
       "\"e\": {},\x0a \"ea\": "
       "[]\x0a}|{\"d\":1.5,\"dn\":{\"$numberDouble\":\"NaN\"},\"di\":{\"$numberDouble\":\"-Infinity\"},\"dp\":{\"$"
       "numberDouble\":\"Infinity\"},\"dl\":1E+300,\"s\":\"x\\\"\\n\",\"o\":{\"a\":[1,{\"b\":null}]},\"bin\":{\"$"
       "binary\":{\"base64\":\"AQI=\",\"subType\":\"80\"}},\"old\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":"
       "\"02\"}},\"bd\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"80\"}},\"u\":{\"$undefined\":true},\"oid\":{\"$"
       "oid\":\"56e1fc72e0c917e9c4714161\"},\"t\":true,\"f\":false,\"dt\":{\"$date\":\"2012-12-24T12:15:30.501Z\"},"
       "\"dt0\":{\"$date\":\"2012-12-24T12:15:30Z\"},\"dneg\":{\"$date\":{\"$numberLong\":\"-5\"}},\"dbig\":{\"$date\":"
       "{\"$numberLong\":\"253402300800000\"}},\"n\":null,\"re\":{\"$regularExpression\":{\"pattern\":\"a\\\"b\","
       "\"options\":\"ix\"}},\"dbp\":{\"$dbPointer\":{\"$ref\":\"db.c\",\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}"
       "}},\"code\":{\"$code\":\"f()\"},\"sym\":{\"$symbol\":\"s\"},\"cws\":{\"$code\":\"g()\",\"$scope\":{\"x\":1,"
       "\"y\":{\"z\":[]}}},\"i\":7,\"ineg\":-7,\"ts\":{\"$timestamp\":{\"t\":4294967295,\"i\":2}},\"l\":9,\"lneg\":-"
       "9223372036854775808,\"dec\":{\"$numberDecimal\":\"1.5\"},\"min\":{\"$minKey\":1},\"max\":{\"$maxKey\":1},\"e\":"
       "{},\"ea\":[]}"},
  };
  for (const auto& c : cases) EXPECT_EQ(golden(c.mode, c.json), c.expected) << c.mode << " " << c.json;
}

}  // namespace
}  // namespace bsonpipe::formats::extjson
