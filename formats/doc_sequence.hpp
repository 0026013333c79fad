// Concatenated BSON documents (a .bson file, a batch, an OP_MSG document sequence) walked as a
// range of DocViews: the one place their length prefixes and terminators are checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>

#include "formats/bson.hpp"

namespace bsonpipe::formats {

// Why a sequence stopped before its end.
enum class SequenceFault : std::uint8_t {
  kNone,
  kTruncated,     // fewer than 5 bytes left for the next document (SequenceTail::kError only)
  kBadLength,     // a length prefix below 5, over max_size, or (kError) past the end
  kNoTerminator,  // a document whose last byte is not 0x00
};

struct SequenceError {
  SequenceFault fault = SequenceFault::kNone;
  std::size_t offset = 0;   // where the faulty document starts, from the start of the bytes
  std::int32_t length = 0;  // its length prefix (0 for kTruncated)
  std::size_t left = 0;     // bytes from `offset` to the end
};

enum class SequenceTail : std::uint8_t {
  kError,  // the bytes must end with a whole document
  kLeave,  // stop before a document not wholly present (a streaming reader reads on); a length
           // prefix that is bad in itself (below 5, over max_size) is still an error
};

struct SequenceOptions {
  SequenceTail tail = SequenceTail::kError;  // default: the bytes hold whole documents only
  std::size_t max_size = 0;                  // a longer length prefix is kBadLength; 0 = no limit
};

// A single-pass range over the documents in `bytes` (not owned; they must outlive it). Iteration
// stops at the end, at a partial tail (kLeave) or at the first fault; error() then says which.
// Documents are walked (length, terminator), not validated. Threading: one thread at a time.
class DocSequence {
 public:
  class Iterator {
   public:
    using value_type = DocView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(DocSequence* seq) : seq_(seq), cur_(seq->next()) {}
    DocView operator*() const { return *cur_; }
    Iterator& operator++() {
      cur_ = seq_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !cur_; }

   private:
    DocSequence* seq_ = nullptr;
    std::optional<DocView> cur_;
  };

  explicit DocSequence(ByteSpan bytes, SequenceOptions opts = {}) : bytes_(bytes), opts_(opts) {}

  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() const { return {}; }
  // The next whole document; nullopt at the end, before a partial tail, or at a fault.
  std::optional<DocView> next();

  // Offset of `doc`, a document this sequence yielded, from the start of the bytes.
  std::size_t offset_of(DocView doc) const { return static_cast<std::size_t>(doc.data() - bytes_.data()); }
  // Bytes of the documents yielded so far: where the next document, the tail or the fault starts.
  std::size_t consumed() const { return pos_; }
  // Bytes from consumed() to the end (a partial tail once iteration stopped without a fault).
  std::size_t left() const { return bytes_.size() - pos_; }
  bool ok() const { return error_.fault == SequenceFault::kNone; }
  const SequenceError& error() const { return error_; }
  // The fault as walk_documents reports it ("invalid BSON: ..."), its offset plus `base_offset`
  // (a missing terminator is reported at the document's last byte); ok when there is none.
  Status status(std::int64_t base_offset = 0) const;

 private:
  std::optional<DocView> stop(SequenceFault fault, std::int32_t length);

  ByteSpan bytes_;
  SequenceOptions opts_;
  std::size_t pos_ = 0;
  bool done_ = false;
  SequenceError error_;
};

}  // namespace bsonpipe::formats
