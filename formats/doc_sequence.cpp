#include "formats/doc_sequence.hpp"

#include <string>

namespace bsonpipe::formats {

std::optional<DocView> DocSequence::stop(SequenceFault fault, std::int32_t length) {
  error_ = {fault, pos_, length, bytes_.size() - pos_};
  done_ = true;
  return std::nullopt;
}

std::optional<DocView> DocSequence::next() {
  if (done_ || pos_ == bytes_.size()) return std::nullopt;
  const std::size_t left = bytes_.size() - pos_;
  const bool leave = opts_.tail == SequenceTail::kLeave;
  if (left < (leave ? 4 : 5)) {
    if (leave) {
      done_ = true;
      return std::nullopt;
    }
    return stop(SequenceFault::kTruncated, 0);
  }
  const std::int32_t len = load_i32(bytes_.data() + pos_);
  if (len < 5 || (opts_.max_size != 0 && static_cast<std::size_t>(len) > opts_.max_size))
    return stop(SequenceFault::kBadLength, len);
  const auto n = static_cast<std::size_t>(len);
  if (n > left) {
    if (leave) {
      done_ = true;
      return std::nullopt;
    }
    return stop(SequenceFault::kBadLength, len);
  }
  if (bytes_[pos_ + n - 1] != 0) return stop(SequenceFault::kNoTerminator, len);
  DocView doc(bytes_.data() + pos_, n);
  pos_ += n;
  return doc;
}

Status DocSequence::status(std::int64_t base_offset) const {
  const std::int64_t at = base_offset + static_cast<std::int64_t>(error_.offset);
  const std::int32_t len = error_.length;
  switch (error_.fault) {
    case SequenceFault::kNone: return {};
    case SequenceFault::kTruncated:
      return {ErrorCode::kInvalidBson, "invalid BSON: truncated document (" + std::to_string(error_.left) + " bytes)",
              at};
    case SequenceFault::kBadLength: {
      std::string why = len < 5 ? " is below 5"
                        : opts_.max_size != 0 && static_cast<std::size_t>(len) > opts_.max_size
                            ? " is over the " + std::to_string(opts_.max_size) + "-byte limit"
                            : " overruns the " + std::to_string(error_.left) + " bytes left";
      return {ErrorCode::kInvalidBson, "invalid BSON: document length " + std::to_string(len) + why, at};
    }
    case SequenceFault::kNoTerminator:
      return {ErrorCode::kInvalidBson, "invalid BSON: document not terminated by 0x00", at + len - 1};
  }
  return {};
}

}  // namespace bsonpipe::formats
