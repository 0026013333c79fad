// Restore input: a .bson file (optionally gzip/zstd) cut into batches of whole documents, and an
// archive byte stream (file or stdin, optionally compressed) read as a NamespaceStream, both read
// through io::Storage.
// Documents are never decoded: only their lengths and terminators are walked, or fully
// validated with objcheck.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "formats/status.hpp"
#include "io/compress.hpp"
#include "io/storage.hpp"
#include "pipeline/core/buffer_pool.hpp"
#include "pipeline/sources/namespace_source.hpp"
#include "pipeline/sources/namespace_stream.hpp"

namespace bsonpipe::pipeline {

struct BatchLimits {
  std::size_t max_documents = 100'000;                           // per batch (maxWriteBatchSize, or --batchSize)
  std::size_t max_bytes = 16 * 1024 * 1024;                      // per batch (a single larger document still passes)
  std::size_t max_document_size = 16 * 1024 * 1024 + 16 * 1024;  // as mongorestore: 16 MiB + 16 KiB
  bool objcheck = false;                                         // full validation, UTF-8 included, of every document
};

// Checks concatenated documents fully (objcheck): returns the first fault with its offset.
Status check_documents(formats::ByteSpan docs, std::int64_t base_offset, const BatchLimits& limits);

// Reads one .bson file into batches. Single-threaded. Errors name the file and the offset (in
// the decompressed stream for compressed files).
class BsonFileReader {
 public:
  // `compression` comes from the file name; kNone still detects gzip/zstd from the magic.
  // "-" is standard input (where `storage` has one).
  static Result<BsonFileReader> open(const std::filesystem::path& path, formats::Compression compression,
                                     const BatchLimits& limits, io::Storage& storage = io::local_storage());
  BsonFileReader(BsonFileReader&&) noexcept = default;
  BsonFileReader& operator=(BsonFileReader&&) noexcept = default;

  // Fills `out` with the next batch (kBatch) or reports the end of the file (kEnd).
  Result<ReadResult> next(DocumentBatch& out);
  // Takes the buffers of later batches from `pool` (where their consumer gives them back)
  // instead of allocating each anew. The pool must outlive the reader's use of it.
  void reuse_buffers_from(BufferPool* pool) { pool_ = pool; }
  io::Codec codec() const { return codec_; }
  std::uint64_t compressed_offset() const { return file_->offset(); }

 private:
  BsonFileReader() = default;
  Status fill();                      // reads (and decompresses) one more chunk onto the end of buf_
  formats::Bytes new_buffer() const;  // an empty buffer for a batch, from pool_ when it has one
  Status fail(Status s);
  Status read_failed(Status s);  // a storage read error, with the offset reached

  std::filesystem::path path_;
  BatchLimits limits_;
  std::unique_ptr<io::ReadableObject> file_;
  io::Codec codec_ = io::Codec::kNone;
  std::unique_ptr<io::StreamDecompressor> decompressor_;
  formats::Bytes raw_;     // compressed input (and the first chunk, to sniff its magic)
  formats::Bytes buf_;     // the (decompressed) stream from base_ on: the next batch, then more
  std::int64_t base_ = 0;  // stream offset of buf_[0]
  BufferPool* pool_ = nullptr;
  bool eof_ = false;
  bool started_ = false;
  Status error_;
};

// A .bson file as one namespace's source: opened at the first next() (a file that cannot be
// opened fails there), read by a BsonFileReader. No path: a namespace without documents (its
// metadata only). Threading: NamespaceSource's.
class BsonFileSource final : public NamespaceSource {
 public:
  BsonFileSource(std::filesystem::path path, formats::Compression compression, const BatchLimits& limits,
                 io::Storage& storage)
      : path_(std::move(path)), compression_(compression), limits_(limits), storage_(storage) {}

  Result<ReadResult> next(DocumentBatch& out) override;
  std::uint64_t take_bytes() override;
  void reuse_buffers_from(BufferPool* pool) override { pool_ = pool; }

 private:
  std::filesystem::path path_;
  formats::Compression compression_;
  BatchLimits limits_;
  io::Storage& storage_;
  BufferPool* pool_ = nullptr;
  std::optional<BsonFileReader> reader_;
  std::uint64_t counted_ = 0;  // compressed bytes take_bytes() has reported
};

// The byte stream of an archive: a file or stdin ("-"), decompressed when `gzip` is set or when
// its magic says gzip/zstd. Read it through ArchiveStream (or formats::archive::Reader over
// source()). Single-threaded.
class ArchiveInput {
 public:
  // `path` "" or "-" is standard input (read through `storage`, which maps "-" to it).
  static Result<std::unique_ptr<ArchiveInput>> open(const std::string& path, bool gzip,
                                                    io::Storage& storage = io::local_storage());
  formats::archive::ByteSource source();
  io::Codec codec() const { return codec_; }
  const std::string& name() const { return name_; }

 private:
  Result<std::size_t> read(std::span<std::uint8_t> buf);
  Status read_failed(const Status& s) const;  // names the archive and the offset reached
  std::string name_;
  std::unique_ptr<io::ReadableObject> file_;
  io::Codec codec_ = io::Codec::kNone;
  std::unique_ptr<io::StreamDecompressor> decompressor_;
  formats::Bytes head_;  // bytes read while sniffing the magic
  formats::Bytes raw_;   // compressed input, reused from read to read
  formats::Bytes out_;
  std::size_t out_pos_ = 0;
  bool eof_ = false;
};

// An archive as a NamespaceStream: formats::archive::Reader's events, each batch of documents
// copied into the event's own buffer (the Reader's view lasts only until its next event).
// Errors are the Reader's (or the source's). Threading: NamespaceStream's, one thread.
class ArchiveStream final : public NamespaceStream {
 public:
  explicit ArchiveStream(formats::archive::ByteSource source, formats::archive::ReaderOptions opts = {})
      : reader_(std::move(source), opts) {}
  // Reads `input` (which it keeps).
  ArchiveStream(std::unique_ptr<ArchiveInput> input, formats::archive::ReaderOptions opts)
      : input_(std::move(input)), reader_(input_->source(), opts) {}

  Result<const formats::archive::Prelude*> read_prelude() override { return reader_.read_prelude(); }
  Status next(StreamEvent& out) override;
  std::int64_t offset() const override { return reader_.offset(); }

 private:
  std::unique_ptr<ArchiveInput> input_;  // declared before reader_, which reads from it
  formats::archive::Reader reader_;
};

}  // namespace bsonpipe::pipeline
