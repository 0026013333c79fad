#include "formats/extjson.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "formats/decimal128.hpp"

namespace bsonpipe::formats::extjson {

namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Nesting deeper than this is refused rather than risking the stack (BSON allows ~100 in practice).
constexpr int kMaxDepth = 200;
// Relaxed dates use ISO-8601 only for years 1970 through 9999.
constexpr std::int64_t kMaxIsoDateMs = 253402300799999;

// ------------------------------------------------------------------------------------------------
// Shared helpers

void append_base64(std::string& out, ByteSpan data) {
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64: length a multiple of 4, '=' only as the last one or two characters.
bool decode_base64(std::string_view s, Bytes& out) {
  if (s.size() % 4 != 0) return false;
  out.clear();
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = s[i + static_cast<std::size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[j] = base64_value(c);
      if (v[j] < 0) return false;
    }
    const std::uint32_t bits = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                               (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<std::uint8_t>(bits >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(bits >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(bits));
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode_hex(std::string_view s, std::uint8_t* out) {
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    const int hi = hex_value(s[i]);
    const int lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool parse_object_id(std::string_view s, ObjectId& oid) {
  return s.size() == 24 && decode_hex(s, oid.data());
}

// "73ffd264-44b3-4c69-90e8-e7d1dfc035d4": 8-4-4-4-12 hex digits.
bool parse_uuid(std::string_view s, std::array<std::uint8_t, 16>& out) {
  if (s.size() != 36) return false;
  std::string hex;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here != (s[i] == '-')) return false;
    if (!dash_here) hex.push_back(s[i]);
  }
  return decode_hex(hex, out.data());
}

template <class Int>
bool parse_integer(std::string_view s, Int& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_double_text(std::string_view s, double& v) {
  if (s == "Infinity") {
    v = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Infinity") {
    v = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN") {
    v = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // from_chars also takes "inf", "nan" and the like: only plain decimal numbers get through here.
  const std::size_t first = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (first >= s.size() || !((s[first] >= '0' && s[first] <= '9') || s[first] == '.')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Shortest round-trip text of a finite double in the form Go's strconv.FormatFloat(f, 'G', -1)
// gives (as mongodump writes it), with ".0" added when neither a point nor an exponent shows.
void append_double_text(std::string& out, double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  bool negative = false;
  if (!sci.empty() && sci[0] == '-') {
    negative = true;
    sci.remove_prefix(1);
  }
  const std::size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits.push_back(c);
  int exp = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  (void)std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);

  if (negative) out.push_back('-');
  const int n = static_cast<int>(digits.size());
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (n > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('E');
    out.push_back(exp < 0 ? '-' : '+');
    const int a = exp < 0 ? -exp : exp;
    if (a < 10) out.push_back('0');
    out += std::to_string(a);
    return;
  }
  const int point = exp + 1;  // digits before the decimal point
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits;
  } else if (point >= n) {
    out += digits;
    out.append(static_cast<std::size_t>(point - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(point));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(point));
  }
}

void append_two(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// "2012-12-24T12:15:30.501Z"; the fraction is left out when the milliseconds are zero.
void append_iso_date(std::string& out, std::int64_t ms) {
  using namespace std::chrono;
  const std::int64_t days = ms / 86400000;
  std::int64_t rem = ms % 86400000;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  const auto y = static_cast<unsigned>(static_cast<int>(ymd.year()));
  append_two(out, y / 100);
  append_two(out, y % 100);
  out.push_back('-');
  append_two(out, static_cast<unsigned>(ymd.month()));
  out.push_back('-');
  append_two(out, static_cast<unsigned>(ymd.day()));
  out.push_back('T');
  append_two(out, static_cast<unsigned>(rem / 3600000));
  rem %= 3600000;
  out.push_back(':');
  append_two(out, static_cast<unsigned>(rem / 60000));
  rem %= 60000;
  out.push_back(':');
  append_two(out, static_cast<unsigned>(rem / 1000));
  rem %= 1000;
  if (rem != 0) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + rem / 100));
    append_two(out, static_cast<unsigned>(rem % 100));
  }
  out.push_back('Z');
}

// ISO-8601: "YYYY-MM-DD", optionally "THH:MM[:SS[.fff...]]" and "Z" or "+HH:MM" / "+HHMM".
bool parse_iso_date(std::string_view s, std::int64_t& ms) {
  std::size_t i = 0;
  auto digits = [&](int n, int& v) {
    v = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)) return false;
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return false;
  std::int64_t offset_minutes = 0;
  if (i < s.size()) {
    if (!expect('T') && !expect(' ')) return false;
    if (!digits(2, hour) || !expect(':') || !digits(2, minute)) return false;
    if (expect(':')) {
      if (!digits(2, second)) return false;
      if (expect('.')) {
        int scale = 100;
        bool any = false;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          millis += (s[i] - '0') * scale;
          scale /= 10;
          any = true;
          ++i;
        }
        if (!any) return false;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return false;
    if (expect('Z')) {
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const bool minus = s[i] == '-';
      ++i;
      int oh, om;
      if (!digits(2, oh)) return false;
      expect(':');
      if (!digits(2, om)) return false;
      offset_minutes = (minus ? -1 : 1) * (oh * 60 + om);
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  ms = days * 86400000 + std::int64_t{hour} * 3600000 + std::int64_t{minute} * 60000 + std::int64_t{second} * 1000 +
       millis - offset_minutes * 60000;
  return true;
}

// ------------------------------------------------------------------------------------------------
// Writer

class Writer {
 public:
  Writer(std::string& out, const WriteOptions& opts)
      : out_(out), relaxed_(opts.mode == Mode::kRelaxed), indent_(opts.indent) {}

  void document(DocView doc, int depth) {
    out_.push_back('{');
    bool first = true;
    for (auto e : doc) {
      if (!first) out_.push_back(',');
      first = false;
      newline(depth + 1);
      string(e.key());
      colon();
      value(e, depth + 1);
    }
    if (!first) newline(depth);
    out_.push_back('}');
  }

  void array(DocView arr, int depth) {
    out_.push_back('[');
    bool first = true;
    for (auto e : arr) {
      if (!first) out_.push_back(',');
      first = false;
      newline(depth + 1);
      value(e, depth + 1);
    }
    if (!first) newline(depth);
    out_.push_back(']');
  }

 private:
  void newline(int depth) {
    if (indent_ <= 0) return;
    out_.push_back('\n');
    out_.append(static_cast<std::size_t>(depth) * static_cast<std::size_t>(indent_), ' ');
  }
  void colon() {
    out_.push_back(':');
    if (indent_ > 0) out_.push_back(' ');
  }
  void comma() { out_.push_back(','); }

  void string(std::string_view s) {
    out_.push_back('"');
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_.push_back(kHexLower[c >> 4]);
            out_.push_back(kHexLower[c & 15]);
          } else {
            out_.push_back(ch);
          }
      }
    }
    out_.push_back('"');
  }

  // {"<name>": then the caller writes the value, then close_wrapper().
  void open_wrapper(std::string_view name) {
    out_.push_back('{');
    string(name);
    colon();
  }
  void close_wrapper() { out_.push_back('}'); }
  void string_wrapper(std::string_view name, std::string_view v) {
    open_wrapper(name);
    string(v);
    close_wrapper();
  }
  void key(std::string_view k) {
    string(k);
    colon();
  }

  void object_id(const ObjectId& oid) {
    open_wrapper("$oid");
    out_.push_back('"');
    for (auto b : oid) {
      out_.push_back(kHexLower[b >> 4]);
      out_.push_back(kHexLower[b & 15]);
    }
    out_.push_back('"');
    close_wrapper();
  }

  void value(const ElementView& e, int depth) {
    switch (e.type()) {
      case BsonType::kDouble: double_value(e.as_double()); break;
      case BsonType::kString: string(e.as_string()); break;
      case BsonType::kDocument: document(e.as_document(), depth); break;
      case BsonType::kArray: array(e.as_document(), depth); break;
      case BsonType::kBinary: binary(e.as_binary()); break;
      case BsonType::kUndefined: literal_wrapper("$undefined", "true"); break;
      case BsonType::kObjectId: object_id(e.as_object_id()); break;
      case BsonType::kBool: out_ += e.as_bool() ? "true" : "false"; break;
      case BsonType::kDateTime: datetime(e.as_datetime()); break;
      case BsonType::kNull: out_ += "null"; break;
      case BsonType::kRegex: regex(e.as_regex()); break;
      case BsonType::kDbPointer: db_pointer(e.as_db_pointer()); break;
      case BsonType::kCode: string_wrapper("$code", e.as_code()); break;
      case BsonType::kSymbol: string_wrapper("$symbol", e.as_symbol()); break;
      case BsonType::kCodeWithScope: code_with_scope(e, depth); break;
      case BsonType::kInt32: integer("$numberInt", e.as_int32()); break;
      case BsonType::kTimestamp: timestamp(e.as_timestamp()); break;
      case BsonType::kInt64: integer("$numberLong", e.as_int64()); break;
      case BsonType::kDecimal128: string_wrapper("$numberDecimal", decimal128_to_string(e.as_decimal128())); break;
      case BsonType::kMinKey: literal_wrapper("$minKey", "1"); break;
      case BsonType::kMaxKey: literal_wrapper("$maxKey", "1"); break;
    }
  }

  // {"<name>":<literal>}, e.g. {"$minKey":1}.
  void literal_wrapper(std::string_view name, std::string_view literal) {
    open_wrapper(name);
    out_ += literal;
    close_wrapper();
  }

  // Relaxed: a finite double as a JSON number; else {"$numberDouble":"<text>"}.
  void double_value(double d) {
    if (relaxed_ && std::isfinite(d)) {
      append_double_text(out_, d);
      return;
    }
    std::string text;
    if (std::isnan(d)) {
      text = "NaN";
    } else if (std::isinf(d)) {
      text = d > 0 ? "Infinity" : "-Infinity";
    } else {
      append_double_text(text, d);
    }
    string_wrapper("$numberDouble", text);
  }

  // Relaxed: a JSON number; canonical: {"<wrapper>":"<digits>"}.
  void integer(std::string_view wrapper, std::int64_t v) {
    if (relaxed_) {
      out_ += std::to_string(v);
    } else {
      string_wrapper(wrapper, std::to_string(v));
    }
  }

  void binary(BinaryView bin) {
    // The old binary subtype 2 repeats the length inside the value; JSON shows only the bytes.
    if (bin.subtype == 2 && bin.data.size() >= 4 && load_u32(bin.data.data()) == bin.data.size() - 4)
      bin.data = bin.data.subspan(4);
    open_wrapper("$binary");
    out_.push_back('{');
    key("base64");
    out_.push_back('"');
    append_base64(out_, bin.data);
    out_.push_back('"');
    comma();
    key("subType");
    out_.push_back('"');
    out_.push_back(kHexLower[bin.subtype >> 4]);
    out_.push_back(kHexLower[bin.subtype & 15]);
    out_.push_back('"');
    out_.push_back('}');
    close_wrapper();
  }

  // Relaxed dates in years 1970 through 9999 as ISO-8601 text; the others as millisecond counts.
  void datetime(std::int64_t ms) {
    open_wrapper("$date");
    if (relaxed_ && ms >= 0 && ms <= kMaxIsoDateMs) {
      out_.push_back('"');
      append_iso_date(out_, ms);
      out_.push_back('"');
    } else {
      string_wrapper("$numberLong", std::to_string(ms));
    }
    close_wrapper();
  }

  void regex(const RegexView& re) {
    std::string options(re.options);
    std::sort(options.begin(), options.end());
    open_wrapper("$regularExpression");
    out_.push_back('{');
    key("pattern");
    string(re.pattern);
    comma();
    key("options");
    string(options);
    out_.push_back('}');
    close_wrapper();
  }

  void db_pointer(const DbPointerView& p) {
    open_wrapper("$dbPointer");
    out_.push_back('{');
    key("$ref");
    string(p.ns);
    comma();
    key("$id");
    object_id(p.oid);
    out_.push_back('}');
    close_wrapper();
  }

  void code_with_scope(const ElementView& e, int depth) {
    open_wrapper("$code");
    string(e.code_with_scope_code());
    comma();
    key("$scope");
    document(e.code_with_scope_scope(), depth);
    close_wrapper();
  }

  void timestamp(const Timestamp& ts) {
    open_wrapper("$timestamp");
    out_.push_back('{');
    key("t");
    out_ += std::to_string(ts.t);
    comma();
    key("i");
    out_ += std::to_string(ts.i);
    out_.push_back('}');
    close_wrapper();
  }

  std::string& out_;
  bool relaxed_;
  int indent_;
};

// ------------------------------------------------------------------------------------------------
// Parser

// What a member's value looked like in the text, for telling {"$date": 42} from
// {"$date": {"$numberLong": "42"}} once both are BSON.
enum class JsonKind : std::uint8_t { kString, kNumber, kObject, kArray, kLiteral, kShell };

struct Member {
  std::string key;
  JsonKind kind = JsonKind::kLiteral;
  std::size_t offset = 0;  // where the value starts
};

class Parser {
 public:
  Parser(std::string_view in, const ParseOptions& opts) : in_(in), legacy_(opts.allow_legacy) {}

  Result<Bytes> run() {
    Builder b;
    skip_ws();
    if (peek() != '{') return error("expected '{' at the start of a document");
    Status s = object(b, {}, 0, /*top=*/true);
    if (!s) return s;
    skip_ws();
    if (pos_ != in_.size()) return error("unexpected text after the document");
    return b.finish();
  }

 private:
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= in_.size(); }
  void skip_ws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }
  Status error(std::string msg) const { return error_at(std::move(msg), pos_); }
  static Status error_at(std::string msg, std::size_t at) {
    return {ErrorCode::kInvalidJson, std::move(msg), static_cast<std::int64_t>(at)};
  }
  Status expect(char c) {
    skip_ws();
    if (peek() != c) return error(std::string("expected '") + c + "'");
    ++pos_;
    return {};
  }
  static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; }
  static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
  std::string_view identifier() {
    const std::size_t start = pos_;
    while (pos_ < in_.size() && ident_char(in_[pos_])) ++pos_;
    return in_.substr(start, pos_ - start);
  }

  // A JSON string at pos_ (double-quoted; single-quoted too with legacy forms), decoded to UTF-8.
  Status string(std::string& out) {
    const std::size_t start = pos_;
    const char quote = peek();
    if (quote != '"' && !(legacy_ && quote == '\'')) return error("expected a string");
    ++pos_;
    out.clear();
    for (;;) {
      if (at_end()) return error_at("unterminated string", start);
      const char c = in_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) return error("control character in string");
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) return error_at("unterminated string", start);
      const char esc = in_[pos_++];
      switch (esc) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case '\'': out.push_back('\''); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          Status s = hex4(cp);
          if (!s) return s;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (pos_ + 1 < in_.size() && in_[pos_] == '\\' && in_[pos_ + 1] == 'u') {
              pos_ += 2;
              s = hex4(low);
              if (!s) return s;
            } else {
              return error("unpaired surrogate in \\u escape");
            }
            if (low < 0xDC00 || low > 0xDFFF) return error("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return error("unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: return error_at("invalid escape in string", pos_ - 1);
      }
    }
    if (!is_valid_utf8(out)) return error_at("string is not valid UTF-8", start);
    return {};
  }
  Status hex4(std::uint32_t& cp) {
    if (pos_ + 4 > in_.size()) return error("truncated \\u escape");
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = hex_value(in_[pos_ + static_cast<std::size_t>(i)]);
      if (v < 0) return error("bad hex digit in \\u escape");
      cp = cp << 4 | static_cast<std::uint32_t>(v);
    }
    pos_ += 4;
    return {};
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
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

  // A member name: a string, or with legacy forms also a bare identifier ({a: 1}).
  Status key(std::string& out) {
    skip_ws();
    const std::size_t start = pos_;
    if (legacy_ && ident_start(peek())) {
      out = std::string(identifier());
    } else {
      Status s = string(out);
      if (!s) return s;
    }
    if (out.find('\0') != std::string::npos) return error_at("NUL character in a key", start);
    return expect(':');
  }

  // The text of a JSON number at pos_ (strict JSON grammar).
  Status number_text(std::string_view& text, bool& integral) {
    const std::size_t start = pos_;
    integral = true;
    if (peek() == '-') ++pos_;
    auto digits = [&] {
      const std::size_t d = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    const std::size_t int_start = pos_;
    const std::size_t n = digits();
    if (n == 0) return error("expected a digit");
    if (n > 1 && in_[int_start] == '0') return error_at("leading zero in a number", int_start);
    if (peek() == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) return error("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      integral = false;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) return error("expected a digit in the exponent");
    }
    text = in_.substr(start, pos_ - start);
    return {};
  }

  // Relaxed rules: integers become int32 when they fit, else int64, else double.
  Status number(Builder& b, std::string_view k) {
    const std::size_t start = pos_;
    std::string_view text;
    bool integral;
    Status s = number_text(text, integral);
    if (!s) return s;
    if (integral) {
      std::int64_t v;
      if (parse_integer(text, v)) {
        if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
          b.append_int32(k, static_cast<std::int32_t>(v));
        } else {
          b.append_int64(k, v);
        }
        return {};
      }
    }
    double d;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || p != text.data() + text.size()) return error_at("number out of range", start);
    b.append_double(k, d);
    return {};
  }

  Status value(Builder& b, std::string_view k, int depth, JsonKind* kind = nullptr) {
    skip_ws();
    if (depth > kMaxDepth) return error("nesting too deep");
    const char c = peek();
    JsonKind local;
    JsonKind& kd = kind ? *kind : local;
    if (c == '{') {
      kd = JsonKind::kObject;
      return object(b, k, depth, false);
    }
    if (c == '[') {
      kd = JsonKind::kArray;
      return array(b, k, depth);
    }
    if (c == '"' || (legacy_ && c == '\'')) {
      kd = JsonKind::kString;
      std::string s;
      Status st = string(s);
      if (!st) return st;
      b.append_string(k, s);
      return {};
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      kd = JsonKind::kNumber;
      return number(b, k);
    }
    if (ident_start(c)) {
      const std::size_t start = pos_;
      const std::string_view word = identifier();
      kd = JsonKind::kLiteral;
      if (word == "true") {
        b.append_bool(k, true);
        return {};
      }
      if (word == "false") {
        b.append_bool(k, false);
        return {};
      }
      if (word == "null") {
        b.append_null(k);
        return {};
      }
      if (legacy_) {
        kd = JsonKind::kShell;
        return shell_value(b, k, word, start);
      }
      return error_at("unexpected word '" + std::string(word) + "'", start);
    }
    if (at_end()) return error("unexpected end of input");
    return error("unexpected character");
  }

  Status array(Builder& b, std::string_view k, int depth) {
    ++pos_;  // '['
    b.open_array(k);
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      b.close();
      return {};
    }
    for (;;) {
      Status s = value(b, b.next_array_key(), depth + 1);
      if (!s) return s;
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        break;
      }
      return error("expected ',' or ']'");
    }
    b.close();
    return {};
  }

  // An object: streamed into `b` as a document, unless its first key starts with '$' (then it may
  // be a type wrapper: buffered, then interpreted). The top level is always a plain document.
  Status object(Builder& b, std::string_view k, int depth, bool top) {
    const std::size_t start = pos_;
    ++pos_;  // '{'
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      if (!top) b.open_document(k).close();
      return {};
    }
    std::string first;
    Status s = key(first);
    if (!s) return s;
    if (!top && !first.empty() && first[0] == '$') return dollar_object(b, k, depth, start, std::move(first));
    if (!top) b.open_document(k);
    std::string name = std::move(first);
    for (;;) {
      s = value(b, name, depth + 1);
      if (!s) return s;
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (peek() != ',') return error("expected ',' or '}'");
      ++pos_;
      s = key(name);
      if (!s) return s;
    }
    if (!top) b.close();
    return {};
  }

  Status dollar_object(Builder& b, std::string_view k, int depth, std::size_t start, std::string first) {
    Builder tmp;
    std::vector<Member> members;
    members.push_back({std::move(first), JsonKind::kLiteral, 0});
    for (;;) {
      skip_ws();
      members.back().offset = pos_;
      Status s = value(tmp, members.back().key, depth + 1, &members.back().kind);
      if (!s) return s;
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (peek() != ',') return error("expected ',' or '}'");
      ++pos_;
      members.push_back({});
      s = key(members.back().key);
      if (!s) return s;
    }
    const Bytes bytes = tmp.finish();
    return interpret(b, k, DocView(bytes), members, start);
  }

  static bool doc_keys_are(DocView d, std::initializer_list<std::string_view> keys) {
    if (d.count() != keys.size()) return false;
    for (auto key : keys)
      if (!d.find(key).valid()) return false;
    return true;
  }

  static bool as_uint32(const ElementView& e, std::uint32_t& v) {
    std::int64_t x;
    if (e.type() == BsonType::kInt32) {
      x = e.as_int32();
    } else if (e.type() == BsonType::kInt64) {
      x = e.as_int64();
    } else {
      return false;
    }
    if (x < 0 || x > std::numeric_limits<std::uint32_t>::max()) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }

  // The wrapper a buffered '$'-object names: its key, value, how the value was written, where it
  // starts, how many members the object has and where the object starts.
  struct Wrapper {
    std::string_view name;
    ElementView v;
    JsonKind kind;
    std::size_t at;
    std::size_t n;
    std::size_t start;
  };
  using WrapperFn = Status (Parser::*)(Builder&, std::string_view, DocView, const Wrapper&);
  struct WrapperRule {
    std::string_view name;
    bool alone;  // the wrapper's key must be the object's only one
    WrapperFn append;
  };

  static const WrapperRule* wrapper_rule(std::string_view key) {
    static constexpr WrapperRule kRules[] = {
        {"$oid", true, &Parser::oid_wrapper},
        {"$symbol", true, &Parser::symbol_wrapper},
        {"$numberInt", true, &Parser::int32_wrapper},
        {"$numberLong", true, &Parser::int64_wrapper},
        {"$numberDouble", true, &Parser::double_wrapper},
        {"$numberDecimal", true, &Parser::decimal_wrapper},
        {"$binary", false, &Parser::binary_wrapper},
        {"$uuid", true, &Parser::uuid_wrapper},
        {"$code", false, &Parser::code_wrapper},
        {"$timestamp", true, &Parser::timestamp_wrapper},
        {"$regularExpression", true, &Parser::regex_wrapper},
        {"$dbPointer", true, &Parser::db_pointer_wrapper},
        {"$date", true, &Parser::date_wrapper},
        {"$minKey", true, &Parser::min_max_key_wrapper},
        {"$maxKey", true, &Parser::min_max_key_wrapper},
        {"$undefined", true, &Parser::undefined_wrapper},
    };
    for (const WrapperRule& r : kRules)
      if (r.name == key) return &r;
    return nullptr;
  }

  // Turns a buffered '$'-object into the BSON value its wrapper names, or copies it as a plain
  // document when it is not a wrapper ($regex query operator, DBRef, other '$' keys).
  Status interpret(Builder& b, std::string_view k, DocView d, const std::vector<Member>& members, std::size_t start) {
    const Member* main = nullptr;
    const WrapperRule* rule = nullptr;
    for (auto& m : members) {
      rule = wrapper_rule(m.key);
      if (rule != nullptr) {
        main = &m;
        break;
      }
    }
    const std::size_t n = members.size();
    if (main == nullptr) {
      // Legacy regex: {"$regex": "<pattern>", "$options": "<flags>"} (both strings).
      const ElementView re = d.find("$regex");
      const ElementView opts = d.find("$options");
      if (n == 2 && re.valid() && opts.valid() && re.type() == BsonType::kString && opts.type() == BsonType::kString) {
        return append_regex(b, k, re.as_string(), opts.as_string(), start);
      }
      b.append_document(k, d);
      return {};
    }
    const Wrapper w{main->key, d.find(main->key), main->kind, main->offset, n, start};
    if (rule->alone && n != 1) return error_at("unexpected extra key in " + std::string(w.name) + " wrapper", start);
    return (this->*rule->append)(b, k, d, w);
  }

  Status bad(const Wrapper& w, std::string_view why) const {
    return error_at("invalid " + std::string(w.name) + ": " + std::string(why), w.at);
  }

  // {"$code": "<code>"}, or with "$scope": {...} code with scope.
  Status code_wrapper(Builder& b, std::string_view k, DocView d, const Wrapper& w) {
    if (w.v.type() != BsonType::kString || w.kind != JsonKind::kString) return bad(w, "expected a string");
    if (w.n == 1) {
      b.append_code(k, w.v.as_string());
      return {};
    }
    const ElementView scope = d.find("$scope");
    if (w.n != 2 || !scope.valid()) return error_at("unexpected extra key in $code wrapper", w.start);
    if (scope.type() != BsonType::kDocument) return error_at("invalid $scope: expected a document", w.start);
    b.append_code_with_scope(k, w.v.as_string(), scope.as_document());
    return {};
  }

  // {"$binary": {"base64": "..", "subType": ".."}}, or the legacy {"$binary": "..", "$type": ".."}.
  Status binary_wrapper(Builder& b, std::string_view k, DocView d, const Wrapper& w) {
    if (w.n == 2) {
      const ElementView type = d.find("$type");
      if (!type.valid()) return error_at("unexpected extra key in $binary wrapper", w.start);
      if (w.v.type() != BsonType::kString || type.type() != BsonType::kString)
        return bad(w, "legacy form needs string $binary and $type");
      return append_binary(b, k, w.v.as_string(), type.as_string(), w.at);
    }
    if (w.v.type() != BsonType::kDocument) return bad(w, "expected a document");
    const DocView bin = w.v.as_document();
    if (!doc_keys_are(bin, {"base64", "subType"})) return bad(w, "expected exactly \"base64\" and \"subType\"");
    const ElementView data = bin.find("base64");
    const ElementView sub = bin.find("subType");
    if (data.type() != BsonType::kString || sub.type() != BsonType::kString)
      return bad(w, "\"base64\" and \"subType\" must be strings");
    return append_binary(b, k, data.as_string(), sub.as_string(), w.at);
  }

  Status oid_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    ObjectId oid;
    if (w.v.type() != BsonType::kString || !parse_object_id(w.v.as_string(), oid))
      return bad(w, "expected a string of 24 hex digits");
    b.append_object_id(k, oid);
    return {};
  }

  Status symbol_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.v.type() != BsonType::kString || w.kind != JsonKind::kString) return bad(w, "expected a string");
    b.append_symbol(k, w.v.as_string());
    return {};
  }

  Status int32_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    std::int32_t x;
    if (w.kind != JsonKind::kString || !parse_integer(w.v.as_string(), x)) return bad(w, "expected an int32 string");
    b.append_int32(k, x);
    return {};
  }

  Status int64_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    std::int64_t x;
    if (w.kind != JsonKind::kString || !parse_integer(w.v.as_string(), x)) return bad(w, "expected an int64 string");
    b.append_int64(k, x);
    return {};
  }

  Status double_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    double x;
    if (w.kind != JsonKind::kString || !parse_double_text(w.v.as_string(), x))
      return bad(w, "expected a double string");
    b.append_double(k, x);
    return {};
  }

  Status decimal_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.kind != JsonKind::kString) return bad(w, "expected a Decimal128 string");
    auto dec = decimal128_from_string(w.v.as_string());
    if (!dec) return bad(w, dec.status().message());
    b.append_decimal128(k, *dec);
    return {};
  }

  Status uuid_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    std::array<std::uint8_t, 16> uuid;
    if (w.v.type() != BsonType::kString || !parse_uuid(w.v.as_string(), uuid))
      return bad(w, "expected a UUID string like 00112233-4455-6677-8899-aabbccddeeff");
    b.append_binary(k, 4, uuid);
    return {};
  }

  Status timestamp_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.v.type() != BsonType::kDocument) return bad(w, "expected a document");
    const DocView ts = w.v.as_document();
    Timestamp t;
    if (!doc_keys_are(ts, {"t", "i"}) || !as_uint32(ts.find("t"), t.t) || !as_uint32(ts.find("i"), t.i))
      return bad(w, "expected {\"t\": <uint32>, \"i\": <uint32>}");
    b.append_timestamp(k, t);
    return {};
  }

  Status regex_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.v.type() != BsonType::kDocument) return bad(w, "expected a document");
    const DocView re = w.v.as_document();
    if (!doc_keys_are(re, {"pattern", "options"})) return bad(w, "expected exactly \"pattern\" and \"options\"");
    const ElementView pattern = re.find("pattern");
    const ElementView options = re.find("options");
    if (pattern.type() != BsonType::kString || options.type() != BsonType::kString)
      return bad(w, "\"pattern\" and \"options\" must be strings");
    return append_regex(b, k, pattern.as_string(), options.as_string(), w.at);
  }

  Status db_pointer_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.v.type() != BsonType::kDocument) return bad(w, "expected a document");
    const DocView p = w.v.as_document();
    if (!doc_keys_are(p, {"$ref", "$id"})) return bad(w, "expected exactly \"$ref\" and \"$id\"");
    const ElementView ref = p.find("$ref");
    const ElementView id = p.find("$id");
    if (ref.type() != BsonType::kString || id.type() != BsonType::kObjectId)
      return bad(w, "expected a string $ref and an ObjectId $id");
    b.append_db_pointer(k, ref.as_string(), id.as_object_id());
    return {};
  }

  // {"$date": {"$numberLong": ".."}} or an ISO-8601 string; with legacy forms also a number of
  // milliseconds.
  Status date_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    const ElementView& v = w.v;
    const bool legacy_number = legacy_ && w.kind == JsonKind::kNumber;
    std::int64_t ms;
    if (w.kind == JsonKind::kObject && v.type() == BsonType::kInt64) {
      ms = v.as_int64();
    } else if (w.kind == JsonKind::kString) {
      if (!parse_iso_date(v.as_string(), ms)) return bad(w, "expected an ISO-8601 date");
    } else if (legacy_number && v.type() == BsonType::kInt32) {
      ms = v.as_int32();
    } else if (legacy_number && v.type() == BsonType::kInt64) {
      ms = v.as_int64();
    } else if (legacy_number && v.type() == BsonType::kDouble && std::trunc(v.as_double()) == v.as_double() &&
               std::fabs(v.as_double()) < 9.2e18) {
      ms = static_cast<std::int64_t>(v.as_double());  // e.g. 1.35635133e+12 from a JSON encoder
    } else {
      return bad(w, "expected {\"$numberLong\": \"<millis>\"} or an ISO-8601 string");
    }
    b.append_datetime(k, ms);
    return {};
  }

  Status min_max_key_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.kind != JsonKind::kNumber || w.v.type() != BsonType::kInt32 || w.v.as_int32() != 1)
      return bad(w, "expected the number 1");
    if (w.name == "$minKey") {
      b.append_min_key(k);
    } else {
      b.append_max_key(k);
    }
    return {};
  }

  Status undefined_wrapper(Builder& b, std::string_view k, DocView, const Wrapper& w) {
    if (w.v.type() != BsonType::kBool || !w.v.as_bool()) return bad(w, "expected true");
    b.append_undefined(k);
    return {};
  }

  Status append_regex(Builder& b, std::string_view k, std::string_view pattern, std::string_view options,
                      std::size_t at) {
    if (pattern.find('\0') != std::string_view::npos || options.find('\0') != std::string_view::npos)
      return error_at("NUL character in a regular expression", at);
    std::string sorted(options);
    std::sort(sorted.begin(), sorted.end());
    b.append_regex(k, pattern, sorted);
    return {};
  }

  Status append_binary(Builder& b, std::string_view k, std::string_view b64, std::string_view subtype, std::size_t at) {
    if (subtype.empty() || subtype.size() > 2)
      return error_at("invalid $binary: subType must be 1 or 2 hex digits", at);
    int sub = 0;
    for (char c : subtype) {
      const int h = hex_value(c);
      if (h < 0) return error_at("invalid $binary: subType must be hex", at);
      sub = sub * 16 + h;
    }
    Bytes data;
    if (!decode_base64(b64, data)) return error_at("invalid $binary: bad base64", at);
    if (sub == 2) {
      // Old binary subtype: the value starts with its own int32 length.
      const auto n = static_cast<std::uint32_t>(data.size());
      const std::uint8_t len[4] = {static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8),
                                   static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 24)};
      data.insert(data.begin(), len, len + 4);
    }
    b.append_binary(k, static_cast<std::uint8_t>(sub), data);
    return {};
  }

  // ---- shell forms (legacy): ObjectId("..."), ISODate("..."), NumberLong(1), new Date(0), ...

  struct Arg {
    std::string text;
    bool is_string = false;
    std::size_t offset = 0;
  };

  Status args(std::vector<Arg>& out) {
    skip_ws();
    if (peek() != '(') return error("expected '('");
    ++pos_;
    skip_ws();
    if (peek() == ')') {
      ++pos_;
      return {};
    }
    for (;;) {
      skip_ws();
      Arg a;
      a.offset = pos_;
      if (peek() == '"' || peek() == '\'') {
        a.is_string = true;
        Status s = string(a.text);
        if (!s) return s;
      } else if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
        std::string_view text;
        bool integral;
        Status s = number_text(text, integral);
        if (!s) return s;
        a.text = std::string(text);
      } else {
        return error("expected a string or a number argument");
      }
      out.push_back(std::move(a));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ')') {
        ++pos_;
        return {};
      }
      return error("expected ',' or ')'");
    }
  }

  // A shell constructor call: its name, arguments and where the name starts.
  struct Call {
    std::string_view word;
    std::vector<Arg> a;
    std::size_t start;
  };
  using ConstructorFn = Status (Parser::*)(Builder&, std::string_view, const Call&);
  struct Constructor {
    std::string_view word;
    ConstructorFn append;
  };

  static const Constructor* constructor(std::string_view word) {
    static constexpr Constructor kConstructors[] = {
        {"ObjectId", &Parser::shell_object_id},
        {"ISODate", &Parser::shell_date},
        {"Date", &Parser::shell_date},
        {"NumberLong", &Parser::shell_number_long},
        {"NumberInt", &Parser::shell_number_int},
        {"Timestamp", &Parser::shell_timestamp},
        {"BinData", &Parser::shell_bin_data},
        {"UUID", &Parser::shell_uuid},
        {"NumberDecimal", &Parser::shell_number_decimal},
    };
    for (const Constructor& c : kConstructors)
      if (c.word == word) return &c;
    return nullptr;
  }

  Status shell_value(Builder& b, std::string_view k, std::string_view word, std::size_t start) {
    if (word == "new") {
      skip_ws();
      const std::size_t s2 = pos_;
      word = identifier();
      if (word != "Date" && word != "ISODate") return error_at("expected Date after 'new'", s2);
    }
    if (word == "undefined") {
      b.append_undefined(k);
      return {};
    }
    if (word == "MinKey" || word == "MaxKey") return shell_min_max_key(b, k, word, start);
    const Constructor* c = constructor(word);
    if (c == nullptr) return error_at("unknown value '" + std::string(word) + "'", start);
    Call call{word, {}, start};
    Status s = args(call.a);
    if (!s) return s;
    return (this->*c->append)(b, k, call);
  }

  // MinKey or MaxKey, with or without "()".
  Status shell_min_max_key(Builder& b, std::string_view k, std::string_view word, std::size_t start) {
    skip_ws();
    if (peek() == '(') {
      std::vector<Arg> none;
      Status s = args(none);
      if (!s) return s;
      if (!none.empty()) return error_at(std::string(word) + " takes no arguments", start);
    }
    if (word == "MinKey") {
      b.append_min_key(k);
    } else {
      b.append_max_key(k);
    }
    return {};
  }

  Status bad_call(const Call& c, std::string_view why) const {
    return error_at(std::string(c.word) + "(): " + std::string(why), c.start);
  }

  Status shell_object_id(Builder& b, std::string_view k, const Call& c) {
    ObjectId oid;
    if (c.a.size() != 1 || !c.a[0].is_string || !parse_object_id(c.a[0].text, oid))
      return bad_call(c, "expected 24 hex digits");
    b.append_object_id(k, oid);
    return {};
  }

  // ISODate/Date: an ISO-8601 string or integer milliseconds.
  Status shell_date(Builder& b, std::string_view k, const Call& c) {
    std::int64_t ms = 0;
    if (c.a.size() != 1) return bad_call(c, "expected one argument");
    if (c.a[0].is_string) {
      if (!parse_iso_date(c.a[0].text, ms)) return bad_call(c, "expected an ISO-8601 date");
    } else if (!parse_integer(c.a[0].text, ms)) {
      return bad_call(c, "expected integer milliseconds");
    }
    b.append_datetime(k, ms);
    return {};
  }

  Status shell_number_long(Builder& b, std::string_view k, const Call& c) {
    std::int64_t x;
    if (c.a.size() != 1 || !parse_integer(c.a[0].text, x)) return bad_call(c, "expected an int64");
    b.append_int64(k, x);
    return {};
  }

  Status shell_number_int(Builder& b, std::string_view k, const Call& c) {
    std::int32_t x;
    if (c.a.size() != 1 || !parse_integer(c.a[0].text, x)) return bad_call(c, "expected an int32");
    b.append_int32(k, x);
    return {};
  }

  Status shell_number_decimal(Builder& b, std::string_view k, const Call& c) {
    if (c.a.size() != 1) return bad_call(c, "expected one argument");
    auto dec = decimal128_from_string(c.a[0].text);
    if (!dec) return bad_call(c, dec.status().message());
    b.append_decimal128(k, *dec);
    return {};
  }

  Status shell_timestamp(Builder& b, std::string_view k, const Call& c) {
    std::uint32_t t, i;
    if (c.a.size() != 2 || c.a[0].is_string || c.a[1].is_string || !parse_integer(c.a[0].text, t) ||
        !parse_integer(c.a[1].text, i))
      return bad_call(c, "expected two uint32 numbers");
    b.append_timestamp(k, Timestamp{t, i});
    return {};
  }

  Status shell_bin_data(Builder& b, std::string_view k, const Call& c) {
    std::uint8_t sub;
    if (c.a.size() != 2 || c.a[0].is_string || !c.a[1].is_string || !parse_integer(c.a[0].text, sub))
      return bad_call(c, "expected a subtype number and a base64 string");
    Bytes data;
    if (!decode_base64(c.a[1].text, data)) return bad_call(c, "bad base64");
    b.append_binary(k, sub, data);
    return {};
  }

  // UUID("00112233-4455-6677-8899-aabbccddeeff") or 32 hex digits.
  Status shell_uuid(Builder& b, std::string_view k, const Call& c) {
    std::array<std::uint8_t, 16> uuid;
    if (c.a.size() != 1 || !c.a[0].is_string) return bad_call(c, "expected a UUID string");
    const std::string& t = c.a[0].text;
    const bool ok = t.size() == 32 ? decode_hex(t, uuid.data()) : parse_uuid(t, uuid);
    if (!ok) return bad_call(c, "expected a UUID string");
    b.append_binary(k, 4, uuid);
    return {};
  }

  std::string_view in_;
  bool legacy_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string to_json(DocView doc, const WriteOptions& opts) {
  std::string out;
  out.reserve(doc.size() * 2);
  append_json(out, doc, opts);
  return out;
}

void append_json(std::string& out, DocView doc, const WriteOptions& opts) {
  Writer(out, opts).document(doc, 0);
}

void append_json_array(std::string& out, DocView arr, const WriteOptions& opts) {
  Writer(out, opts).array(arr, 0);
}

Result<Bytes> parse(std::string_view json, const ParseOptions& opts) {
  return Parser(json, opts).run();
}

}  // namespace bsonpipe::formats::extjson
