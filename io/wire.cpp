#include "io/wire.hpp"

#include <zlib.h>
#include <zstd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>

#include "formats/doc_sequence.hpp"

namespace bsonpipe::io {

namespace {

using formats::load_i32;
using formats::load_i64;
using formats::load_u32;

Status malformed(std::string what, std::size_t offset) {
  return Status(ErrorCode::kInvalidArgument, "malformed wire message: " + std::move(what),
                static_cast<std::int64_t>(offset));
}

void put_i32(Bytes& out, std::int32_t v) {
  std::uint8_t b[4];
  std::memcpy(b, &v, 4);
  out.insert(out.end(), b, b + 4);
}
void put_i64(Bytes& out, std::int64_t v) {
  std::uint8_t b[8];
  std::memcpy(b, &v, 8);
  out.insert(out.end(), b, b + 8);
}
void store_i32(std::uint8_t* p, std::int32_t v) {
  std::memcpy(p, &v, 4);
}

// CRC-32C, slice-by-8 over tables built at compile time (reflected polynomial 0x82F63B78).
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}
constexpr auto kCrcTables = make_crc_tables();

// Checks a BSON document's length prefix and terminator at [pos, end) of `bytes`.
Result<DocView> read_doc(ByteSpan bytes, std::size_t pos, std::size_t end, const DecodeOptions& opts,
                         std::string_view what) {
  if (end < pos || end - pos < 5) return malformed(std::string(what) + " truncated", pos);
  std::int32_t len = load_i32(bytes.data() + pos);
  if (len < 5 || static_cast<std::size_t>(len) > end - pos)
    return malformed(std::string(what) + " has bad BSON length " + std::to_string(len), pos);
  if (bytes[pos + len - 1] != 0)
    return malformed(std::string(what) + " not terminated by 0x00", pos + static_cast<std::size_t>(len) - 1);
  ByteSpan doc = bytes.subspan(pos, static_cast<std::size_t>(len));
  if (opts.validate_documents) {
    Status s = formats::validate(doc, {}, static_cast<std::int64_t>(pos));
    if (!s) return Status(ErrorCode::kInvalidBson, std::string(what) + ": " + s.message(), s.offset());
  }
  return DocView(doc);
}

Result<OpMsgView> decode_op_msg(ByteSpan bytes, const DecodeOptions& opts) {
  OpMsgView m;
  std::size_t pos = kHeaderSize;
  if (bytes.size() < pos + 4) return malformed("OP_MSG without flagBits", pos);
  m.flags = load_u32(bytes.data() + pos);
  // Bits 0-15 are "required": a reader must fail on any it does not know.
  std::uint32_t unknown_required = m.flags & 0xFFFFu & ~(kChecksumPresent | kMoreToCome);
  if (unknown_required != 0)
    return malformed("OP_MSG has unknown required flag bits " + std::to_string(unknown_required), pos);
  pos += 4;
  std::size_t end = bytes.size();
  if (m.checksum_present()) {
    if (end < pos + 4) return malformed("OP_MSG checksum missing", pos);
    end -= 4;
    std::uint32_t expected = load_u32(bytes.data() + end);
    std::uint32_t actual = crc32c(bytes.first(end));
    if (expected != actual) return malformed("OP_MSG checksum mismatch", end);
  }
  bool have_body = false;
  while (pos < end) {
    std::uint8_t kind = bytes[pos];
    std::size_t section_start = pos;
    ++pos;
    if (kind == 0) {
      if (have_body) return malformed("OP_MSG has more than one body section", section_start);
      auto doc = read_doc(bytes, pos, end, opts, "OP_MSG body");
      if (!doc) return doc.status();
      m.body = *doc;
      pos += doc->size();
      have_body = true;
    } else if (kind == 1) {
      if (end - pos < 4) return malformed("OP_MSG document sequence truncated", pos);
      std::int32_t size = load_i32(bytes.data() + pos);
      if (size < 5 || static_cast<std::size_t>(size) > end - pos)
        return malformed("OP_MSG document sequence has bad size " + std::to_string(size), pos);
      std::size_t seq_end = pos + static_cast<std::size_t>(size);
      std::size_t id_start = pos + 4;
      const void* nul = std::memchr(bytes.data() + id_start, 0, seq_end - id_start);
      if (nul == nullptr) return malformed("OP_MSG document sequence identifier not terminated", id_start);
      std::size_t id_len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - bytes.data()) - id_start;
      DocumentSequence seq;
      seq.identifier = {reinterpret_cast<const char*>(bytes.data() + id_start), id_len};
      std::size_t docs_start = id_start + id_len + 1;
      seq.documents = bytes.subspan(docs_start, seq_end - docs_start);
      auto n = formats::walk_documents(seq.documents, static_cast<std::int64_t>(docs_start));
      if (!n)
        return malformed("OP_MSG document sequence: " + n.status().message(),
                         static_cast<std::size_t>(n.status().offset()));
      if (opts.validate_documents) {
        formats::DocSequence docs(seq.documents);
        for (DocView d : docs) {
          Status s = formats::validate(d.bytes(), {}, static_cast<std::int64_t>(docs_start + docs.offset_of(d)));
          if (!s) return Status(ErrorCode::kInvalidBson, "OP_MSG document sequence: " + s.message(), s.offset());
        }
      }
      seq.count = *n;
      m.sequences.push_back(seq);
      pos = seq_end;
    } else {
      return malformed("OP_MSG has unknown section kind " + std::to_string(kind), section_start);
    }
  }
  if (!have_body) return malformed("OP_MSG has no body section", kHeaderSize + 4);
  return m;
}

Result<OpQueryView> decode_op_query(ByteSpan bytes, const DecodeOptions& opts) {
  OpQueryView q;
  std::size_t pos = kHeaderSize;
  if (bytes.size() < pos + 4) return malformed("OP_QUERY truncated", pos);
  q.flags = load_i32(bytes.data() + pos);
  pos += 4;
  const void* nul = std::memchr(bytes.data() + pos, 0, bytes.size() - pos);
  if (nul == nullptr) return malformed("OP_QUERY collection name not terminated", pos);
  std::size_t name_len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - bytes.data()) - pos;
  q.full_collection_name = {reinterpret_cast<const char*>(bytes.data() + pos), name_len};
  pos += name_len + 1;
  if (bytes.size() < pos + 8) return malformed("OP_QUERY truncated", pos);
  q.number_to_skip = load_i32(bytes.data() + pos);
  q.number_to_return = load_i32(bytes.data() + pos + 4);
  pos += 8;
  auto doc = read_doc(bytes, pos, bytes.size(), opts, "OP_QUERY query");
  if (!doc) return doc.status();
  q.query = *doc;
  pos += doc->size();
  if (pos < bytes.size()) {
    auto fields = read_doc(bytes, pos, bytes.size(), opts, "OP_QUERY returnFieldsSelector");
    if (!fields) return fields.status();
    q.return_fields = *fields;
    pos += fields->size();
    if (pos != bytes.size()) return malformed("OP_QUERY has trailing bytes", pos);
  }
  return q;
}

Result<OpReplyView> decode_op_reply(ByteSpan bytes, const DecodeOptions& opts) {
  OpReplyView r;
  std::size_t pos = kHeaderSize;
  if (bytes.size() < pos + 20) return malformed("OP_REPLY truncated", pos);
  r.response_flags = load_i32(bytes.data() + pos);
  r.cursor_id = load_i64(bytes.data() + pos + 4);
  r.starting_from = load_i32(bytes.data() + pos + 12);
  r.number_returned = load_i32(bytes.data() + pos + 16);
  pos += 20;
  r.documents = bytes.subspan(pos);
  auto n = formats::walk_documents(r.documents, static_cast<std::int64_t>(pos));
  if (!n)
    return malformed("OP_REPLY documents: " + n.status().message(), static_cast<std::size_t>(n.status().offset()));
  if (static_cast<std::int64_t>(*n) != r.number_returned)
    return malformed("OP_REPLY numberReturned " + std::to_string(r.number_returned) + " but " + std::to_string(*n) +
                         " documents follow",
                     kHeaderSize + 16);
  if (opts.validate_documents && *n > 0) {
    auto first = read_doc(bytes, pos, bytes.size(), opts, "OP_REPLY document");
    if (!first) return first.status();
  }
  return r;
}

}  // namespace

std::string_view compressor_name(CompressorId id) {
  switch (id) {
    case CompressorId::kNoop: return "noop";
    case CompressorId::kSnappy: return "snappy";
    case CompressorId::kZlib: return "zlib";
    case CompressorId::kZstd: return "zstd";
  }
  return "unknown";
}

Result<CompressorId> parse_compressor(std::string_view name) {
  if (name == "noop") return CompressorId::kNoop;
  if (name == "snappy") return CompressorId::kSnappy;
  if (name == "zlib") return CompressorId::kZlib;
  if (name == "zstd") return CompressorId::kZstd;
  return Status(ErrorCode::kInvalidArgument, "unknown compressor '" + std::string(name) + "'");
}

std::uint32_t crc32c(ByteSpan data, std::uint32_t crc) {
  const auto& t = kCrcTables;
  std::uint32_t c = ~crc;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 8) {
    std::uint32_t lo = load_u32(p) ^ c;
    std::uint32_t hi = load_u32(p + 4);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^
        t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
  return ~c;
}

Result<MsgHeader> parse_header(ByteSpan bytes, std::size_t max_message_size) {
  if (bytes.size() < kHeaderSize) return malformed("header truncated", bytes.size());
  MsgHeader h;
  h.message_length = load_i32(bytes.data());
  h.request_id = load_i32(bytes.data() + 4);
  h.response_to = load_i32(bytes.data() + 8);
  h.op_code = load_i32(bytes.data() + 12);
  if (h.message_length < static_cast<std::int32_t>(kHeaderSize) + 1)
    return malformed("messageLength " + std::to_string(h.message_length) + " is too small", 0);
  if (static_cast<std::size_t>(h.message_length) > max_message_size)
    return malformed("messageLength " + std::to_string(h.message_length) + " exceeds maxMessageSizeBytes " +
                         std::to_string(max_message_size),
                     0);
  return h;
}

void write_header(std::uint8_t* out, const MsgHeader& h) {
  store_i32(out, h.message_length);
  store_i32(out + 4, h.request_id);
  store_i32(out + 8, h.response_to);
  store_i32(out + 12, h.op_code);
}

const DocumentSequence* OpMsgView::sequence(std::string_view identifier) const {
  for (const auto& s : sequences)
    if (s.identifier == identifier) return &s;
  return nullptr;
}

DocView OpReplyView::first() const {
  if (documents.size() < 5) return {};
  return DocView(documents.first(static_cast<std::size_t>(load_i32(documents.data()))));
}

Result<MessageView> decode_message(ByteSpan bytes, const DecodeOptions& opts) {
  auto h = parse_header(bytes, opts.max_message_size);
  if (!h) return h.status();
  if (static_cast<std::size_t>(h->message_length) != bytes.size())
    return malformed("messageLength " + std::to_string(h->message_length) + " but the buffer holds " +
                         std::to_string(bytes.size()) + " bytes",
                     0);
  MessageView m;
  m.header = *h;
  switch (static_cast<OpCode>(h->op_code)) {
    case OpCode::kMsg: {
      auto b = decode_op_msg(bytes, opts);
      if (!b) return b.status();
      m.body = std::move(*b);
      return m;
    }
    case OpCode::kQuery: {
      auto b = decode_op_query(bytes, opts);
      if (!b) return b.status();
      m.body = *b;
      return m;
    }
    case OpCode::kReply: {
      auto b = decode_op_reply(bytes, opts);
      if (!b) return b.status();
      m.body = *b;
      return m;
    }
    case OpCode::kCompressed: return malformed("OP_COMPRESSED must be decompressed before decoding", 12);
  }
  return malformed("unsupported opCode " + std::to_string(h->op_code), 12);
}

Result<Bytes> decompress_message(ByteSpan bytes, std::size_t max_message_size, CompressorId* compressor) {
  auto h = parse_header(bytes, max_message_size);
  if (!h) return h.status();
  if (static_cast<std::size_t>(h->message_length) != bytes.size())
    return malformed("messageLength does not match the buffer", 0);
  if (h->op_code != static_cast<std::int32_t>(OpCode::kCompressed)) return malformed("not OP_COMPRESSED", 12);
  if (bytes.size() < kHeaderSize + 9) return malformed("OP_COMPRESSED truncated", kHeaderSize);
  std::int32_t original_op = load_i32(bytes.data() + kHeaderSize);
  std::int32_t uncompressed_size = load_i32(bytes.data() + kHeaderSize + 4);
  auto id = static_cast<CompressorId>(bytes[kHeaderSize + 8]);
  if (compressor != nullptr) *compressor = id;
  if (original_op == static_cast<std::int32_t>(OpCode::kCompressed))
    return malformed("OP_COMPRESSED wraps OP_COMPRESSED", kHeaderSize);
  if (uncompressed_size < 1 || static_cast<std::size_t>(uncompressed_size) + kHeaderSize > max_message_size)
    return malformed("OP_COMPRESSED uncompressedSize " + std::to_string(uncompressed_size) + " out of range",
                     kHeaderSize + 4);
  ByteSpan payload = bytes.subspan(kHeaderSize + 9);
  std::size_t n = static_cast<std::size_t>(uncompressed_size);
  Bytes out(kHeaderSize + n);
  MsgHeader nh = *h;
  nh.message_length = static_cast<std::int32_t>(out.size());
  nh.op_code = original_op;
  write_header(out.data(), nh);
  std::uint8_t* dst = out.data() + kHeaderSize;
  switch (id) {
    case CompressorId::kNoop:
      if (payload.size() != n) return malformed("OP_COMPRESSED noop payload size mismatch", kHeaderSize + 4);
      std::memcpy(dst, payload.data(), n);
      break;
    case CompressorId::kZlib: {
      uLongf dst_len = static_cast<uLongf>(n);
      int rc = ::uncompress(dst, &dst_len, payload.data(), static_cast<uLong>(payload.size()));
      if (rc != Z_OK || dst_len != n)
        return malformed("OP_COMPRESSED zlib payload is corrupt or of the wrong size", kHeaderSize + 9);
      break;
    }
    case CompressorId::kZstd: {
      std::size_t rc = ZSTD_decompress(dst, n, payload.data(), payload.size());
      if (ZSTD_isError(rc) || rc != n)
        return malformed(std::string("OP_COMPRESSED zstd payload: ") +
                             (ZSTD_isError(rc) ? ZSTD_getErrorName(rc) : "wrong decompressed size"),
                         kHeaderSize + 9);
      break;
    }
    case CompressorId::kSnappy: return malformed("OP_COMPRESSED snappy is not supported", kHeaderSize + 8);
    default: return malformed("OP_COMPRESSED unknown compressorId " + std::to_string(int(id)), kHeaderSize + 8);
  }
  return out;
}

Result<OwnedMessage> decode_owned(Bytes bytes, const DecodeOptions& opts) {
  OwnedMessage m;
  if (bytes.size() >= kHeaderSize && load_i32(bytes.data() + 12) == static_cast<std::int32_t>(OpCode::kCompressed)) {
    auto plain = decompress_message(bytes, opts.max_message_size, &m.compressor);
    if (!plain) return plain.status();
    m.bytes = std::move(*plain);
    m.was_compressed = true;
  } else {
    m.bytes = std::move(bytes);
  }
  auto v = decode_message(m.bytes, opts);
  if (!v) return v.status();
  m.view = std::move(*v);
  return m;
}

// ---------------------------------------------------------------------------------------------
// OutgoingMessage

void OutgoingMessage::append_owned(ByteSpan b) {
  if (!pieces_.empty() && pieces_.back().owned && pieces_.back().offset + pieces_.back().size == owned_.size()) {
    pieces_.back().size += b.size();
  } else {
    pieces_.push_back({true, owned_.size(), {}, b.size()});
  }
  owned_.insert(owned_.end(), b.begin(), b.end());
  size_ += b.size();
}

void OutgoingMessage::append_borrowed(ByteSpan b) {
  if (b.empty()) return;
  pieces_.push_back({false, 0, b, b.size()});
  size_ += b.size();
}

std::vector<ByteSpan> OutgoingMessage::buffers() const {
  std::vector<ByteSpan> out;
  out.reserve(pieces_.size());
  for (const auto& p : pieces_) out.push_back(p.owned ? ByteSpan(owned_.data() + p.offset, p.size) : p.span);
  return out;
}

Bytes OutgoingMessage::flatten() const {
  Bytes out;
  out.reserve(size_);
  for (ByteSpan b : buffers()) out.insert(out.end(), b.begin(), b.end());
  return out;
}

namespace {

// Appends a placeholder header; the length is patched by finish_header.
void begin_header(OutgoingMessage& m, std::int32_t request_id, std::int32_t response_to, OpCode op) {
  std::uint8_t h[kHeaderSize];
  write_header(h, {0, request_id, response_to, static_cast<std::int32_t>(op)});
  m.append_owned({h, kHeaderSize});
  m.set_ids(request_id, static_cast<std::int32_t>(op));
}
void finish_header(OutgoingMessage& m) {
  store_i32(m.owned_at(0), static_cast<std::int32_t>(m.size()));
}

Status check_one_doc(ByteSpan doc, std::string_view what) {
  if (doc.size() < 5 || static_cast<std::size_t>(load_i32(doc.data())) != doc.size() || doc.back() != 0)
    return Status(ErrorCode::kInvalidArgument, std::string(what) + " is not one BSON document");
  return {};
}

}  // namespace

Result<OutgoingMessage> encode_op_msg(std::int32_t request_id, std::int32_t response_to, const OpMsgOut& msg,
                                      std::size_t max_message_size) {
  if (Status s = check_one_doc(msg.body, "OP_MSG body"); !s) return s;
  OutgoingMessage m;
  begin_header(m, request_id, response_to, OpCode::kMsg);
  std::uint32_t flags = msg.flags & ~kChecksumPresent;
  if (msg.checksum) flags |= kChecksumPresent;
  Bytes small;
  put_i32(small, static_cast<std::int32_t>(flags));
  small.push_back(0);
  m.append_owned(small);
  m.append_borrowed(msg.body);
  for (const auto& seq : msg.sequences) {
    small.clear();
    small.push_back(1);
    std::size_t size = 4 + seq.identifier.size() + 1 + seq.documents.size();
    if (size > max_message_size)
      return Status(ErrorCode::kInvalidArgument, "OP_MSG document sequence of " + std::to_string(size) +
                                                     " bytes exceeds maxMessageSizeBytes " +
                                                     std::to_string(max_message_size));
    put_i32(small, static_cast<std::int32_t>(size));
    small.insert(small.end(), seq.identifier.begin(), seq.identifier.end());
    small.push_back(0);
    m.append_owned(small);
    m.append_borrowed(seq.documents);
  }
  std::size_t total = m.size() + (msg.checksum ? 4 : 0);
  if (total > max_message_size)
    return Status(ErrorCode::kInvalidArgument, "OP_MSG of " + std::to_string(total) +
                                                   " bytes exceeds maxMessageSizeBytes " +
                                                   std::to_string(max_message_size));
  // The length must be final before the checksum is computed over the whole message.
  store_i32(m.owned_at(0), static_cast<std::int32_t>(total));
  if (msg.checksum) {
    std::uint32_t crc = 0;
    for (ByteSpan b : m.buffers()) crc = crc32c(b, crc);
    std::uint8_t c[4];
    std::memcpy(c, &crc, 4);
    m.append_owned({c, 4});
  }
  return m;
}

OutgoingMessage encode_op_query(std::int32_t request_id, const OpQueryOut& q) {
  OutgoingMessage m;
  begin_header(m, request_id, 0, OpCode::kQuery);
  Bytes small;
  put_i32(small, q.flags);
  small.insert(small.end(), q.full_collection_name.begin(), q.full_collection_name.end());
  small.push_back(0);
  put_i32(small, q.number_to_skip);
  put_i32(small, q.number_to_return);
  m.append_owned(small);
  m.append_borrowed(q.query);
  m.append_borrowed(q.return_fields);
  finish_header(m);
  return m;
}

Result<OutgoingMessage> encode_op_reply(std::int32_t request_id, std::int32_t response_to, const OpReplyOut& r) {
  auto n = formats::walk_documents(r.documents);
  if (!n) return n.status();
  OutgoingMessage m;
  begin_header(m, request_id, response_to, OpCode::kReply);
  Bytes small;
  put_i32(small, r.response_flags);
  put_i64(small, r.cursor_id);
  put_i32(small, r.starting_from);
  put_i32(small, static_cast<std::int32_t>(*n));
  m.append_owned(small);
  m.append_borrowed(r.documents);
  finish_header(m);
  return m;
}

namespace {

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// Compresses the pieces of `src` after its 16-byte header into `out` (appended).
Status compress_body(const std::vector<ByteSpan>& pieces, CompressorId id, int level, Bytes& out) {
  std::size_t skip = kHeaderSize;
  std::vector<ByteSpan> body;
  std::size_t total = 0;
  for (ByteSpan b : pieces) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    body.push_back(b.subspan(skip));
    total += b.size() - skip;
    skip = 0;
  }
  std::size_t base = out.size();
  if (id == CompressorId::kZlib) {
    z_stream zs{};
    if (deflateInit(&zs, level < 0 ? Z_DEFAULT_COMPRESSION : level) != Z_OK)
      return Status(ErrorCode::kInternal, "zlib deflateInit failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
    out.resize(base + deflateBound(&zs, static_cast<uLong>(total)) + 64);
    zs.next_out = out.data() + base;
    zs.avail_out = static_cast<uInt>(out.size() - base);
    for (std::size_t i = 0; i < body.size(); ++i) {
      zs.next_in = const_cast<Bytef*>(body[i].data());
      zs.avail_in = static_cast<uInt>(body[i].size());
      int rc = deflate(&zs, i + 1 == body.size() ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR || zs.avail_in != 0) return Status(ErrorCode::kInternal, "zlib deflate failed");
    }
    if (body.empty()) deflate(&zs, Z_FINISH);
    out.resize(base + zs.total_out);
    return {};
  }
  if (id == CompressorId::kZstd) {
    std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx(ZSTD_createCCtx());
    if (!cctx) return Status(ErrorCode::kInternal, "ZSTD_createCCtx failed");
    if (level >= 0) ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setPledgedSrcSize(cctx.get(), total);
    out.resize(base + ZSTD_compressBound(total));
    ZSTD_outBuffer ob{out.data() + base, out.size() - base, 0};
    for (std::size_t i = 0; i <= body.size(); ++i) {
      bool last = i == body.size();
      ZSTD_inBuffer ib{last ? nullptr : body[i].data(), last ? 0 : body[i].size(), 0};
      ZSTD_EndDirective dir = last ? ZSTD_e_end : ZSTD_e_continue;
      for (;;) {
        std::size_t rc = ZSTD_compressStream2(cctx.get(), &ob, &ib, dir);
        if (ZSTD_isError(rc)) return Status(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(rc));
        if (last ? rc == 0 : ib.pos == ib.size) break;
        if (ob.pos == ob.size) {
          std::size_t used = ob.pos;
          out.resize(out.size() * 2);
          ob = {out.data() + base, out.size() - base, used};
        }
      }
    }
    out.resize(base + ob.pos);
    return {};
  }
  return Status(ErrorCode::kInvalidArgument, "compressor " + std::string(compressor_name(id)) + " is not supported");
}

}  // namespace

Result<OutgoingMessage> compress_message(const OutgoingMessage& msg, CompressorId id, int level) {
  std::vector<ByteSpan> pieces = msg.buffers();
  if (msg.size() < kHeaderSize || pieces.empty())
    return Status(ErrorCode::kInvalidArgument, "cannot compress an empty message");
  OutgoingMessage m;
  begin_header(m, msg.request_id(), load_i32(pieces[0].data() + 8), OpCode::kCompressed);
  Bytes small;
  put_i32(small, msg.op_code());
  put_i32(small, static_cast<std::int32_t>(msg.size() - kHeaderSize));
  small.push_back(static_cast<std::uint8_t>(id));
  if (id == CompressorId::kNoop) {
    m.append_owned(small);
    std::size_t skip = kHeaderSize;
    for (ByteSpan b : pieces) {
      if (skip >= b.size()) {
        skip -= b.size();
        continue;
      }
      m.append_borrowed(b.subspan(skip));
      skip = 0;
    }
  } else {
    if (Status s = compress_body(pieces, id, level, small); !s) return s;
    m.append_owned(small);
  }
  finish_header(m);
  return m;
}

std::int32_t next_request_id() {
  static std::atomic<std::int32_t> next{1};
  std::int32_t id = next.fetch_add(1, std::memory_order_relaxed);
  return id > 0 ? id : 1;
}

}  // namespace bsonpipe::io
