#include "pipeline/sinks/stream_writer.hpp"

#include <utility>

#include "pipeline/core/buffer_pool.hpp"

namespace bsonpipe::pipeline::dump_detail {

StreamWriter::StreamWriter(StreamOutput out, CompressionPool* pool, StreamWriterOptions opts, DumpSink& sink,
                           std::string db, std::string coll)
    : out_(std::move(out)), opts_(opts), sink_(sink), db_(std::move(db)), coll_(std::move(coll)) {
  // The sink's byte path for a file refers to the StreamOutput it filled, which now lives here.
  if (out_.file)
    out_.bytes = [this](ByteSpan b) -> Status {
      if (out_.hash) out_.hash->update(b);
      return out_.file->write(b);
    };
  direct_ = out_.file != nullptr && opts_.codec == io::Codec::kNone;
  if (out_.bytes && !direct_)
    writer_ = std::make_unique<OrderedBlockWriter>(
        pool, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(pool->threads() + 1)},
        out_.bytes);
  if (!direct_) new_block();
}

// A block has room for block_bytes and the document that crosses it, typically. A block the
// sink only read (the archive multiplexer) is filled again; one it took comes from the pool.
void StreamWriter::new_block() {
  const std::size_t room = opts_.block_bytes + (1u << 20);
  if (block_.capacity() >= room) {
    block_.clear();
    return;
  }
  block_ = take_buffer(opts_.buffers, room);
}

StreamWriter::~StreamWriter() = default;

Status StreamWriter::write(std::span<const ByteSpan> docs) {
  for (ByteSpan d : docs) raw_ += d.size();
  if (direct_) {
    if (out_.hash)
      for (ByteSpan d : docs) out_.hash->update(d);
    return out_.file->write_gather(docs);
  }
  for (ByteSpan d : docs) {
    block_.insert(block_.end(), d.begin(), d.end());
    ++block_docs_;
    if (block_.size() < opts_.block_bytes) continue;
    if (Status s = flush_block(); !s) return s;
    new_block();
  }
  return {};
}

Status StreamWriter::flush_block() {
  std::size_t count = std::exchange(block_docs_, 0);
  if (writer_) return writer_->add(std::move(block_));
  return sink_.write_block(db_, coll_, block_, count);
}

Status StreamWriter::finish(bool empty_member, bool durable) {
  if (!block_.empty())
    if (Status s = flush_block(); !s) return s;
  if (writer_ && empty_member && opts_.codec != io::Codec::kNone && writer_->raw_bytes() == 0)
    if (Status s = writer_->add(Bytes()); !s) return s;
  if (writer_)
    if (Status s = writer_->finish(); !s) return s;
  if (out_.file)
    if (Status s = out_.file->commit(durable); !s) return s;
  return {};
}

std::uint64_t StreamWriter::stored_bytes() const {
  if (direct_) return raw_;
  return writer_ ? writer_->stored_bytes() : 0;
}

std::string StreamWriter::hash_hex() const {
  return out_.hash ? out_.hash->hex_digest() : std::string();
}

}  // namespace bsonpipe::pipeline::dump_detail
