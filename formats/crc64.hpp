// CRC-64 with the ECMA-182 polynomial exactly as Go's hash/crc64 computes it with the ECMA table
// (reflected, initial value and final xor all ones; the "CRC-64/XZ" parameters). mongodump puts it
// in every archive EOF block, so this must match byte for byte.
#pragma once

#include <cstdint>

#include "formats/bson.hpp"

namespace bsonpipe::formats {

// Continues a checksum: `crc` is a finished value (0 for the empty input), as with Go's
// crc64.Update, so crc64_update(crc64_update(0, a), b) == crc64_update(0, a + b).
std::uint64_t crc64_update(std::uint64_t crc, ByteSpan data);
inline std::uint64_t crc64(ByteSpan data) {
  return crc64_update(0, data);
}

// Running checksum over a sequence of chunks.
class Crc64 {
 public:
  void update(ByteSpan data) { value_ = crc64_update(value_, data); }
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_ = 0;
};

}  // namespace bsonpipe::formats
