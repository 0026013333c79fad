// Runs every case of every file in the BSON corpus through the validator, the typed accessors and
// the builder: valid cases must re-encode to canonical_bson byte for byte, decodeErrors must fail.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include "formats/bson.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats {
namespace {

using test::from_hex;
using test::to_hex;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Rebuilds a document through the typed accessors and typed appends (not a raw copy), so every
// accessor is exercised; arrays are re-keyed and regex options sorted (canonical form).
void rebuild_into(Builder& b, DocView doc, bool is_array) {
  for (auto e : doc) {
    std::string key = is_array ? b.next_array_key() : std::string(e.key());
    switch (e.type()) {
      case BsonType::kDouble: b.append_double(key, e.as_double()); break;
      case BsonType::kString: b.append_string(key, e.as_string()); break;
      case BsonType::kDocument:
        b.open_document(key);
        rebuild_into(b, e.as_document(), false);
        b.close();
        break;
      case BsonType::kArray:
        b.open_array(key);
        rebuild_into(b, e.as_document(), true);
        b.close();
        break;
      case BsonType::kBinary: b.append_binary(key, e.as_binary().subtype, e.as_binary().data); break;
      case BsonType::kUndefined: b.append_undefined(key); break;
      case BsonType::kObjectId: b.append_object_id(key, e.as_object_id()); break;
      case BsonType::kBool: b.append_bool(key, e.as_bool()); break;
      case BsonType::kDateTime: b.append_datetime(key, e.as_datetime()); break;
      case BsonType::kNull: b.append_null(key); break;
      case BsonType::kRegex: {
        std::string opts(e.as_regex().options);
        std::sort(opts.begin(), opts.end());
        b.append_regex(key, e.as_regex().pattern, opts);
        break;
      }
      case BsonType::kDbPointer: b.append_db_pointer(key, e.as_db_pointer().ns, e.as_db_pointer().oid); break;
      case BsonType::kCode: b.append_code(key, e.as_code()); break;
      case BsonType::kSymbol: b.append_symbol(key, e.as_symbol()); break;
      case BsonType::kCodeWithScope: {
        Builder scope;
        rebuild_into(scope, e.code_with_scope_scope(), false);
        Bytes s = scope.finish();
        b.append_code_with_scope(key, e.code_with_scope_code(), DocView(s));
        break;
      }
      case BsonType::kInt32: b.append_int32(key, e.as_int32()); break;
      case BsonType::kTimestamp: b.append_timestamp(key, e.as_timestamp()); break;
      case BsonType::kInt64: b.append_int64(key, e.as_int64()); break;
      case BsonType::kDecimal128: b.append_decimal128(key, e.as_decimal128()); break;
      case BsonType::kMinKey: b.append_min_key(key); break;
      case BsonType::kMaxKey: b.append_max_key(key); break;
    }
  }
}

Bytes rebuild(DocView doc) {
  Builder b;
  rebuild_into(b, doc, false);
  return b.finish();
}

const ValidateOptions kStrict{.max_depth = 100, .check_utf8 = true};

TEST(BsonCorpus, EveryValidCaseRoundTripsAndEveryDecodeErrorIsRejected) {
  auto corpus = test::load_corpus();
  ASSERT_GE(corpus.size(), 31u) << "the corpus folder is missing files";
  std::size_t total_valid = 0, total_errors = 0;
  for (auto& file : corpus) {
    std::size_t valid_ran = 0, degenerate_ran = 0, converted_ran = 0, errors_ran = 0;
    for (auto& c : file.valid) {
      SCOPED_TRACE(file.name + ": " + c.description);
      Bytes bson = from_hex(c.canonical_bson);
      Status s = validate(bson, kStrict);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      EXPECT_EQ(to_hex(rebuild(DocView(bson))), upper(c.canonical_bson));
      EXPECT_EQ(to_hex(canonicalize(DocView(bson))), upper(c.canonical_bson));
      ++valid_ran;
      if (!c.degenerate_bson.empty()) {
        Bytes deg = from_hex(c.degenerate_bson);
        ASSERT_TRUE(validate(deg, kStrict).is_ok());
        EXPECT_EQ(to_hex(canonicalize(DocView(deg))), upper(c.canonical_bson));
        ++degenerate_ran;
      }
      if (!c.converted_bson.empty()) {
        Bytes conv = from_hex(c.converted_bson);
        ASSERT_TRUE(validate(conv, kStrict).is_ok());
        EXPECT_EQ(to_hex(rebuild(DocView(conv))), upper(c.converted_bson));
        ++converted_ran;
      }
    }
    for (auto& c : file.decode_errors) {
      SCOPED_TRACE(file.name + ": " + c.description);
      Bytes bson = from_hex(c.input);
      Status s = validate(bson, kStrict);
      EXPECT_FALSE(s.is_ok()) << "accepted bad BSON " << c.input;
      if (!s.is_ok()) {
        EXPECT_GE(s.offset(), 0);
        EXPECT_LE(s.offset(), static_cast<std::int64_t>(bson.size()));
      }
      ++errors_ran;
    }
    EXPECT_EQ(valid_ran, file.valid.size());
    EXPECT_EQ(errors_ran, file.decode_errors.size());
    std::printf(
        "[corpus bson] %-28s valid %3zu (degenerate %zu, converted %zu)  decodeErrors %2zu"
        "  parseErrors %2zu: not BSON decoding, run by the Extended JSON test\n",
        file.name.c_str(), valid_ran, degenerate_ran, converted_ran, errors_ran, file.parse_errors.size());
    total_valid += valid_ran;
    total_errors += errors_ran;
  }
  std::printf("[corpus bson] total: %zu valid cases, %zu decodeErrors cases\n", total_valid, total_errors);
  EXPECT_GT(total_valid, 700u);
  EXPECT_GT(total_errors, 70u);
}

}  // namespace
}  // namespace bsonpipe::formats
