// Test data shared by the micro-benchmarks: realistic generated BSON (minimongod's
// DocumentGenerator: nested documents, arrays, dates, numbers, vocabulary text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/bson.hpp"
#include "tools/minimongod/generate.hpp"

namespace bsonpipe::bench {

using formats::Bytes;
using formats::ByteSpan;

// Concatenated documents (the .bson file format) of about `total_bytes`, averaging `avg_bytes`.
inline Bytes generated_bson(std::size_t avg_bytes, std::size_t total_bytes, std::uint64_t seed = 1) {
  minimongod::DocumentGenerator gen(avg_bytes, seed);
  Bytes out;
  out.reserve(total_bytes + 2 * avg_bytes + 4096);
  while (out.size() < total_bytes) {
    Bytes d = gen.next();
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

// The same, one document per element.
inline std::vector<Bytes> generated_docs(std::size_t avg_bytes, std::size_t count, std::uint64_t seed = 1) {
  minimongod::DocumentGenerator gen(avg_bytes, seed);
  std::vector<Bytes> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(gen.next());
  return out;
}

// Spans over each document of a concatenated buffer (which must walk cleanly).
inline std::vector<ByteSpan> split_docs(ByteSpan buf) {
  std::vector<ByteSpan> out;
  while (buf.size() >= 5) {
    auto n = static_cast<std::size_t>(formats::load_i32(buf.data()));
    out.push_back(buf.first(n));
    buf = buf.subspan(n);
  }
  return out;
}

}  // namespace bsonpipe::bench
