// Typed errors of the MongoDB client: network failures (retryable), server ok:0 answers with
// code/codeName/labels, and the NotWritablePrimary family; convertible to a plain Status.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(Status s)  // NOLINT(google-explicit-constructor): plain Status errors flow through unchanged
      : kind_(s.code()), message_(s.to_string()) {}
  static Error network(std::string message);  // retryable
  static Error server(std::int32_t code, std::string code_name, std::string message,
                      std::vector<std::string> labels = {});
  // From an ok:0 reply body.
  static Error from_reply(formats::DocView reply);

  bool is_ok() const { return kind_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode kind() const { return kind_; }
  std::int32_t code() const { return code_; }  // server error code, 0 when not from a server
  const std::string& code_name() const { return code_name_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& labels() const { return labels_; }
  bool has_label(std::string_view label) const;

  bool is_network() const { return kind_ == ErrorCode::kNetwork; }
  // NotWritablePrimary, NotPrimaryNoSecondaryOk, PrimarySteppedDown, shutdown, repl state change...
  bool is_not_writable_primary() const;
  // Safe to retry on a fresh connection (network errors, the primary-change family, a
  // RetryableWriteError label).
  bool is_retryable() const;
  // "codeName (code): message" / "network error: ..." — one line for logs.
  std::string to_string() const;
  Status status() const;

 private:
  ErrorCode kind_ = ErrorCode::kOk;
  std::int32_t code_ = 0;
  std::string code_name_;
  std::string message_;
  std::vector<std::string> labels_;
};

// A value or an Error (the io layer's Result).
template <class T>
class [[nodiscard]] Expected : public ValueOr<T, Error> {
 public:
  using ValueOr<T, Error>::ValueOr;
  Expected(Status s) : ValueOr<T, Error>(Error(std::move(s))) {}  // NOLINT(google-explicit-constructor)
  // The error; for an ok result, an ok Error.
  Error error() const { return this->is_ok() ? Error{} : this->failure(); }
  Status status() const { return this->is_ok() ? Status{} : this->failure().status(); }
};

// One entry of a reply's writeErrors array.
struct WriteError {
  std::int32_t index = 0;
  std::int32_t code = 0;
  std::string errmsg;
};
struct WriteConcernError {
  std::int32_t code = 0;
  std::string code_name;
  std::string errmsg;
};

}  // namespace bsonpipe::io
