#include "formats/bson.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "formats/doc_sequence.hpp"

namespace bsonpipe::formats {

std::string_view type_name(BsonType t) {
  switch (t) {
    case BsonType::kDouble: return "double";
    case BsonType::kString: return "string";
    case BsonType::kDocument: return "document";
    case BsonType::kArray: return "array";
    case BsonType::kBinary: return "binary";
    case BsonType::kUndefined: return "undefined";
    case BsonType::kObjectId: return "objectId";
    case BsonType::kBool: return "bool";
    case BsonType::kDateTime: return "date";
    case BsonType::kNull: return "null";
    case BsonType::kRegex: return "regex";
    case BsonType::kDbPointer: return "dbPointer";
    case BsonType::kCode: return "javascript";
    case BsonType::kSymbol: return "symbol";
    case BsonType::kCodeWithScope: return "javascriptWithScope";
    case BsonType::kInt32: return "int";
    case BsonType::kTimestamp: return "timestamp";
    case BsonType::kInt64: return "long";
    case BsonType::kDecimal128: return "decimal";
    case BsonType::kMinKey: return "minKey";
    case BsonType::kMaxKey: return "maxKey";
  }
  return "unknown";
}

bool is_known_type(std::uint8_t t) {
  return (t >= 0x01 && t <= 0x13) || t == 0xFF || t == 0x7F;
}

int canonical_type_rank(BsonType t) {
  switch (t) {
    case BsonType::kMinKey: return 1;
    case BsonType::kUndefined:
    case BsonType::kNull: return 5;
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128: return 10;
    case BsonType::kString:
    case BsonType::kSymbol: return 15;
    case BsonType::kDocument: return 20;
    case BsonType::kArray: return 25;
    case BsonType::kBinary: return 30;
    case BsonType::kObjectId: return 35;
    case BsonType::kBool: return 40;
    case BsonType::kDateTime: return 45;
    case BsonType::kTimestamp: return 47;
    case BsonType::kRegex: return 50;
    case BsonType::kDbPointer: return 55;
    case BsonType::kCode: return 60;
    case BsonType::kCodeWithScope: return 65;
    case BsonType::kMaxKey: return 127;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Element access

double ElementView::as_double() const {
  double d;
  std::memcpy(&d, value_ptr(), 8);
  return d;
}

std::string_view ElementView::as_string() const {
  auto len = static_cast<std::size_t>(load_i32(value_ptr()));
  return {reinterpret_cast<const char*>(value_ptr() + 4), len - 1};
}

DocView ElementView::as_document() const {
  return {value_ptr(), value_size_};
}

BinaryView ElementView::as_binary() const {
  auto len = static_cast<std::size_t>(load_i32(value_ptr()));
  return {value_ptr()[4], ByteSpan(value_ptr() + 5, len)};
}

ObjectId ElementView::as_object_id() const {
  ObjectId oid;
  std::memcpy(oid.data(), value_ptr(), 12);
  return oid;
}

RegexView ElementView::as_regex() const {
  const char* p = reinterpret_cast<const char*>(value_ptr());
  std::string_view pattern(p);
  std::string_view options(p + pattern.size() + 1);
  return {pattern, options};
}

DbPointerView ElementView::as_db_pointer() const {
  DbPointerView v;
  auto len = static_cast<std::size_t>(load_i32(value_ptr()));
  v.ns = {reinterpret_cast<const char*>(value_ptr() + 4), len - 1};
  std::memcpy(v.oid.data(), value_ptr() + 4 + len, 12);
  return v;
}

std::string_view ElementView::code_with_scope_code() const {
  auto len = static_cast<std::size_t>(load_i32(value_ptr() + 4));
  return {reinterpret_cast<const char*>(value_ptr() + 8), len - 1};
}

DocView ElementView::code_with_scope_scope() const {
  auto len = static_cast<std::size_t>(load_i32(value_ptr() + 4));
  const std::uint8_t* scope = value_ptr() + 8 + len;
  return {scope, static_cast<std::size_t>(load_i32(scope))};
}

double ElementView::number_as_double() const {
  switch (type()) {
    case BsonType::kDouble: return as_double();
    case BsonType::kInt32: return as_int32();
    case BsonType::kInt64: return static_cast<double>(as_int64());
    default: return 0;
  }
}

namespace {

// Size of an element's value, for validated data (no bounds checks beyond `end`).
std::size_t value_size_unchecked(BsonType t, const std::uint8_t* v) {
  switch (t) {
    case BsonType::kDouble:
    case BsonType::kDateTime:
    case BsonType::kTimestamp:
    case BsonType::kInt64: return 8;
    case BsonType::kString:
    case BsonType::kCode:
    case BsonType::kSymbol: return 4 + static_cast<std::size_t>(load_i32(v));
    case BsonType::kDocument:
    case BsonType::kArray:
    case BsonType::kCodeWithScope: return static_cast<std::size_t>(load_i32(v));
    case BsonType::kBinary: return 5 + static_cast<std::size_t>(load_i32(v));
    case BsonType::kUndefined:
    case BsonType::kNull:
    case BsonType::kMinKey:
    case BsonType::kMaxKey: return 0;
    case BsonType::kObjectId: return 12;
    case BsonType::kBool: return 1;
    case BsonType::kRegex: {
      const char* p = reinterpret_cast<const char*>(v);
      std::size_t a = std::strlen(p) + 1;
      std::size_t b = std::strlen(p + a) + 1;
      return a + b;
    }
    case BsonType::kDbPointer: return 4 + static_cast<std::size_t>(load_i32(v)) + 12;
    case BsonType::kInt32: return 4;
    case BsonType::kDecimal128: return 16;
  }
  return 0;
}

}  // namespace

void DocView::Iterator::load() {
  if (p_ >= end_) {
    p_ = end_;
    return;
  }
  const char* key = reinterpret_cast<const char*>(p_ + 1);
  std::size_t key_len = std::strlen(key);
  const std::uint8_t* v = p_ + 1 + key_len + 1;
  cur_ = ElementView(p_, key_len, value_size_unchecked(static_cast<BsonType>(p_[0]), v));
}

ElementView DocView::find(std::string_view key) const {
  for (auto e : *this)
    if (e.key() == key) return e;
  return {};
}

ElementView DocView::find_path(std::string_view path) const {
  DocView doc = *this;
  while (true) {
    auto dot = path.find('.');
    ElementView e = doc.find(path.substr(0, dot));
    if (dot == std::string_view::npos || !e.valid()) return e;
    if (e.type() != BsonType::kDocument && e.type() != BsonType::kArray) return {};
    doc = e.as_document();
    path.remove_prefix(dot + 1);
  }
}

std::size_t DocView::count() const {
  return static_cast<std::size_t>(std::distance(begin(), end()));
}

// ---------------------------------------------------------------------------------------------
// Validation

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      min = 0x80;
      c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      min = 0x800;
      c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      min = 0x10000;
      c &= 0x07;
    } else {
      return false;
    }
    if (e - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

namespace {

class Validator {
 public:
  Validator(const ValidateOptions& opts, const std::uint8_t* base, std::int64_t base_offset)
      : opts_(opts), base_(base), base_offset_(base_offset) {}

  // Validates the document at [p, p+avail) whose length prefix must be exactly `avail` when
  // `exact` (the top level, embedded values whose size is fixed by their container).
  Status document(const std::uint8_t* p, std::size_t avail, int depth) {
    if (depth > opts_.max_depth) return fail(p, "nesting deeper than " + std::to_string(opts_.max_depth));
    if (avail < 5) return fail(p, "document truncated: " + std::to_string(avail) + " bytes left, need at least 5");
    std::int32_t len = load_i32(p);
    if (len < 5) return fail(p, "document length " + std::to_string(len) + " is below the minimum of 5");
    if (static_cast<std::size_t>(len) != avail)
      return fail(p, "document length " + std::to_string(len) + " does not match the " + std::to_string(avail) +
                         " bytes it must span");
    const std::uint8_t* end = p + len - 1;  // the terminator
    if (*end != 0) return fail(end, "document terminator is 0x" + hex(*end) + ", not 0x00");
    const std::uint8_t* q = p + 4;
    while (q < end) {
      std::uint8_t t = *q;
      if (t == 0) return fail(q, "document terminator before the end of the document");
      if (!is_known_type(t)) return fail(q, "unknown BSON type 0x" + hex(t));
      const std::uint8_t* key = q + 1;
      const void* nul = std::memchr(key, 0, static_cast<std::size_t>(end - key));
      if (nul == nullptr) return fail(key, "element key is not terminated");
      const auto* v = static_cast<const std::uint8_t*>(nul) + 1;
      std::string_view k(reinterpret_cast<const char*>(key), static_cast<const std::uint8_t*>(nul) - key);
      if (opts_.check_utf8 && !is_valid_utf8(k)) return fail(key, "key is not valid UTF-8");
      std::size_t vsize = 0;
      if (Status s = value(static_cast<BsonType>(t), v, static_cast<std::size_t>(end - v), depth, vsize); !s) return s;
      q = v + vsize;
    }
    return {};
  }

 private:
  Status value(BsonType t, const std::uint8_t* v, std::size_t avail, int depth, std::size_t& size) {
    switch (t) {
      case BsonType::kDouble:
      case BsonType::kDateTime:
      case BsonType::kTimestamp:
      case BsonType::kInt64: return fixed(t, v, avail, 8, size);
      case BsonType::kInt32: return fixed(t, v, avail, 4, size);
      case BsonType::kDecimal128: return fixed(t, v, avail, 16, size);
      case BsonType::kObjectId: return fixed(t, v, avail, 12, size);
      case BsonType::kUndefined:
      case BsonType::kNull:
      case BsonType::kMinKey:
      case BsonType::kMaxKey: return fixed(t, v, avail, 0, size);
      case BsonType::kBool:
        if (Status s = fixed(t, v, avail, 1, size); !s) return s;
        if (v[0] > 1) return fail(v, "boolean value " + std::to_string(v[0]) + " is neither 0 nor 1");
        return {};
      case BsonType::kString:
      case BsonType::kCode:
      case BsonType::kSymbol: return string(v, avail, size);
      case BsonType::kDocument:
      case BsonType::kArray: return embedded_document(v, avail, depth, size);
      case BsonType::kBinary: return binary(v, avail, size);
      case BsonType::kRegex: return regex(v, avail, size);
      case BsonType::kDbPointer: return db_pointer(v, avail, size);
      case BsonType::kCodeWithScope: return code_with_scope(v, avail, depth, size);
    }
    return fail(v, "unknown type");
  }

  // A value of `n` bytes.
  Status fixed(BsonType t, const std::uint8_t* v, std::size_t avail, std::size_t n, std::size_t& size) {
    if (avail < n) return fail(v, std::string(type_name(t)) + " value truncated");
    size = n;
    return {};
  }

  Status embedded_document(const std::uint8_t* v, std::size_t avail, int depth, std::size_t& size) {
    if (avail < 4) return fail(v, "embedded document length truncated");
    std::int32_t len = load_i32(v);
    if (len < 5 || static_cast<std::size_t>(len) > avail)
      return fail(v, "embedded document length " + std::to_string(len) + " overruns its container");
    size = static_cast<std::size_t>(len);
    if (opts_.full_depth > 0 && depth >= opts_.full_depth) {  // deeper than asked: its bounds only
      if (v[size - 1] != 0) return fail(v + size - 1, "embedded document terminator is not 0x00");
      return {};
    }
    return document(v, size, depth + 1);
  }

  Status binary(const std::uint8_t* v, std::size_t avail, std::size_t& size) {
    if (avail < 5) return fail(v, "binary length truncated");
    std::int32_t len = load_i32(v);
    if (len < 0 || static_cast<std::size_t>(len) > avail - 5)
      return fail(v, "binary length " + std::to_string(len) + " overruns the document");
    if (v[4] == 0x02) {  // old binary: an inner length that must agree
      if (len < 4) return fail(v, "binary subtype 0x02 is shorter than its inner length");
      std::int32_t inner = load_i32(v + 5);
      if (inner != len - 4)
        return fail(v + 5, "binary subtype 0x02 inner length " + std::to_string(inner) + " disagrees with " +
                               std::to_string(len - 4));
    }
    size = 5 + static_cast<std::size_t>(len);
    return {};
  }

  Status regex(const std::uint8_t* v, std::size_t avail, std::size_t& size) {
    const void* a = std::memchr(v, 0, avail);
    if (a == nullptr) return fail(v, "regex pattern is not terminated");
    std::size_t alen = static_cast<const std::uint8_t*>(a) - v + 1;
    const void* b = std::memchr(v + alen, 0, avail - alen);
    if (b == nullptr) return fail(v + alen, "regex options are not terminated");
    size = static_cast<const std::uint8_t*>(b) - v + 1;
    if (opts_.check_utf8 && !is_valid_utf8({reinterpret_cast<const char*>(v), alen - 1}))
      return fail(v, "regex pattern is not valid UTF-8");
    return {};
  }

  Status db_pointer(const std::uint8_t* v, std::size_t avail, std::size_t& size) {
    std::size_t ssize = 0;
    if (Status s = string(v, avail, ssize); !s) return s;
    if (avail - ssize < 12) return fail(v + ssize, "dbPointer ObjectId truncated");
    size = ssize + 12;
    return {};
  }

  Status code_with_scope(const std::uint8_t* v, std::size_t avail, int depth, std::size_t& size) {
    if (avail < 4) return fail(v, "code with scope length truncated");
    std::int32_t total = load_i32(v);
    if (total < 14 || static_cast<std::size_t>(total) > avail)
      return fail(v, "code with scope length " + std::to_string(total) + " is out of range");
    std::size_t ssize = 0;
    if (Status s = string(v + 4, static_cast<std::size_t>(total) - 4, ssize); !s) return s;
    std::size_t scope_avail = static_cast<std::size_t>(total) - 4 - ssize;
    const std::uint8_t* scope = v + 4 + ssize;
    if (scope_avail < 5 || static_cast<std::size_t>(load_i32(scope)) != scope_avail)
      return fail(scope, "code with scope: scope document does not fill the rest of the value");
    size = static_cast<std::size_t>(total);
    return document(scope, scope_avail, depth + 1);
  }

  Status string(const std::uint8_t* v, std::size_t avail, std::size_t& size) {
    if (avail < 4) return fail(v, "string length truncated");
    std::int32_t len = load_i32(v);
    if (len < 1) return fail(v, "string length " + std::to_string(len) + " is below 1");
    if (static_cast<std::size_t>(len) > avail - 4)
      return fail(v, "string length " + std::to_string(len) + " overruns the document");
    if (v[4 + len - 1] != 0) return fail(v + 4 + len - 1, "string is not NUL-terminated");
    if (opts_.check_utf8 && !is_valid_utf8({reinterpret_cast<const char*>(v + 4), static_cast<std::size_t>(len - 1)}))
      return fail(v + 4, "string is not valid UTF-8");
    size = 4 + static_cast<std::size_t>(len);
    return {};
  }

  static std::string hex(std::uint8_t b) {
    static const char* d = "0123456789ABCDEF";
    return {d[b >> 4], d[b & 15]};
  }

  Status fail(const std::uint8_t* at, std::string msg) const {
    return {ErrorCode::kInvalidBson, "invalid BSON: " + std::move(msg), base_offset_ + (at - base_)};
  }

  const ValidateOptions& opts_;
  const std::uint8_t* base_;
  std::int64_t base_offset_;
};

}  // namespace

Result<ElementView> find_checked(ByteSpan doc, std::string_view key) {
  if (Status s = validate(doc); !s) return s;
  return DocView(doc).find(key);
}

Status validate(ByteSpan data, const ValidateOptions& opts, std::int64_t base_offset) {
  if (opts.max_size != 0 && data.size() >= 4 && static_cast<std::size_t>(load_i32(data.data())) > opts.max_size)
    return {ErrorCode::kInvalidBson,
            "invalid BSON: document of " + std::to_string(load_i32(data.data())) + " bytes exceeds the limit of " +
                std::to_string(opts.max_size),
            base_offset};
  Validator v(opts, data.data(), base_offset);
  return v.document(data.data(), data.size(), 1);
}

Result<std::size_t> walk_documents(ByteSpan buffer, std::int64_t base_offset) {
  DocSequence seq(buffer);
  std::size_t n = 0;
  for (DocView d : seq) {
    (void)d;
    ++n;
  }
  if (!seq.ok()) return seq.status(base_offset);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Builder

Builder::Builder() {
  buf_.reserve(256);
  stack_.push_back({0, 0});
  put_i32(0);
}

void Builder::put_i32(std::int32_t v) {
  auto n = buf_.size();
  buf_.resize(n + 4);
  std::memcpy(buf_.data() + n, &v, 4);
}
void Builder::put_i64(std::int64_t v) {
  auto n = buf_.size();
  buf_.resize(n + 8);
  std::memcpy(buf_.data() + n, &v, 8);
}
void Builder::put_cstring(std::string_view s) {
  buf_.insert(buf_.end(), s.begin(), s.end());
  buf_.push_back(0);
}
void Builder::put_string(std::string_view s) {
  put_i32(static_cast<std::int32_t>(s.size() + 1));
  put_cstring(s);
}
void Builder::head(BsonType t, std::string_view key) {
  buf_.push_back(static_cast<std::uint8_t>(t));
  put_cstring(key);
  stack_.back().next_index++;
}

std::string Builder::next_array_key() {
  return std::to_string(stack_.back().next_index);
}

Builder& Builder::append_double(std::string_view key, double v) {
  head(BsonType::kDouble, key);
  std::int64_t bits;
  std::memcpy(&bits, &v, 8);
  put_i64(bits);
  return *this;
}
Builder& Builder::append_string(std::string_view key, std::string_view v) {
  head(BsonType::kString, key);
  put_string(v);
  return *this;
}
Builder& Builder::open_document(std::string_view key) {
  head(BsonType::kDocument, key);
  stack_.push_back({buf_.size(), 0});
  put_i32(0);
  return *this;
}
Builder& Builder::open_array(std::string_view key) {
  head(BsonType::kArray, key);
  stack_.push_back({buf_.size(), 0});
  put_i32(0);
  return *this;
}
Builder& Builder::close() {
  buf_.push_back(0);
  auto start = stack_.back().start;
  auto len = static_cast<std::int32_t>(buf_.size() - start);
  std::memcpy(buf_.data() + start, &len, 4);
  stack_.pop_back();
  return *this;
}
Builder& Builder::append_document(std::string_view key, DocView doc) {
  head(BsonType::kDocument, key);
  buf_.insert(buf_.end(), doc.bytes().begin(), doc.bytes().end());
  return *this;
}
Builder& Builder::append_array(std::string_view key, DocView arr) {
  head(BsonType::kArray, key);
  buf_.insert(buf_.end(), arr.bytes().begin(), arr.bytes().end());
  return *this;
}
Builder& Builder::append_binary(std::string_view key, std::uint8_t subtype, ByteSpan data) {
  head(BsonType::kBinary, key);
  put_i32(static_cast<std::int32_t>(data.size()));
  buf_.push_back(subtype);
  buf_.insert(buf_.end(), data.begin(), data.end());
  return *this;
}
Builder& Builder::append_undefined(std::string_view key) {
  head(BsonType::kUndefined, key);
  return *this;
}
Builder& Builder::append_object_id(std::string_view key, const ObjectId& oid) {
  head(BsonType::kObjectId, key);
  buf_.insert(buf_.end(), oid.begin(), oid.end());
  return *this;
}
Builder& Builder::append_bool(std::string_view key, bool v) {
  head(BsonType::kBool, key);
  buf_.push_back(v ? 1 : 0);
  return *this;
}
Builder& Builder::append_datetime(std::string_view key, std::int64_t ms) {
  head(BsonType::kDateTime, key);
  put_i64(ms);
  return *this;
}
Builder& Builder::append_null(std::string_view key) {
  head(BsonType::kNull, key);
  return *this;
}
Builder& Builder::append_regex(std::string_view key, std::string_view pattern, std::string_view options) {
  head(BsonType::kRegex, key);
  put_cstring(pattern);
  put_cstring(options);
  return *this;
}
Builder& Builder::append_db_pointer(std::string_view key, std::string_view ns, const ObjectId& oid) {
  head(BsonType::kDbPointer, key);
  put_string(ns);
  buf_.insert(buf_.end(), oid.begin(), oid.end());
  return *this;
}
Builder& Builder::append_code(std::string_view key, std::string_view code) {
  head(BsonType::kCode, key);
  put_string(code);
  return *this;
}
Builder& Builder::append_symbol(std::string_view key, std::string_view v) {
  head(BsonType::kSymbol, key);
  put_string(v);
  return *this;
}
Builder& Builder::append_code_with_scope(std::string_view key, std::string_view code, DocView scope) {
  head(BsonType::kCodeWithScope, key);
  put_i32(static_cast<std::int32_t>(4 + 4 + code.size() + 1 + scope.size()));
  put_string(code);
  buf_.insert(buf_.end(), scope.bytes().begin(), scope.bytes().end());
  return *this;
}
Builder& Builder::append_int32(std::string_view key, std::int32_t v) {
  head(BsonType::kInt32, key);
  put_i32(v);
  return *this;
}
Builder& Builder::append_timestamp(std::string_view key, Timestamp ts) {
  head(BsonType::kTimestamp, key);
  put_i32(static_cast<std::int32_t>(ts.i));
  put_i32(static_cast<std::int32_t>(ts.t));
  return *this;
}
Builder& Builder::append_int64(std::string_view key, std::int64_t v) {
  head(BsonType::kInt64, key);
  put_i64(v);
  return *this;
}
Builder& Builder::append_decimal128(std::string_view key, Decimal128 v) {
  head(BsonType::kDecimal128, key);
  put_i64(static_cast<std::int64_t>(v.low));
  put_i64(static_cast<std::int64_t>(v.high));
  return *this;
}
Builder& Builder::append_min_key(std::string_view key) {
  head(BsonType::kMinKey, key);
  return *this;
}
Builder& Builder::append_max_key(std::string_view key) {
  head(BsonType::kMaxKey, key);
  return *this;
}
Builder& Builder::append_element(std::string_view key, const ElementView& e) {
  head(e.type(), key);
  buf_.insert(buf_.end(), e.value().begin(), e.value().end());
  return *this;
}
Builder& Builder::append_raw_element(ByteSpan raw) {
  buf_.insert(buf_.end(), raw.begin(), raw.end());
  stack_.back().next_index++;
  return *this;
}

Builder& Builder::append_canonical(std::string_view key, const ElementView& e) {
  switch (e.type()) {
    case BsonType::kDocument:
      open_document(key);
      for (auto c : e.as_document()) append_canonical(c.key(), c);
      return close();
    case BsonType::kArray:
      open_array(key);
      for (auto c : e.as_document()) append_canonical(next_array_key(), c);
      return close();
    case BsonType::kRegex: {
      auto r = e.as_regex();
      std::string opts(r.options);
      std::sort(opts.begin(), opts.end());
      return append_regex(key, r.pattern, opts);
    }
    case BsonType::kCodeWithScope: {
      Bytes scope = canonicalize(e.code_with_scope_scope());
      return append_code_with_scope(key, e.code_with_scope_code(), DocView(scope));
    }
    default: return append_element(key, e);
  }
}

Bytes Builder::finish() {
  buf_.push_back(0);
  auto len = static_cast<std::int32_t>(buf_.size());
  std::memcpy(buf_.data(), &len, 4);
  Bytes out = std::move(buf_);
  buf_.clear();
  stack_.assign(1, {0, 0});
  put_i32(0);
  return out;
}

Bytes canonicalize(DocView doc) {
  Builder b;
  for (auto e : doc) b.append_canonical(e.key(), e);
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// Comparison in MongoDB's order

namespace {

int sign(double d) {
  return d < 0 ? -1 : (d > 0 ? 1 : 0);
}

// The value of an IEEE 754-2008 decimal128 (BID encoding) as a long double: exact for up to 19
// significant digits, close enough beyond for ordering mixed numeric types.
long double decimal128_to_long_double(Decimal128 d) {
  const bool negative = (d.high >> 63) != 0;
  const std::uint64_t combination = (d.high >> 58) & 0x1F;
  if (combination == 0x1F) return std::numeric_limits<long double>::quiet_NaN();
  if (combination == 0x1E)
    return negative ? -std::numeric_limits<long double>::infinity() : std::numeric_limits<long double>::infinity();
  std::int32_t exponent;
  std::uint64_t coeff_high;
  if (((d.high >> 61) & 3) == 3) {  // the "11" form: coefficient above 2^113 is non-canonical, i.e. zero
    exponent = static_cast<std::int32_t>((d.high >> 47) & 0x3FFF) - 6176;
    coeff_high = 0;
    d.low = 0;
  } else {
    exponent = static_cast<std::int32_t>((d.high >> 49) & 0x3FFF) - 6176;
    coeff_high = d.high & 0x1FFFFFFFFFFFFull;
  }
  long double coeff = static_cast<long double>(coeff_high) * 18446744073709551616.0L + static_cast<long double>(d.low);
  long double v = coeff * std::pow(10.0L, static_cast<long double>(exponent));
  return negative ? -v : v;
}

template <class T>
int cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_numbers(const ElementView& a, const ElementView& b) {
  // Integers compare exactly; mixing with doubles compares as long double (exact for int64 here).
  if (a.type() != BsonType::kDouble && b.type() != BsonType::kDouble && a.type() != BsonType::kDecimal128 &&
      b.type() != BsonType::kDecimal128) {
    std::int64_t x = a.type() == BsonType::kInt32 ? a.as_int32() : a.as_int64();
    std::int64_t y = b.type() == BsonType::kInt32 ? b.as_int32() : b.as_int64();
    return cmp3(x, y);
  }
  auto to_ld = [](const ElementView& e) -> long double {
    switch (e.type()) {
      case BsonType::kDouble: return e.as_double();
      case BsonType::kInt32: return e.as_int32();
      case BsonType::kInt64: return static_cast<long double>(e.as_int64());
      default: return decimal128_to_long_double(e.as_decimal128());
    }
  };
  long double x = to_ld(a), y = to_ld(b);
  if (std::isnan(x) || std::isnan(y)) {
    if (std::isnan(x) && std::isnan(y)) return 0;
    return std::isnan(x) ? -1 : 1;  // NaN sorts below every number
  }
  return sign(static_cast<double>(x - y));
}

int compare_bytes(ByteSpan a, ByteSpan b) {
  auto n = std::min(a.size(), b.size());
  int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  return cmp3(a.size(), b.size());
}

}  // namespace

int compare_values(const ElementView& a, const ElementView& b) {
  int ra = canonical_type_rank(a.type()), rb = canonical_type_rank(b.type());
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.type()) {
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
    case BsonType::kNull:
    case BsonType::kUndefined: return 0;
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128: return compare_numbers(a, b);
    case BsonType::kString:
    case BsonType::kSymbol: return cmp3(a.as_string(), b.as_string());
    case BsonType::kDocument:
    case BsonType::kArray: return compare_documents(a.as_document(), b.as_document());
    case BsonType::kBinary: {
      auto x = a.as_binary(), y = b.as_binary();
      if (x.data.size() != y.data.size()) return cmp3(x.data.size(), y.data.size());
      if (x.subtype != y.subtype) return cmp3(x.subtype, y.subtype);
      return compare_bytes(x.data, y.data);
    }
    case BsonType::kObjectId: return compare_bytes(a.value(), b.value());
    case BsonType::kBool: return cmp3(a.as_bool(), b.as_bool());
    case BsonType::kDateTime: return cmp3(a.as_datetime(), b.as_datetime());
    case BsonType::kTimestamp: {
      auto x = a.as_timestamp(), y = b.as_timestamp();
      return x.t != y.t ? cmp3(x.t, y.t) : cmp3(x.i, y.i);
    }
    default: return compare_bytes(a.value(), b.value());
  }
}

int compare_documents(DocView a, DocView b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    auto x = *ia, y = *ib;
    int rx = canonical_type_rank(x.type()), ry = canonical_type_rank(y.type());
    if (rx != ry) return rx < ry ? -1 : 1;
    if (int c = cmp3(x.key(), y.key()); c != 0) return c;
    if (int c = compare_values(x, y); c != 0) return c;
  }
  if (ia == a.end() && ib == b.end()) return 0;
  return ia == a.end() ? -1 : 1;
}

}  // namespace bsonpipe::formats
