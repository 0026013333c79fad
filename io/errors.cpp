#include "io/errors.hpp"

#include <algorithm>

namespace bsonpipe::io {

using formats::BsonType;

Error Error::network(std::string message) {
  Error e;
  e.kind_ = ErrorCode::kNetwork;
  e.message_ = std::move(message);
  return e;
}

Error Error::server(std::int32_t code, std::string code_name, std::string message, std::vector<std::string> labels) {
  Error e;
  e.kind_ = ErrorCode::kServer;
  e.code_ = code;
  e.code_name_ = std::move(code_name);
  e.message_ = std::move(message);
  e.labels_ = std::move(labels);
  return e;
}

Error Error::from_reply(formats::DocView reply) {
  std::int32_t code = 0;
  std::string code_name, msg;
  std::vector<std::string> labels;
  for (auto e : reply) {
    auto k = e.key();
    if (k == "code" && (e.type() == BsonType::kInt32 || e.type() == BsonType::kInt64 || e.type() == BsonType::kDouble))
      code = static_cast<std::int32_t>(e.number_as_double());
    else if (k == "codeName" && e.type() == BsonType::kString)
      code_name = std::string(e.as_string());
    else if (k == "errmsg" && e.type() == BsonType::kString)
      msg = std::string(e.as_string());
    else if (k == "errorLabels" && e.type() == BsonType::kArray)
      for (auto l : e.as_document())
        if (l.type() == BsonType::kString) labels.emplace_back(l.as_string());
  }
  if (msg.empty()) msg = "command failed";
  return server(code, std::move(code_name), std::move(msg), std::move(labels));
}

bool Error::has_label(std::string_view label) const {
  return std::find(labels_.begin(), labels_.end(), label) != labels_.end();
}

bool Error::is_not_writable_primary() const {
  if (kind_ != ErrorCode::kServer) return false;
  switch (code_) {
    case 10107:  // NotWritablePrimary
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
    case 10058:  // LegacyNotPrimary
    case 189:    // PrimarySteppedDown
    case 91:     // ShutdownInProgress
    case 11600:  // InterruptedAtShutdown
    case 11602:  // InterruptedDueToReplStateChange
      return true;
    default: break;
  }
  // Old servers answered "not master" without a code.
  return code_ == 0 &&
         (message_.find("not master") != std::string::npos || message_.find("node is recovering") != std::string::npos);
}

bool Error::is_retryable() const {
  if (kind_ == ErrorCode::kNetwork) return true;
  if (kind_ != ErrorCode::kServer) return false;
  if (has_label("RetryableWriteError") || has_label("ResumableChangeStreamError")) return true;
  if (is_not_writable_primary()) return true;
  switch (code_) {
    case 6:     // HostUnreachable
    case 7:     // HostNotFound
    case 89:    // NetworkTimeout
    case 9001:  // SocketException
    case 262:   // ExceededTimeLimit
      return true;
    default: return false;
  }
}

std::string Error::to_string() const {
  switch (kind_) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kNetwork: return "network error: " + message_;
    case ErrorCode::kServer: {
      std::string s = code_name_.empty() ? "server error" : code_name_;
      s += " (" + std::to_string(code_) + "): " + message_;
      return s;
    }
    default: return message_;
  }
}

Status Error::status() const {
  if (is_ok()) return {};
  return Status(kind_, to_string());
}

}  // namespace bsonpipe::io
