// The hand-over inside `bsonpipe copy`: the dump's DocumentSink on one side, the restore's
// NamespaceStream on the other, with at most `capacity` bytes of documents between them.
// Batches move through it whole (no archive bytes, no copies): the buffer a dump reader filled
// is the one an insertion worker sends.
//
// Threading: any number of dump threads call start/documents/end_namespace; one restore thread
// calls read_prelude/next/offset. Either side may close: close_write(ok) once the dump finished
// (the reader drains, then gets kEnd); close_write(error) (the reader gets that error at once);
// close_read() (blocked and later writers get kCancelled). Any thread may close.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "formats/archive.hpp"
#include "pipeline/core/buffer_pool.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/sources/namespace_stream.hpp"

namespace bsonpipe::pipeline {

class CopyChannel final : public DocumentSink, public NamespaceStream {
 public:
  explicit CopyChannel(std::size_t capacity);

  // --- the dump's side ---
  Status start(const formats::archive::Prelude& p) override;
  // Blocks while `capacity` bytes are queued (a batch larger than that passes once the queue is
  // empty). Fails for a namespace the prelude does not list.
  Status documents(std::string_view db, std::string_view collection, formats::Bytes docs, std::size_t count) override;
  Status end_namespace(std::string_view db, std::string_view collection) override;
  void close_write(Status error = {});

  // --- the restore's side ---
  Result<const formats::archive::Prelude*> read_prelude() override;
  // kDocuments events carry the buffer the dump handed over; their offset counts document bytes.
  Status next(StreamEvent& out) override;
  std::int64_t offset() const override { return offset_; }
  void close_read();

  // Both sides: the dump takes its blocks here, the inserters give them back once sent.
  BufferPool& buffers() { return buffers_; }

 private:
  struct Item {
    StreamEventKind kind = StreamEventKind::kDocuments;
    std::size_t entry = 0;
    std::string db;
    std::string collection;
    formats::Bytes docs;
    std::size_t count = 0;
  };
  Status push(Item item);  // called with the lock not held
  Status closed_status() const;

  std::mutex mu_;
  std::condition_variable can_read_;
  std::condition_variable can_write_;
  std::size_t capacity_;
  std::size_t buffered_ = 0;  // bytes of documents queued
  std::deque<Item> items_;
  bool started_ = false;
  bool write_closed_ = false;
  bool read_closed_ = false;
  Status error_;  // from close_write(error)
  formats::archive::Prelude prelude_;
  // "db\0collection" of every namespace that may carry data -> its prelude entry.
  std::map<std::string, std::size_t, std::less<>> entries_;
  // Reader thread only.
  std::int64_t offset_ = 0;
  bool ended_ = false;
  BufferPool buffers_{8};
};

}  // namespace bsonpipe::pipeline
