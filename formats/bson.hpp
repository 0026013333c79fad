// BSON: a zero-copy read-only view of documents, a validator that names the offset of the first
// fault, and a builder. Views never own bytes; they are only valid over validated input.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/status.hpp"

namespace bsonpipe::formats {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

enum class BsonType : std::uint8_t {
  kDouble = 0x01,
  kString = 0x02,
  kDocument = 0x03,
  kArray = 0x04,
  kBinary = 0x05,
  kUndefined = 0x06,
  kObjectId = 0x07,
  kBool = 0x08,
  kDateTime = 0x09,
  kNull = 0x0A,
  kRegex = 0x0B,
  kDbPointer = 0x0C,
  kCode = 0x0D,
  kSymbol = 0x0E,
  kCodeWithScope = 0x0F,
  kInt32 = 0x10,
  kTimestamp = 0x11,
  kInt64 = 0x12,
  kDecimal128 = 0x13,
  kMinKey = 0xFF,
  kMaxKey = 0x7F,
};

// Name used in messages ("int32", "objectId", ...).
std::string_view type_name(BsonType t);
bool is_known_type(std::uint8_t t);
// Rank in MongoDB's cross-type comparison order (MinKey < null < numbers < string/symbol < ...).
int canonical_type_rank(BsonType t);

inline std::int32_t load_i32(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;  // BSON is little-endian; this project targets little-endian hosts only.
}
inline std::int64_t load_i64(const std::uint8_t* p) {
  std::int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(load_i32(p));
}
inline std::uint64_t load_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_i64(p));
}

using ObjectId = std::array<std::uint8_t, 12>;
struct Decimal128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  bool operator==(const Decimal128&) const = default;
};
struct Timestamp {
  std::uint32_t t = 0;  // seconds (high word on the wire)
  std::uint32_t i = 0;  // increment (low word on the wire)
  bool operator==(const Timestamp&) const = default;
};

class DocView;

struct BinaryView {
  std::uint8_t subtype = 0;
  ByteSpan data;
};
struct RegexView {
  std::string_view pattern;
  std::string_view options;
};
struct DbPointerView {
  std::string_view ns;
  ObjectId oid{};
};

// One element of a validated document: type byte, key, value. Accessors assume the matching type.
class ElementView {
 public:
  ElementView() = default;
  // `p` points at the type byte; `value_size` is the size of the value part.
  ElementView(const std::uint8_t* p, std::size_t key_len, std::size_t value_size)
      : p_(p), key_len_(key_len), value_size_(value_size) {}

  BsonType type() const { return static_cast<BsonType>(p_[0]); }
  std::string_view key() const { return {reinterpret_cast<const char*>(p_ + 1), key_len_}; }
  // The value bytes (after the key's terminating NUL).
  ByteSpan value() const { return {value_ptr(), value_size_}; }
  // The whole element: type byte, key, NUL, value.
  ByteSpan raw() const { return {p_, 1 + key_len_ + 1 + value_size_}; }
  bool valid() const { return p_ != nullptr; }

  double as_double() const;
  std::string_view as_string() const;  // string, code, symbol (without the trailing NUL)
  DocView as_document() const;         // document or array
  BinaryView as_binary() const;
  ObjectId as_object_id() const;
  bool as_bool() const { return value_ptr()[0] != 0; }
  std::int64_t as_datetime() const { return load_i64(value_ptr()); }
  RegexView as_regex() const;
  DbPointerView as_db_pointer() const;
  std::string_view as_code() const { return as_string(); }
  std::string_view as_symbol() const { return as_string(); }
  std::string_view code_with_scope_code() const;
  DocView code_with_scope_scope() const;
  std::int32_t as_int32() const { return load_i32(value_ptr()); }
  Timestamp as_timestamp() const { return {load_u32(value_ptr() + 4), load_u32(value_ptr())}; }
  std::int64_t as_int64() const { return load_i64(value_ptr()); }
  Decimal128 as_decimal128() const { return {load_u64(value_ptr()), load_u64(value_ptr() + 8)}; }
  // Numeric value of int32/int64/double as double (for comparisons and sizes); 0 otherwise.
  double number_as_double() const;

 private:
  const std::uint8_t* value_ptr() const { return p_ + 1 + key_len_ + 1; }
  const std::uint8_t* p_ = nullptr;
  std::size_t key_len_ = 0;
  std::size_t value_size_ = 0;
};

// A read-only view over one complete, already validated BSON document.
class DocView {
 public:
  class Iterator {
   public:
    using value_type = ElementView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end) { load(); }
    ElementView operator*() const { return cur_; }
    Iterator& operator++() {
      p_ += cur_.raw().size();
      load();
      return *this;
    }
    Iterator operator++(int) {
      auto copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const Iterator& o) const { return p_ == o.p_; }

   private:
    void load();
    const std::uint8_t* p_ = nullptr;
    const std::uint8_t* end_ = nullptr;
    ElementView cur_;
  };

  DocView() = default;
  // `data` must hold exactly one validated document (its first 4 bytes are its length).
  explicit DocView(ByteSpan data) : data_(data) {}
  DocView(const std::uint8_t* p, std::size_t n) : data_(p, n) {}

  ByteSpan bytes() const { return data_; }
  const std::uint8_t* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.size() <= 5; }
  Iterator begin() const { return {data_.data() + 4, data_.data() + data_.size() - 1}; }
  Iterator end() const {
    auto* e = data_.data() + data_.size() - 1;
    return {e, e};
  }
  // First element with this key, or an invalid ElementView.
  ElementView find(std::string_view key) const;
  // Dotted path ("a.b.c") through embedded documents and arrays.
  ElementView find_path(std::string_view path) const;
  std::size_t count() const;

 private:
  ByteSpan data_;
};

struct ValidateOptions {
  // Embedded document/array nesting allowed (the top-level document is depth 1).
  int max_depth = 100;
  // Check that strings, keys, regexes hold well-formed UTF-8.
  bool check_utf8 = false;
  // Largest document accepted, in bytes (16 MiB is the server's limit; 0 = no limit).
  std::size_t max_size = 0;
  // Check the contents of documents nested at most this deep (the top level is depth 1); deeper
  // documents and arrays are only checked to fit their container and end with a NUL, so their
  // bytes can be passed on, or checked later by whoever looks inside. 0 = every level.
  int full_depth = 0;
};

// Validates exactly one document spanning all of `data`. The Status offset is relative to
// `data.data()` plus `base_offset` (the document's position in a file).
Status validate(ByteSpan data, const ValidateOptions& opts = {}, std::int64_t base_offset = 0);

// Element `key` of `doc` (invalid if absent), after validating all of `doc`: for a document from
// a peer that is not trusted to send well-formed BSON (a server's reply).
Result<ElementView> find_checked(ByteSpan doc, std::string_view key);

// Reads the length prefix at `p` (needs 4 bytes) and returns it, or -1 if fewer than 4 bytes.
inline std::int64_t peek_doc_length(ByteSpan avail) {
  if (avail.size() < 4) return -1;
  return load_i32(avail.data());
}

// Walks a buffer of concatenated documents checking only length prefixes and terminators:
// the cheap check done on every batch. Returns the number of documents, or the offset of the
// first bad length.
Result<std::size_t> walk_documents(ByteSpan buffer, std::int64_t base_offset = 0);

bool is_valid_utf8(std::string_view s);

// Builder that appends elements into a growing buffer. Sub-documents are opened and closed in
// stack order; `finish()` returns the completed bytes.
class Builder {
 public:
  Builder();
  Builder& append_double(std::string_view key, double v);
  Builder& append_string(std::string_view key, std::string_view v);
  Builder& open_document(std::string_view key);
  Builder& open_array(std::string_view key);
  Builder& close();  // closes the innermost open document or array
  Builder& append_document(std::string_view key, DocView doc);
  Builder& append_array(std::string_view key, DocView arr);
  Builder& append_binary(std::string_view key, std::uint8_t subtype, ByteSpan data);
  Builder& append_undefined(std::string_view key);
  Builder& append_object_id(std::string_view key, const ObjectId& oid);
  Builder& append_bool(std::string_view key, bool v);
  Builder& append_datetime(std::string_view key, std::int64_t ms);
  Builder& append_null(std::string_view key);
  Builder& append_regex(std::string_view key, std::string_view pattern, std::string_view options);
  Builder& append_db_pointer(std::string_view key, std::string_view ns, const ObjectId& oid);
  Builder& append_code(std::string_view key, std::string_view code);
  Builder& append_symbol(std::string_view key, std::string_view v);
  Builder& append_code_with_scope(std::string_view key, std::string_view code, DocView scope);
  Builder& append_int32(std::string_view key, std::int32_t v);
  Builder& append_timestamp(std::string_view key, Timestamp ts);
  Builder& append_int64(std::string_view key, std::int64_t v);
  Builder& append_decimal128(std::string_view key, Decimal128 v);
  Builder& append_min_key(std::string_view key);
  Builder& append_max_key(std::string_view key);
  // Copies an element verbatim under a new key (or its own key when `key` is empty... use raw).
  Builder& append_element(std::string_view key, const ElementView& e);
  // Appends a raw element exactly as it is (type, key, value).
  Builder& append_raw_element(ByteSpan raw);
  // Canonical re-encoding of an element: arrays re-keyed "0", "1", ..., regex options sorted.
  Builder& append_canonical(std::string_view key, const ElementView& e);

  // Number of bytes written so far (including open documents' headers).
  std::size_t size() const { return buf_.size(); }
  // True when no document or array is open besides the top level.
  bool at_top() const { return stack_.size() == 1; }
  // Finishes the top-level document. All opened sub-documents must be closed.
  Bytes finish();
  // Key for the next element of the innermost open array ("0", "1", ...).
  std::string next_array_key();

 private:
  void head(BsonType t, std::string_view key);
  void put_i32(std::int32_t v);
  void put_i64(std::int64_t v);
  void put_cstring(std::string_view s);
  void put_string(std::string_view s);
  struct Frame {
    std::size_t start;
    std::uint32_t next_index;
  };
  Bytes buf_;
  std::vector<Frame> stack_;
};

// Re-encodes a document canonically (see Builder::append_canonical).
Bytes canonicalize(DocView doc);

// Compares two values in MongoDB's order (BSON type order first, then value). Returns <0, 0, >0.
int compare_values(const ElementView& a, const ElementView& b);
// Compares two whole documents element by element as MongoDB does.
int compare_documents(DocView a, DocView b);

}  // namespace bsonpipe::formats
