#include "formats/decimal128.hpp"

#include <algorithm>
#include <cstdint>

namespace bsonpipe::formats {

namespace {

__extension__ using U128 = unsigned __int128;

constexpr int kExponentBias = 6176;
constexpr int kMinExponent = -6176;
constexpr int kMaxExponent = 6111;
constexpr std::size_t kMaxDigits = 34;
constexpr std::uint64_t kSignBit = 0x8000000000000000ULL;
constexpr std::uint64_t kInfinityHigh = 0x7800000000000000ULL;
constexpr std::uint64_t kNaNHigh = 0x7C00000000000000ULL;

U128 max_coefficient() {
  U128 v = 1;
  for (int i = 0; i < 34; ++i) v *= 10;
  return v - 1;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

Status syntax_error(std::string_view what, std::size_t at) {
  return {ErrorCode::kInvalidArgument, "invalid Decimal128 string: " + std::string(what),
          static_cast<std::int64_t>(at)};
}

}  // namespace

std::string decimal128_to_string(Decimal128 v) {
  const bool negative = (v.high & kSignBit) != 0;
  const unsigned combination = static_cast<unsigned>((v.high >> 58) & 0x1F);
  if (combination == 0x1F) return "NaN";
  if (combination == 0x1E) return negative ? "-Infinity" : "Infinity";

  int biased;
  U128 coefficient;
  if (((v.high >> 61) & 0x3) == 0x3) {
    // The "11" form: its implied coefficient is always above 10^34 - 1, so the value is zero.
    biased = static_cast<int>((v.high >> 47) & 0x3FFF);
    coefficient = 0;
  } else {
    biased = static_cast<int>((v.high >> 49) & 0x3FFF);
    coefficient = (static_cast<U128>(v.high & 0x1FFFFFFFFFFFFULL) << 64) | v.low;
    if (coefficient > max_coefficient()) coefficient = 0;
  }
  const int exponent = biased - kExponentBias;

  std::string digits;
  if (coefficient == 0) {
    digits = "0";
  } else {
    while (coefficient != 0) {
      digits.push_back(static_cast<char>('0' + static_cast<int>(coefficient % 10)));
      coefficient /= 10;
    }
    std::reverse(digits.begin(), digits.end());
  }
  const int ndigits = static_cast<int>(digits.size());
  const int adjusted = exponent + ndigits - 1;

  std::string out;
  if (negative) out.push_back('-');
  if (exponent <= 0 && adjusted >= -6) {
    if (exponent == 0) {
      out += digits;
    } else {
      const int point = ndigits + exponent;  // digits before the decimal point
      if (point > 0) {
        out.append(digits, 0, static_cast<std::size_t>(point));
        out.push_back('.');
        out.append(digits, static_cast<std::size_t>(point));
      } else {
        out += "0.";
        out.append(static_cast<std::size_t>(-point), '0');
        out += digits;
      }
    }
  } else {
    out.push_back(digits[0]);
    if (ndigits > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('E');
    out.push_back(adjusted < 0 ? '-' : '+');
    out += std::to_string(adjusted < 0 ? -adjusted : adjusted);
  }
  return out;
}

Result<Decimal128> decimal128_from_string(std::string_view s) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  std::string_view rest = s.substr(i);
  if (iequals(rest, "nan")) return Decimal128{0, kNaNHigh};
  if (iequals(rest, "inf") || iequals(rest, "infinity"))
    return Decimal128{0, kInfinityHigh | (negative ? kSignBit : 0)};

  // Coefficient digits without leading zeros, and the exponent of its last digit.
  std::string digits;
  std::int64_t exponent = 0;
  bool any_digit = false;
  bool seen_point = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (seen_point) --exponent;
      if (c == '0' && digits.empty()) continue;
      digits.push_back(c);
    } else if (c == '.') {
      if (seen_point) return syntax_error("second decimal point", i);
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return syntax_error("no digits", i);
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return syntax_error("unexpected character", i);
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    if (i >= s.size()) return syntax_error("exponent has no digits", i);
    std::int64_t e = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c < '0' || c > '9') return syntax_error("unexpected character in exponent", i);
      // Saturate: anything this large is clamped to zero or rejected below.
      if (e < 100000000) e = e * 10 + (c - '0');
    }
    exponent += exp_negative ? -e : e;
  }

  if (digits.empty()) {
    exponent = std::clamp<std::int64_t>(exponent, kMinExponent, kMaxExponent);
  } else {
    // Too many digits, or an exponent below the minimum: drop trailing zeros, which is exact.
    while (digits.size() > kMaxDigits || exponent < kMinExponent) {
      if (digits.back() != '0') return syntax_error("value cannot be represented without rounding", 0);
      digits.pop_back();
      ++exponent;
    }
    // Exponent above the maximum: pad the coefficient with zeros (clamping), also exact.
    while (exponent > kMaxExponent) {
      if (digits.size() >= kMaxDigits) return syntax_error("value overflows Decimal128", 0);
      digits.push_back('0');
      --exponent;
    }
  }

  U128 coefficient = 0;
  for (char c : digits) coefficient = coefficient * 10 + static_cast<unsigned>(c - '0');
  const auto biased = static_cast<std::uint64_t>(exponent + kExponentBias);
  Decimal128 out;
  out.low = static_cast<std::uint64_t>(coefficient);
  out.high = static_cast<std::uint64_t>(coefficient >> 64) | (biased << 49) | (negative ? kSignBit : 0);
  return out;
}

}  // namespace bsonpipe::formats
