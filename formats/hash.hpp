// Content hashes: streaming XXH3-128 for manifest file checksums, and an order-independent
// digest of a set of documents (for comparing a namespace on two servers).
#pragma once

#include <array>
#include <string>

#include "formats/bson.hpp"

namespace bsonpipe::formats {

class Xxh3Hasher {
 public:
  Xxh3Hasher();
  ~Xxh3Hasher();
  Xxh3Hasher(const Xxh3Hasher&) = delete;
  Xxh3Hasher& operator=(const Xxh3Hasher&) = delete;
  void update(ByteSpan data);
  // 32 lowercase hex digits (high 64 bits first).
  std::string hex_digest() const;

 private:
  void* state_;  // XXH3_state_t, kept out of this header
};

std::string xxh3_128_hex(ByteSpan data);

// Order-independent digest of documents: the sum and xor of each document's XXH3-128 plus the
// count. Equal multisets of documents give equal digests whatever their order.
class MultisetDigest {
 public:
  void add(ByteSpan document);
  void merge(const MultisetDigest& other);
  std::uint64_t count() const { return count_; }
  std::string hex() const;
  bool operator==(const MultisetDigest&) const = default;

 private:
  std::uint64_t count_ = 0;
  std::uint64_t sum_lo_ = 0, sum_hi_ = 0, xor_lo_ = 0, xor_hi_ = 0;
};

}  // namespace bsonpipe::formats
