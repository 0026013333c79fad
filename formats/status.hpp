// Errors as values: every fallible call in the formats layer returns a Status or a Result<T>,
// carrying a one-line message and, where it applies, the byte offset of the fault.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace bsonpipe {

enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidBson,      // malformed BSON bytes
  kInvalidJson,      // malformed JSON / Extended JSON
  kInvalidArchive,   // malformed mongodump archive stream
  kInvalidArgument,  // a caller-supplied value is out of range or unsupported
  kIo,               // a read or write on a file or stream failed
  kNetwork,          // a socket failed or timed out
  kServer,           // the server answered ok:0
  kCancelled,        // another stage failed first, or the user interrupted
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, std::int64_t offset = -1)
      : code_(code), offset_(offset), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  // Byte offset of the fault in the input, or -1 when not applicable.
  std::int64_t offset() const { return offset_; }
  const std::string& message() const { return message_; }
  // "message (at offset N)" — the one-line form used in user-facing errors.
  std::string to_string() const {
    if (offset_ < 0) return message_;
    return message_ + " (at offset " + std::to_string(offset_) + ")";
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::int64_t offset_ = -1;
  std::string message_;
};

// A value or an error of type E: the one shape of every layer's result (std::expected is
// C++23). Layers derive their own name with their error accessors.
template <class T, class E>
class [[nodiscard]] ValueOr {
 public:
  ValueOr(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  ValueOr(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 protected:
  // The error; only for a failed result.
  const E& failure() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class T>
class [[nodiscard]] Result : public ValueOr<T, Status> {
 public:
  using ValueOr<T, Status>::ValueOr;
  // The error; for an ok result, an ok Status.
  Status status() const { return this->is_ok() ? Status{} : this->failure(); }
};

}  // namespace bsonpipe
