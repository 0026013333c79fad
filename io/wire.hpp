// The MongoDB wire protocol codec shared by the client (io/connection) and the server (minimongod):
// message headers, OP_MSG, legacy OP_QUERY/OP_REPLY (first handshake only) and OP_COMPRESSED.
// Decoding yields views into the caller's buffer; encoding yields a gather list that borrows the
// caller's documents (a file buffer of concatenated BSON is sent without being copied).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::io {

using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

enum class OpCode : std::int32_t {
  kReply = 1,
  kQuery = 2004,
  kCompressed = 2012,
  kMsg = 2013,
};

// Compressor ids of OP_COMPRESSED (the compression spec). Snappy is recognised, not supported.
enum class CompressorId : std::uint8_t {
  kNoop = 0,
  kSnappy = 1,
  kZlib = 2,
  kZstd = 3,
};
std::string_view compressor_name(CompressorId id);  // "noop", "snappy", "zlib", "zstd"
// Parses a name as used in the URI and in hello's `compression` array.
Result<CompressorId> parse_compressor(std::string_view name);

inline constexpr std::size_t kHeaderSize = 16;
// Server defaults, used until the handshake reports the real limits.
inline constexpr std::size_t kDefaultMaxMessageSize = 48'000'000;
inline constexpr std::size_t kDefaultMaxBsonObjectSize = 16 * 1024 * 1024;
inline constexpr std::size_t kDefaultMaxWriteBatchSize = 100'000;

// OP_MSG flagBits.
inline constexpr std::uint32_t kChecksumPresent = 1u << 0;
inline constexpr std::uint32_t kMoreToCome = 1u << 1;
inline constexpr std::uint32_t kExhaustAllowed = 1u << 16;

// OP_QUERY flags used by the handshake.
inline constexpr std::int32_t kQuerySecondaryOk = 1 << 2;
// OP_REPLY responseFlags.
inline constexpr std::int32_t kReplyCursorNotFound = 1 << 0;
inline constexpr std::int32_t kReplyQueryFailure = 1 << 1;
inline constexpr std::int32_t kReplyAwaitCapable = 1 << 3;

struct MsgHeader {
  std::int32_t message_length = 0;
  std::int32_t request_id = 0;
  std::int32_t response_to = 0;
  std::int32_t op_code = 0;
};

// Reads the 16-byte header at the front of `bytes` and checks the length against
// [16 + minimum body, max_message_size]. Used by readers to size the rest of a message.
Result<MsgHeader> parse_header(ByteSpan bytes, std::size_t max_message_size = kDefaultMaxMessageSize);
void write_header(std::uint8_t* out, const MsgHeader& h);

// CRC-32C (Castagnoli), as used by the OP_MSG checksum. `crc` continues a previous value.
std::uint32_t crc32c(ByteSpan data, std::uint32_t crc = 0);

// ---------------------------------------------------------------------------------------------
// Decoded views (valid while the buffer they point into lives)

// An OP_MSG kind-1 section: an identifier ("documents", "updates", ...) and the concatenated
// documents, already walked (lengths and terminators checked).
struct DocumentSequence {
  std::string_view identifier;
  ByteSpan documents;
  std::size_t count = 0;
};

struct OpMsgView {
  std::uint32_t flags = 0;
  DocView body;
  std::vector<DocumentSequence> sequences;
  bool more_to_come() const { return (flags & kMoreToCome) != 0; }
  bool checksum_present() const { return (flags & kChecksumPresent) != 0; }
  // The sequence with this identifier, or nullptr.
  const DocumentSequence* sequence(std::string_view identifier) const;
};

struct OpQueryView {
  std::int32_t flags = 0;
  std::string_view full_collection_name;  // "admin.$cmd"
  std::int32_t number_to_skip = 0;
  std::int32_t number_to_return = 0;
  DocView query;
  DocView return_fields;  // empty view (size 0) when absent
};

struct OpReplyView {
  std::int32_t response_flags = 0;
  std::int64_t cursor_id = 0;
  std::int32_t starting_from = 0;
  std::int32_t number_returned = 0;
  ByteSpan documents;  // concatenated, walked
  // The first document, or an empty view (size 0) when none.
  DocView first() const;
};

struct MessageView {
  MsgHeader header;
  std::variant<OpMsgView, OpQueryView, OpReplyView> body;
  const OpMsgView* msg() const { return std::get_if<OpMsgView>(&body); }
  const OpQueryView* query() const { return std::get_if<OpQueryView>(&body); }
  const OpReplyView* reply() const { return std::get_if<OpReplyView>(&body); }
};

struct DecodeOptions {
  // Messages longer than this are rejected (the server's maxMessageSizeBytes).
  std::size_t max_message_size = kDefaultMaxMessageSize;
  // Fully validate every body/query document (formats::validate); otherwise only lengths and
  // terminators are checked, which is what the hot read path wants. Sequences are always walked.
  bool validate_documents = false;
};

// Decodes one complete, uncompressed message spanning exactly `bytes` into views (no copies).
// OP_COMPRESSED is refused here: see decompress_message / decode_owned. Errors carry the byte
// offset within `bytes` of the fault.
Result<MessageView> decode_message(ByteSpan bytes, const DecodeOptions& opts = {});

// Unwraps an OP_COMPRESSED message into the complete original message (a fresh 16-byte header
// with the original opCode, then the decompressed body). `compressor` receives the id used.
Result<Bytes> decompress_message(ByteSpan bytes, std::size_t max_message_size = kDefaultMaxMessageSize,
                                 CompressorId* compressor = nullptr);

// A received message that owns its bytes, decompressed if it came compressed. `view` points into
// `bytes`; the type is move-only (moving a vector keeps its heap buffer, so views stay valid).
struct OwnedMessage {
  Bytes bytes;
  MessageView view;
  bool was_compressed = false;
  CompressorId compressor = CompressorId::kNoop;

  OwnedMessage() = default;
  OwnedMessage(OwnedMessage&&) noexcept = default;
  OwnedMessage& operator=(OwnedMessage&&) noexcept = default;
  OwnedMessage(const OwnedMessage&) = delete;
  OwnedMessage& operator=(const OwnedMessage&) = delete;
};
Result<OwnedMessage> decode_owned(Bytes bytes, const DecodeOptions& opts = {});

// ---------------------------------------------------------------------------------------------
// Encoding

// A message ready to send: a gather list of byte ranges, some owned (headers, section prefixes,
// compressed payloads) and some borrowed from the caller (command bodies, document sequences).
// Borrowed bytes must outlive the message. Move-only.
class OutgoingMessage {
 public:
  OutgoingMessage() = default;
  OutgoingMessage(OutgoingMessage&&) noexcept = default;
  OutgoingMessage& operator=(OutgoingMessage&&) noexcept = default;
  OutgoingMessage(const OutgoingMessage&) = delete;
  OutgoingMessage& operator=(const OutgoingMessage&) = delete;

  // The ranges to write, in order (suitable for a gather write).
  std::vector<ByteSpan> buffers() const;
  std::size_t size() const { return size_; }
  std::int32_t request_id() const { return request_id_; }
  std::int32_t op_code() const { return op_code_; }
  // One contiguous copy (tests, small messages).
  Bytes flatten() const;

  // Builder interface used by the encoders.
  void append_owned(ByteSpan b);
  void append_borrowed(ByteSpan b);
  std::uint8_t* owned_at(std::size_t offset) { return owned_.data() + offset; }
  std::size_t owned_size() const { return owned_.size(); }
  void set_ids(std::int32_t request_id, std::int32_t op_code) {
    request_id_ = request_id;
    op_code_ = op_code;
  }

 private:
  struct Piece {
    bool owned;
    std::size_t offset;  // into owned_ when owned
    ByteSpan span;       // when borrowed
    std::size_t size;
  };
  Bytes owned_;
  std::vector<Piece> pieces_;
  std::size_t size_ = 0;
  std::int32_t request_id_ = 0;
  std::int32_t op_code_ = 0;
};

struct SequenceOut {
  std::string identifier;  // e.g. "documents"
  ByteSpan documents;      // concatenated BSON documents, borrowed
};

struct OpMsgOut {
  std::uint32_t flags = 0;  // kMoreToCome / kExhaustAllowed; kChecksumPresent is set by `checksum`
  ByteSpan body;            // one BSON document, borrowed
  std::vector<SequenceOut> sequences;
  bool checksum = false;  // append a CRC-32C
};

// Fails when the total would exceed `max_message_size` or the body is not one BSON document.
Result<OutgoingMessage> encode_op_msg(std::int32_t request_id, std::int32_t response_to, const OpMsgOut& msg,
                                      std::size_t max_message_size = kDefaultMaxMessageSize);

struct OpQueryOut {
  std::int32_t flags = 0;
  std::string full_collection_name = "admin.$cmd";
  std::int32_t number_to_skip = 0;
  std::int32_t number_to_return = -1;
  ByteSpan query;          // borrowed
  ByteSpan return_fields;  // optional, borrowed
};
OutgoingMessage encode_op_query(std::int32_t request_id, const OpQueryOut& q);

struct OpReplyOut {
  std::int32_t response_flags = 0;
  std::int64_t cursor_id = 0;
  std::int32_t starting_from = 0;
  ByteSpan documents;  // concatenated, borrowed
};
// numberReturned is counted from `documents` (which must walk cleanly).
Result<OutgoingMessage> encode_op_reply(std::int32_t request_id, std::int32_t response_to, const OpReplyOut& r);

// Wraps a message in OP_COMPRESSED. Noop borrows the original body (no copy, `msg` must outlive the
// result); zlib/zstd compress it (level < 0: the library default). Snappy is unsupported.
Result<OutgoingMessage> compress_message(const OutgoingMessage& msg, CompressorId id, int level = -1);

// Request ids for a process: monotonically increasing, thread-safe.
std::int32_t next_request_id();

}  // namespace bsonpipe::io
