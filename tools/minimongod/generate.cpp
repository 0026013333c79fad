#include "tools/minimongod/generate.hpp"

#include <charconv>

#include "tools/minimongod/engine.hpp"

namespace bsonpipe::minimongod {

namespace {

constexpr std::string_view kWords[] = {
    "alpha",     "bravo",     "charlie",   "delta",    "echo",     "foxtrot", "golf",      "hotel",       "india",
    "juliet",    "kilo",      "lima",      "mike",     "november", "oscar",   "papa",      "quebec",      "romeo",
    "sierra",    "tango",     "uniform",   "victor",   "whiskey",  "xray",    "yankee",    "zulu",        "order",
    "customer",  "shipment",  "invoice",   "payment",  "pending",  "shipped", "delivered", "returned",    "warehouse",
    "account",   "balance",   "transfer",  "priority", "standard", "express", "discount",  "coupon",      "review",
    "rating",    "excellent", "good",      "average",  "poor",     "quality", "price",     "value",       "service",
    "support",   "ticket",    "resolved",  "open",     "closed",   "urgent",  "normal",    "low",         "high",
    "the",       "and",       "with",      "from",     "into",     "over",    "under",     "about",       "after",
    "before",    "während",   "straße",    "café",     "naïve",    "façade",  "jalapeño",  "smörgåsbord", "Zürich",
    "São Paulo", "Łódź",      "København", "東京",     "大阪",     "北京",    "서울",      "Москва",      "Αθήνα",
    "القاهرة",   "मुंबई",       "emoji 🚀",   "ünïcödé",  "product",  "catalog", "category",  "electronics", "books",
    "garden",    "kitchen",   "sports",    "toys",     "clothing", "shoes",   "music",     "movies",      "games",
    "network",   "server",    "database",  "backup",   "restore",  "cluster", "replica",   "shard",       "index",
};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

constexpr std::string_view kCities[] = {"Paris",    "Berlin", "Zürich", "São Paulo", "東京",     "Łódź",
                                        "New York", "Москва", "Αθήνα",  "Reykjavík", "Montréal", "Kraków"};
constexpr std::string_view kStatuses[] = {"pending", "shipped", "delivered", "returned", "cancelled"};

}  // namespace

Expected<GenerateSpec> parse_generate_spec(std::string_view text) {
  GenerateSpec s;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) return bad_value("--generate wants ns:count:avgBytes[:seed]");
  auto dot = parts[0].find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == parts[0].size())
    return bad_value("--generate namespace must be db.collection");
  s.db = std::string(parts[0].substr(0, dot));
  s.collection = std::string(parts[0].substr(dot + 1));
  auto num = [](std::string_view t, std::uint64_t& out) {
    auto r = std::from_chars(t.data(), t.data() + t.size(), out);
    return r.ec == std::errc() && r.ptr == t.data() + t.size();
  };
  std::uint64_t avg = 0;
  if (!num(parts[1], s.count) || !num(parts[2], avg) || avg == 0)
    return bad_value("--generate count and avgBytes must be positive integers");
  s.avg_bytes = static_cast<std::size_t>(avg);
  if (parts.size() == 4 && !num(parts[3], s.seed)) return bad_value("--generate seed must be an integer");
  return s;
}

DocumentGenerator::DocumentGenerator(std::size_t avg_bytes, std::uint64_t seed)
    : avg_bytes_(avg_bytes), seed_(seed), state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}

std::uint64_t DocumentGenerator::rand() {
  // splitmix64: fast, good enough, deterministic across platforms.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string_view DocumentGenerator::word() {
  // Skewed choice (as natural text is): half the draws come from the first quarter.
  std::uint64_t r = rand();
  return (r & 1) ? kWords[(r >> 1) % (kWordCount / 4)] : kWords[(r >> 1) % kWordCount];
}

void DocumentGenerator::append_words(std::string& out, std::size_t bytes) {
  std::size_t target = out.size() + bytes;
  while (out.size() < target) {
    if (!out.empty()) out.push_back(' ');
    out.append(word());
  }
  // Keep it valid UTF-8: cut back to a character boundary at or below the target.
  if (out.size() > target) {
    std::size_t cut = target;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
}

formats::Bytes DocumentGenerator::next() {
  std::uint64_t i = index_++;
  formats::Builder b;
  formats::ObjectId oid{};
  // Timestamp part rises with the index (as real ObjectIds do), the rest is seed + counter.
  auto secs = static_cast<std::uint32_t>(1600000000u + (seed_ % 1000) * 100000 + i / 16);
  oid[0] = static_cast<std::uint8_t>(secs >> 24);
  oid[1] = static_cast<std::uint8_t>(secs >> 16);
  oid[2] = static_cast<std::uint8_t>(secs >> 8);
  oid[3] = static_cast<std::uint8_t>(secs);
  for (int k = 0; k < 5; ++k) oid[4 + k] = static_cast<std::uint8_t>(seed_ >> (8 * k));
  oid[9] = static_cast<std::uint8_t>(i >> 16);
  oid[10] = static_cast<std::uint8_t>(i >> 8);
  oid[11] = static_cast<std::uint8_t>(i);
  b.append_object_id("_id", oid);

  scratch_.clear();
  append_words(scratch_, 8 + below(16));
  b.append_string("name", scratch_);
  b.append_int32("age", static_cast<std::int32_t>(18 + below(70)));
  b.append_int64("accountNumber", static_cast<std::int64_t>(1000000000ull + i));
  b.append_double("score", static_cast<double>(below(100000)) / 100.0);
  b.append_decimal128("price", formats::Decimal128{below(1000000), 6174ull << 49});
  b.append_bool("active", (rand() & 3) != 0);
  if ((rand() & 7) == 0) b.append_null("deletedAt");
  b.append_datetime("createdAt",
                    1600000000000LL + static_cast<std::int64_t>(i) * 1000 + static_cast<std::int64_t>(below(1000)));
  b.append_string("status", kStatuses[below(std::size(kStatuses))]);

  b.open_document("address");
  b.append_int32("number", static_cast<std::int32_t>(1 + below(300)));
  scratch_.clear();
  append_words(scratch_, 10 + below(10));
  b.append_string("street", scratch_);
  b.append_string("city", kCities[below(std::size(kCities))]);
  b.append_string("zip", std::to_string(10000 + below(90000)));
  b.open_document("geo");
  b.append_double("lat", static_cast<double>(below(180000)) / 1000.0 - 90.0);
  b.append_double("lng", static_cast<double>(below(360000)) / 1000.0 - 180.0);
  b.close();
  b.close();

  b.open_array("tags");
  for (std::uint64_t t = 0, n = 1 + below(4); t < n; ++t) b.append_string(b.next_array_key(), word());
  b.close();

  std::size_t target = avg_bytes_ / 2 + static_cast<std::size_t>(below(avg_bytes_ + 1));
  b.open_array("items");
  for (std::uint64_t t = 0, n = below(3) + (avg_bytes_ > 1000 ? 2 : 0); t < n && b.size() + 80 < target; ++t) {
    b.open_document(b.next_array_key());
    b.append_string("sku", "SKU-" + std::to_string(below(100000)));
    b.append_int32("qty", static_cast<std::int32_t>(1 + below(9)));
    b.append_double("unitPrice", static_cast<double>(below(50000)) / 100.0);
    b.close();
  }
  b.close();
  // Free text fills up to the document's target size.
  constexpr std::size_t kNotesOverhead = 1 + 6 + 4 + 1 + 1;  // type, "notes\0", length, NUL, doc NUL
  if (b.size() + kNotesOverhead < target) {
    scratch_.clear();
    append_words(scratch_, target - b.size() - kNotesOverhead);
    b.append_string("notes", scratch_);
  }
  return b.finish();
}

Done generate_into(Engine& engine, const GenerateSpec& spec) {
  DocumentGenerator gen(spec.avg_bytes, spec.seed);
  constexpr std::size_t kBatch = 1000;
  std::vector<formats::Bytes> batch;
  batch.reserve(kBatch);
  for (std::uint64_t i = 0; i < spec.count; ++i) {
    batch.push_back(gen.next());
    if (batch.size() == kBatch || i + 1 == spec.count) {
      if (auto r = engine.insert_documents(spec.db, spec.collection, batch); !r) return r;
      batch.clear();
    }
  }
  if (spec.count == 0) {
    (void)engine.catalog().get_or_create(spec.db, spec.collection);
  }
  return {};
}

}  // namespace bsonpipe::minimongod
