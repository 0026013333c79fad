// Deterministic generation of realistic, varied documents (ObjectId _id, nested documents, arrays,
// dates, int/long/double/decimal128, non-ASCII strings, booleans, nulls) for demos, tests and
// benchmarks. Sizes average the requested size; text is drawn from a vocabulary so the data
// compresses about 3-4x with gzip, as real data does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "formats/bson.hpp"
#include "tools/minimongod/errors.hpp"

namespace bsonpipe::minimongod {

class Engine;

// --generate ns:count:avgBytes[:seed]
struct GenerateSpec {
  std::string db;
  std::string collection;
  std::uint64_t count = 0;
  std::size_t avg_bytes = 512;
  std::uint64_t seed = 1;
};
Expected<GenerateSpec> parse_generate_spec(std::string_view text);

// Produces the documents of one (avg_bytes, seed) stream in order; the same seed gives the same
// bytes. Not thread-safe (one generator per thread).
class DocumentGenerator {
 public:
  DocumentGenerator(std::size_t avg_bytes, std::uint64_t seed);
  formats::Bytes next();
  std::uint64_t produced() const { return index_; }

 private:
  std::uint64_t rand();
  std::uint64_t below(std::uint64_t n) { return rand() % n; }
  std::string_view word();
  void append_words(std::string& out, std::size_t bytes);

  std::size_t avg_bytes_;
  std::uint64_t seed_;
  std::uint64_t state_;
  std::uint64_t index_ = 0;
  std::string scratch_;
};

// Generates spec.count documents into the engine (creating the collection).
Done generate_into(Engine& engine, const GenerateSpec& spec);

}  // namespace bsonpipe::minimongod
