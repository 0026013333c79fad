// What restore reads when many namespaces come interleaved in one stream: the collection list
// (the prelude) first, then batches of documents, each namespace's end, and the end of the stream.
// Two kinds yield it: an archive (ArchiveStream, pipeline/sources/restore_source.hpp) and the
// in-process hand-over of bsonpipe copy (CopyChannel, pipeline/sources/copy_channel.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::pipeline {

enum class StreamEventKind : std::uint8_t {
  kDocuments,     // whole documents of one prelude entry
  kNamespaceEnd,  // that entry has no more documents (an archive: its CRC checked out)
  kEnd,           // the stream ended; every entry was ended
};

struct StreamEvent {
  StreamEventKind kind = StreamEventKind::kEnd;
  // The prelude entry the event belongs to (null for kEnd); valid while the stream lives. A
  // timeseries entry's documents are its buckets.
  const formats::archive::CollectionEntry* entry = nullptr;
  // kDocuments: whole documents, concatenated, and their count. The consumer owns them and may
  // move them out; next() refills the same StreamEvent (reusing the buffer when it is still there).
  formats::Bytes documents;
  std::size_t count = 0;
  // Where the event starts in the stream (its first document, the namespace's end, the end), for
  // messages and for naming a batch by its place (the restore journal).
  std::int64_t offset = 0;
};

// Threading: one consumer thread calls read_prelude(), next() and offset() (the producer side, if
// any, is the implementation's business). Every error is a Status naming the stream's offset;
// after an error the stream stays failed.
class NamespaceStream {
 public:
  virtual ~NamespaceStream() = default;
  // The collection list. Must be the first call; the pointer is valid while the stream lives.
  virtual Result<const formats::archive::Prelude*> read_prelude() = 0;
  // Replaces `out` with the next event. After kEnd, keeps giving kEnd.
  virtual Status next(StreamEvent& out) = 0;
  // How far the stream got (archive bytes consumed, or document bytes handed over), for progress.
  virtual std::int64_t offset() const = 0;
};

}  // namespace bsonpipe::pipeline
