#include "pipeline/sources/restore_source.hpp"

#include <algorithm>
#include <cstring>

#include "formats/doc_sequence.hpp"

namespace bsonpipe::pipeline {

using formats::Bytes;
using formats::ByteSpan;
using formats::Compression;

namespace {
constexpr std::size_t kReadChunk = 1024 * 1024;
constexpr std::size_t kMaxPieceRead = 16u << 20;  // a larger gzip member of ours is gathered from reads
constexpr std::size_t kCompressedFillRoom = 12 * 1024 * 1024;

// gzip needs its method byte too: a plain .bson whose first length happens to start 1F 8B is
// possible, one that also has 08 next is ~560 KB and still possible, but the stock tools never
// write uncompressed files under a .gz name, so the name wins when it says something.
io::Codec sniff(ByteSpan head) {
  if (head.size() >= 3 && head[0] == 0x1F && head[1] == 0x8B && head[2] == 0x08) return io::Codec::kGzip;
  if (head.size() >= 4 && io::detect_codec(head) == io::Codec::kZstd) return io::Codec::kZstd;
  return io::Codec::kNone;
}
}  // namespace

Status check_documents(ByteSpan docs, std::int64_t base_offset, const BatchLimits& limits) {
  formats::ValidateOptions vo;
  vo.check_utf8 = true;
  vo.max_size = limits.max_document_size;
  formats::DocSequence seq(docs);
  for (formats::DocView d : seq) {
    const std::size_t pos = seq.offset_of(d);
    if (auto s = formats::validate(d.bytes(), vo, base_offset + static_cast<std::int64_t>(pos)); !s) return s;
  }
  const formats::SequenceError& e = seq.error();
  const std::int64_t at = base_offset + static_cast<std::int64_t>(e.offset);
  switch (e.fault) {
    case formats::SequenceFault::kNone: return {};
    case formats::SequenceFault::kTruncated: return {ErrorCode::kInvalidBson, "truncated document", at};
    case formats::SequenceFault::kBadLength:
      return {ErrorCode::kInvalidBson, "bad document length " + std::to_string(static_cast<std::uint32_t>(e.length)),
              at};
    case formats::SequenceFault::kNoTerminator:  // validate names it as it always did
      return formats::validate(docs.subspan(e.offset, static_cast<std::size_t>(e.length)), vo, at);
  }
  return {};
}

Result<BsonFileReader> BsonFileReader::open(const std::filesystem::path& path, Compression compression,
                                            const BatchLimits& limits, io::Storage& storage) {
  BsonFileReader r;
  r.path_ = path;
  r.limits_ = limits;
  auto f = storage.open(path);
  if (!f) return Status{f.status().code(), path.string() + ": " + f.status().to_string()};
  r.file_ = std::move(*f);
  switch (compression) {
    case Compression::kGzip: r.codec_ = io::Codec::kGzip; break;
    case Compression::kZstd: r.codec_ = io::Codec::kZstd; break;
    case Compression::kNone: break;
  }
  return r;
}

Status BsonFileReader::fail(Status s) {
  error_ = Status{s.code(), path_.string() + ": " + s.message(), s.offset()};
  return error_;
}

Status BsonFileReader::read_failed(Status s) {
  // A storage error without an offset still says where the read stopped.
  error_ = Status{s.code(), path_.string() + ": " + s.message(),
                  s.offset() >= 0 ? s.offset() : static_cast<std::int64_t>(file_->offset())};
  return error_;
}

// Room for a full batch and the fill that completes its last document: a plain read is one
// chunk; a compressed chunk decodes to more (a whole 4 MiB gzip member of ours, or two, from
// 1 MiB read), so it gets room for that. Outgrowing the room reallocates (a copy and fresh pages).
Bytes BsonFileReader::new_buffer() const {
  const std::size_t fill_room = codec_ == io::Codec::kNone ? kReadChunk : kCompressedFillRoom;
  return take_buffer(pool_, std::max(limits_.max_bytes, kReadChunk) + fill_room);
}

Status BsonFileReader::fill() {
  if (buf_.capacity() == 0) buf_ = new_buffer();
  if (codec_ == io::Codec::kNone && started_) {
    // Plain files are read straight into the batch buffer: no staging copy.
    std::size_t at = buf_.size();
    buf_.resize(at + kReadChunk);
    auto n = file_->read(buf_.data() + at, kReadChunk);
    buf_.resize(at + (n ? *n : 0));
    if (!n) return read_failed(n.status());
    if (*n == 0) eof_ = true;
    return {};
  }
  // A compressed file is read in the pieces its decompressor decodes in place (a gzip member of
  // ours: its header, then the rest), up to kMaxPieceRead; raw_ only grows, so no read zero-fills.
  const std::size_t want = decompressor_ ? std::min(decompressor_->next_read(kReadChunk), kMaxPieceRead) : kReadChunk;
  if (raw_.size() < want) raw_.resize(want);
  auto n = file_->read(raw_.data(), want);
  if (!n) return read_failed(n.status());
  const ByteSpan chunk(raw_.data(), *n);
  if (!started_) {
    started_ = true;
    if (codec_ == io::Codec::kNone) codec_ = sniff(chunk);
    if (codec_ != io::Codec::kNone) decompressor_ = io::StreamDecompressor::create(codec_);
  }
  if (*n == 0) {
    eof_ = true;
    if (decompressor_) {
      if (auto s = decompressor_->finish(); !s)
        return fail({s.code(), std::string(io::codec_name(codec_)) + " stream: " + s.message(), s.offset()});
    }
    return {};
  }
  if (decompressor_) {
    if (auto s = decompressor_->feed(chunk, buf_); !s)
      return fail({s.code(), std::string(io::codec_name(codec_)) + " stream: " + s.message(), s.offset()});
  } else {
    buf_.insert(buf_.end(), chunk.begin(), chunk.end());
  }
  return {};
}

Result<ReadResult> BsonFileReader::next(DocumentBatch& out) {
  if (!error_.is_ok()) return error_;
  out.data.clear();
  out.count = 0;
  out.offset = base_;
  // buf_ holds the stream from base_ on; the batch is its first `scan` bytes. Cut points depend
  // only on the documents and the limits, never on read sizes (a resumed restore relies on that).
  std::size_t scan = 0, count = 0;
  bool full = false;
  while (!full) {
    std::size_t avail = buf_.size() - scan;
    if (avail < 4) {
      if (eof_) break;
      if (auto s = fill(); !s) return s;
      continue;
    }
    std::int64_t at = base_ + static_cast<std::int64_t>(scan);
    auto len = static_cast<std::size_t>(formats::load_u32(buf_.data() + scan));
    if (len < 5 || len > limits_.max_document_size)
      return fail({ErrorCode::kInvalidBson,
                   "bad document length " + std::to_string(static_cast<std::int32_t>(len)) +
                       (len >= 5 ? " (over the " + std::to_string(limits_.max_document_size) + "-byte limit)" : ""),
                   at});
    // A full batch is cut before reading on: the next batch's bytes are not read into this one's
    // buffer only to be copied out of it (and cannot outgrow its room, which costs a reallocation).
    if (count > 0 && (count >= limits_.max_documents || scan + len > limits_.max_bytes)) {
      full = true;
      break;
    }
    if (avail < len) {
      if (eof_)
        return fail(
            {ErrorCode::kInvalidBson,
             "truncated document: length " + std::to_string(len) + " but only " + std::to_string(avail) + " bytes left",
             at});
      if (auto s = fill(); !s) return s;
      continue;
    }
    if (buf_[scan + len - 1] != 0)
      return fail(
          {ErrorCode::kInvalidBson, "document does not end with a NUL byte", at + static_cast<std::int64_t>(len) - 1});
    if (limits_.objcheck)
      if (auto s = check_documents(ByteSpan(buf_.data() + scan, len), at, limits_); !s) return fail(s);
    scan += len;
    ++count;
  }
  if (!full && scan < buf_.size())
    return fail({ErrorCode::kInvalidBson,
                 "truncated document: " + std::to_string(buf_.size() - scan) + " stray bytes at end of file",
                 base_ + static_cast<std::int64_t>(scan)});
  if (count == 0) return ReadResult::kEnd;
  // Hand the buffer itself out as the batch; what follows the cut starts the next buffer.
  Bytes rest = new_buffer();
  rest.assign(buf_.begin() + static_cast<std::ptrdiff_t>(scan), buf_.end());
  buf_.resize(scan);
  out.data = std::move(buf_);
  out.count = count;
  buf_ = std::move(rest);
  base_ += static_cast<std::int64_t>(scan);
  return ReadResult::kBatch;
}

// ---- a file as a namespace's source --------------------------------------------------------------

Result<ReadResult> BsonFileSource::next(DocumentBatch& out) {
  if (path_.empty()) return ReadResult::kEnd;
  if (!reader_) {
    auto f = BsonFileReader::open(path_, compression_, limits_, storage_);
    if (!f) return f.status();
    reader_.emplace(std::move(*f));
    reader_->reuse_buffers_from(pool_);
  }
  return reader_->next(out);
}

std::uint64_t BsonFileSource::take_bytes() {
  if (!reader_) return 0;
  const std::uint64_t now = reader_->compressed_offset();
  const std::uint64_t n = now - counted_;
  counted_ = now;
  return n;
}

// ---- archive input ------------------------------------------------------------------------------

Result<std::unique_ptr<ArchiveInput>> ArchiveInput::open(const std::string& path, bool gzip, io::Storage& storage) {
  auto in = std::unique_ptr<ArchiveInput>(new ArchiveInput());
  in->name_ = path == "-" || path.empty() ? "archive on standard input" : "archive " + path;
  auto f = storage.open(path.empty() ? "-" : path);
  if (!f) return Status{f.status().code(), in->name_ + ": " + f.status().to_string()};
  in->file_ = std::move(*f);
  // Sniff the magic: at least 4 bytes unless the stream is shorter.
  in->head_.resize(4);
  std::size_t got = 0;
  while (got < 4) {
    auto n = in->file_->read(in->head_.data() + got, 4 - got);
    if (!n) return in->read_failed(n.status());
    if (*n == 0) break;
    got += *n;
  }
  in->head_.resize(got);
  in->codec_ = sniff(in->head_);
  if (gzip && in->codec_ != io::Codec::kGzip)
    return Status{ErrorCode::kInvalidArchive, in->name_ + ": --gzip given but the stream is not gzip-compressed", 0};
  if (in->codec_ != io::Codec::kNone) in->decompressor_ = io::StreamDecompressor::create(in->codec_);
  return in;
}

Status ArchiveInput::read_failed(const Status& s) const {
  // The offset is the archive file's (compressed, when it is), where the read stopped.
  std::string msg = s.message();
  if (s.offset() < 0)
    msg += " (at offset " + std::to_string(file_->offset()) + ")";
  else
    msg = s.to_string();
  return Status{s.code(), name_ + ": " + msg};
}

formats::archive::ByteSource ArchiveInput::source() {
  return [this](std::span<std::uint8_t> buf) { return read(buf); };
}

Result<std::size_t> ArchiveInput::read(std::span<std::uint8_t> buf) {
  if (!decompressor_) {
    if (!head_.empty()) {
      std::size_t n = std::min(buf.size(), head_.size());
      std::memcpy(buf.data(), head_.data(), n);
      head_.erase(head_.begin(), head_.begin() + static_cast<std::ptrdiff_t>(n));
      return n;
    }
    auto n = file_->read(buf.data(), buf.size());
    if (!n) return read_failed(n.status());
    return *n;
  }
  while (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
    if (eof_) return std::size_t{0};
    // raw_ is kept from read to read and only grows: no allocation or zero-fill per read.
    ByteSpan raw;
    if (!head_.empty()) {
      raw_.swap(head_);
      head_.clear();
      raw = raw_;
    } else {
      if (raw_.size() < kReadChunk) raw_.resize(kReadChunk);
      auto n = file_->read(raw_.data(), kReadChunk);
      if (!n) return read_failed(n.status());
      raw = ByteSpan(raw_.data(), *n);
    }
    if (raw.empty()) {
      eof_ = true;
      if (auto s = decompressor_->finish(); !s)
        return Status{s.code(), name_ + ": " + std::string(io::codec_name(codec_)) + " stream: " + s.message(),
                      s.offset()};
      return std::size_t{0};
    }
    if (auto s = decompressor_->feed(raw, out_); !s)
      return Status{s.code(), name_ + ": " + std::string(io::codec_name(codec_)) + " stream: " + s.message(),
                    s.offset()};
  }
  std::size_t n = std::min(buf.size(), out_.size() - out_pos_);
  std::memcpy(buf.data(), out_.data() + out_pos_, n);
  out_pos_ += n;
  return n;
}

Status ArchiveStream::next(StreamEvent& out) {
  auto ev = reader_.next();
  if (!ev) return ev.status();
  out.entry = ev->entry;
  out.offset = ev->offset;
  out.count = ev->document_count;
  out.documents.assign(ev->documents.begin(), ev->documents.end());
  switch (ev->kind) {
    case formats::archive::EventKind::kDocuments: out.kind = StreamEventKind::kDocuments; break;
    case formats::archive::EventKind::kNamespaceEnd: out.kind = StreamEventKind::kNamespaceEnd; break;
    case formats::archive::EventKind::kEnd: out.kind = StreamEventKind::kEnd; break;
  }
  return {};
}

}  // namespace bsonpipe::pipeline
