// IEEE 754-2008 Decimal128 (BID encoding) to and from strings, following the BSON Decimal128
// specification: canonical output strings, and parsing that never rounds inexactly.
#pragma once

#include <string>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::formats {

// The specification's string form: plain notation when the exponent is <= 0 and the adjusted
// exponent >= -6, scientific ("1.05E+3") otherwise; "NaN", "Infinity", "-Infinity". Non-canonical
// encodings (coefficient above 10^34 - 1) print as zero with their exponent.
std::string decimal128_to_string(Decimal128 v);

// Parses "[+-]digits[.digits][(e|E)[+-]digits]", "NaN", "Inf", "Infinity" (case-insensitive).
// Exponents out of range are clamped only when that is exact (zero padding, dropping trailing
// zeros); anything that would need rounding is an error, as is any other text (whitespace
// included). Error offsets are positions in `s`.
Result<Decimal128> decimal128_from_string(std::string_view s);

}  // namespace bsonpipe::formats
