// Server-side errors as values: a MongoDB error code (the numbers the real server uses) and a
// message. Commands return them; the dispatcher turns them into {ok: 0, errmsg, code, codeName}.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "formats/status.hpp"

namespace bsonpipe::minimongod {

// The codes this server emits, with the names the real server gives them.
namespace code {
inline constexpr int kInternalError = 1;
inline constexpr int kBadValue = 2;
inline constexpr int kFailedToParse = 9;
inline constexpr int kUnauthorized = 13;
inline constexpr int kProtocolError = 17;
inline constexpr int kTypeMismatch = 14;
inline constexpr int kAuthenticationFailed = 18;
inline constexpr int kIllegalOperation = 20;
inline constexpr int kNamespaceNotFound = 26;
inline constexpr int kIndexNotFound = 27;
inline constexpr int kCursorNotFound = 43;
inline constexpr int kNamespaceExists = 48;
inline constexpr int kCommandNotFound = 59;
inline constexpr int kCannotCreateIndex = 67;
inline constexpr int kInvalidOptions = 72;
inline constexpr int kInvalidNamespace = 73;
inline constexpr int kIndexOptionsConflict = 85;
inline constexpr int kIndexKeySpecsConflict = 86;
inline constexpr int kShutdownInProgress = 91;
inline constexpr int kOperationFailed = 96;
inline constexpr int kCommandNotSupported = 115;
inline constexpr int kDocumentValidationFailure = 121;
inline constexpr int kCappedPositionLost = 136;
inline constexpr int kCommandNotSupportedOnView = 166;
inline constexpr int kDuplicateKey = 11000;
inline constexpr int kNotWritablePrimary = 10107;
inline constexpr int kBSONObjectTooLarge = 10334;
}  // namespace code

// "BadValue", "DuplicateKey", ... ; "UnknownError" for codes not in the table.
std::string_view code_name(int code);

struct CmdError {
  int code = code::kInternalError;
  std::string message;
  // Adds errorLabels: ["RetryableWriteError"] to the reply (a write failed by a primary change).
  bool retryable_write = false;
};

// A value or a CmdError.
template <class T>
class [[nodiscard]] Expected : public ValueOr<T, CmdError> {
 public:
  using ValueOr<T, CmdError>::ValueOr;
  bool ok() const { return this->is_ok(); }
  const CmdError& error() const { return this->failure(); }
};

// Success-or-error for calls that return nothing.
class [[nodiscard]] Done {
 public:
  Done() = default;
  Done(CmdError err) : err_(std::move(err)), failed_(true) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const CmdError& error() const { return err_; }

 private:
  CmdError err_;
  bool failed_ = false;
};

inline CmdError bad_value(std::string msg) {
  return {code::kBadValue, std::move(msg)};
}

}  // namespace bsonpipe::minimongod
