// Runs every case of every file in the BSON corpus through the Extended JSON writer and parser
// and the Decimal128 string conversion: canonical/relaxed/degenerate/converted forms, and every
// parseErrors case must be rejected. Skipped checks are printed with their reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "formats/decimal128.hpp"
#include "formats/extjson.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe::formats {
namespace {

using test::from_hex;
using test::to_hex;

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// JSON text in a comparable form: whitespace outside strings removed, and inside strings the
// \uXXXX escapes of non-ASCII characters replaced by the characters themselves (the corpus writes
// "é" both ways; our writer emits raw UTF-8). Every other escape is kept exactly as written.
std::string normalize(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (!in_string) {
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
      if (c == '"') in_string = true;
      out.push_back(c);
      continue;
    }
    if (c == '"') {
      in_string = false;
      out.push_back(c);
    } else if (c == '\\' && i + 1 < json.size()) {
      if (json[i + 1] == 'u' && i + 6 <= json.size()) {
        std::uint32_t cp = std::stoul(std::string(json.substr(i + 2, 4)), nullptr, 16);
        std::size_t used = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= json.size() && json[i + 6] == '\\') {
          std::uint32_t low = std::stoul(std::string(json.substr(i + 8, 4)), nullptr, 16);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          used = 12;
        }
        if (cp >= 0x80) {
          append_utf8(out, cp);
          i += used - 1;
          continue;
        }
      }
      out.push_back(c);
      out.push_back(json[++i]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

const extjson::WriteOptions kCanonical{.mode = extjson::Mode::kCanonical};
const extjson::WriteOptions kRelaxed{.mode = extjson::Mode::kRelaxed};
const extjson::ParseOptions kStrict{.allow_legacy = false};
const extjson::ParseOptions kLegacy{.allow_legacy = true};

std::string parse_to_hex(const std::string& json, const extjson::ParseOptions& opts) {
  auto r = extjson::parse(json, opts);
  if (!r) return "parse error: " + r.status().to_string();
  return to_hex(*r);
}

// parseErrors cases that the legacy forms (ParseOptions::allow_legacy) deliberately accept, with
// the reason; they are still required to fail in strict mode.
std::string legacy_acceptance_reason(const std::string& description) {
  if (description == "Bad $date (number, not string or hash)")
    return "legacy {\"$date\": <millis>} form, as mongodump --query takes";
  return {};
}

TEST(ExtJsonCorpus, EveryCaseOfEveryFile) {
  auto corpus = test::load_corpus();
  ASSERT_GE(corpus.size(), 31u) << "the corpus folder is missing files";
  std::size_t total_checks = 0, total_parse_errors = 0, total_skipped = 0;
  for (auto& file : corpus) {
    const bool decimal_file = file.name.rfind("decimal128", 0) == 0;
    std::size_t to_canonical = 0, from_canonical = 0, relaxed = 0, degenerate = 0, converted = 0, skipped = 0;
    std::size_t parse_errors = 0, legacy_accepted = 0;
    for (auto& c : file.valid) {
      SCOPED_TRACE(file.name + ": " + c.description);
      const Bytes bson = from_hex(c.canonical_bson);
      ASSERT_TRUE(validate(bson).is_ok());
      const std::string cej = normalize(c.canonical_extjson);

      // canonical_bson -> canonical_extjson
      EXPECT_EQ(normalize(extjson::to_json(DocView(bson), kCanonical)), cej);
      ++to_canonical;

      // canonical_extjson -> canonical_bson (strict and legacy parsers alike)
      if (c.lossy) {
        ++skipped;
        std::printf(
            "[corpus extjson]   skip %s: %s: canonical_extjson -> canonical_bson (lossy case; cEJ -> bson -> cEJ still "
            "checked)\n",
            file.name.c_str(), c.description.c_str());
      } else {
        EXPECT_EQ(parse_to_hex(c.canonical_extjson, kStrict), to_hex(bson));
        EXPECT_EQ(parse_to_hex(c.canonical_extjson, kLegacy), to_hex(bson));
        ++from_canonical;
      }
      // Whatever the parser made of the canonical text must print back as the same text.
      auto reparsed = extjson::parse(c.canonical_extjson, kStrict);
      ASSERT_TRUE(reparsed.is_ok()) << reparsed.status().to_string();
      EXPECT_EQ(normalize(extjson::to_json(DocView(*reparsed), kCanonical)), cej);

      if (!c.relaxed_extjson.empty()) {
        const std::string rej = normalize(c.relaxed_extjson);
        EXPECT_EQ(normalize(extjson::to_json(DocView(bson), kRelaxed)), rej);
        auto r = extjson::parse(c.relaxed_extjson, kStrict);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        EXPECT_EQ(normalize(extjson::to_json(DocView(*r), kRelaxed)), rej);
        ++relaxed;
      }
      if (!c.degenerate_bson.empty()) {
        const Bytes deg = from_hex(c.degenerate_bson);
        ASSERT_TRUE(validate(deg).is_ok());
        EXPECT_EQ(normalize(extjson::to_json(DocView(deg), kCanonical)), cej);
        ++degenerate;
      }
      if (!c.degenerate_extjson.empty()) {
        if (c.lossy) {
          ++skipped;
          std::printf("[corpus extjson]   skip %s: %s: degenerate_extjson -> canonical_bson (lossy case)\n",
                      file.name.c_str(), c.description.c_str());
        } else {
          EXPECT_EQ(parse_to_hex(c.degenerate_extjson, kLegacy), to_hex(bson));
          EXPECT_EQ(parse_to_hex(c.degenerate_extjson, kStrict), to_hex(bson));
          ++degenerate;
        }
      }
      if (!c.converted_bson.empty()) {
        const Bytes conv = from_hex(c.converted_bson);
        ASSERT_TRUE(validate(conv).is_ok());
        EXPECT_EQ(normalize(extjson::to_json(DocView(conv), kCanonical)), normalize(c.converted_extjson));
        EXPECT_EQ(parse_to_hex(c.converted_extjson, kStrict), to_hex(conv));
        ++converted;
      }
    }
    for (auto& c : file.parse_errors) {
      SCOPED_TRACE(file.name + ": parseError " + c.description + ": " + c.input);
      if (decimal_file) {
        auto d = decimal128_from_string(c.input);
        EXPECT_FALSE(d.is_ok()) << "accepted bad Decimal128 " << c.input << " as " << decimal128_to_string(*d);
        // The same text inside a $numberDecimal wrapper must fail the JSON parser too.
        const std::string json = "{\"d\":{\"$numberDecimal\":" + json_quote(c.input) + "}}";
        EXPECT_FALSE(extjson::parse(json, kLegacy).is_ok()) << json;
      } else {
        auto strict = extjson::parse(c.input, kStrict);
        EXPECT_FALSE(strict.is_ok()) << "strict parser accepted " << c.input;
        if (!strict.is_ok()) {
          EXPECT_GE(strict.status().offset(), 0);
          EXPECT_LE(strict.status().offset(), static_cast<std::int64_t>(c.input.size()));
        }
        auto legacy = extjson::parse(c.input, kLegacy);
        const std::string reason = legacy_acceptance_reason(c.description);
        if (reason.empty()) {
          EXPECT_FALSE(legacy.is_ok()) << "legacy parser accepted " << c.input;
        } else {
          EXPECT_TRUE(legacy.is_ok()) << legacy.status().to_string();
          ++legacy_accepted;
          std::printf("[corpus extjson]   note %s: %s: rejected in strict mode, accepted with allow_legacy (%s)\n",
                      file.name.c_str(), c.description.c_str(), reason.c_str());
        }
      }
      ++parse_errors;
    }
    EXPECT_EQ(parse_errors, file.parse_errors.size());
    std::printf(
        "[corpus extjson] %-28s valid %3zu: bson->cEJ %3zu, cEJ->bson %3zu, relaxed %2zu, degenerate %2zu, "
        "converted %zu, skipped %zu | parseErrors %2zu rejected%s\n",
        file.name.c_str(), file.valid.size(), to_canonical, from_canonical, relaxed, degenerate, converted, skipped,
        parse_errors, legacy_accepted ? (" (" + std::to_string(legacy_accepted) + " legacy-accepted)").c_str() : "");
    total_checks += to_canonical + from_canonical + relaxed + degenerate + converted;
    total_parse_errors += parse_errors;
    total_skipped += skipped;
  }
  std::printf("[corpus extjson] total: %zu checks, %zu parseErrors rejected, %zu skipped (lossy)\n", total_checks,
              total_parse_errors, total_skipped);
  EXPECT_GT(total_checks, 1400u);
  EXPECT_GT(total_parse_errors, 170u);
}

}  // namespace
}  // namespace bsonpipe::formats
