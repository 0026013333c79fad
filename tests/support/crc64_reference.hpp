// CRC-64/XZ computed a bit at a time, straight from the polynomial: the slow reference that
// formats/crc64's slicing-by-8 tables are checked against (tests only).
// Header-only (the test support library's sources are fixed in tests/CMakeLists.txt).
#pragma once

#include <cstdint>

#include "formats/bson.hpp"

namespace bsonpipe::test {

// Continues a checksum like formats::crc64_update (`crc` is a finished value, 0 for no input).
inline std::uint64_t crc64_update_bitwise(std::uint64_t crc, formats::ByteSpan data) {
  // ECMA-182 polynomial 0x42F0E1EBA9EA3693, bit-reversed for the reflected (LSB-first) form.
  constexpr std::uint64_t kPolyReflected = 0xC96C5795D7870F42ULL;
  crc = ~crc;
  for (std::uint8_t byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kPolyReflected : crc >> 1;
  }
  return ~crc;
}

}  // namespace bsonpipe::test
