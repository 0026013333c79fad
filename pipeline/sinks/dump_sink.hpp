// Where a dump's bytes go, one implementation per output kind (directory layout, archive
// multiplexer, standard output .bson): the planner picks one, and no other stage asks which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/hash.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"

namespace bsonpipe::pipeline::dump_detail {

class Dumper;
struct CollectionJob;

// The byte path of one range (or of the oplog) as a sink opens it. `bytes` empty: the stream is
// handed to DumpSink::write_block in blocks of whole documents instead.
// Threading: owned by the one thread that reads the range.
struct StreamOutput {
  std::unique_ptr<io::WritableObject> file;   // the file the bytes end in, when there is one
  std::unique_ptr<formats::Xxh3Hasher> hash;  // hashes what reaches `file`, when the manifest wants it
  std::function<Status(formats::ByteSpan)> bytes;
};

struct StreamWriterOptions;  // pipeline/sinks/stream_writer.hpp

// One output kind. Threading: each method says on which thread it is called; the readers call
// theirs concurrently, so what they share is guarded inside the implementation (or the Dumper).
class DumpSink {
 public:
  virtual ~DumpSink() = default;
  // False when every collection must be read as one range (its bytes are one ordered stream).
  // Called on the run's thread while planning.
  virtual bool splits_collections() const { return true; }
  // True when a split collection's ranges must reach the output as one stream in range order
  // (one file per collection): the readers then feed the collection's RangeJoin, which opens
  // the output once with open_range(c, 0, /*multi=*/false, ...).
  virtual bool joins_ranges() const { return false; }
  // Prepares the output before the readers start (staging directory and metadata, or the
  // archive prelude). Called once, on the run's thread.
  virtual Status start() = 0;
  // Opens the output of range `index` of `c` (`multi`: the collection has several ranges).
  // Called on the range's reader thread.
  virtual Status open_range(CollectionJob& c, std::size_t index, bool multi, StreamOutput& out) = 0;
  // A block of `count` documents of db.coll for a stream opened without `bytes`; may take the
  // block's contents. Called on the range's reader thread (or the run's thread for the oplog).
  virtual Status write_block(std::string_view db, std::string_view coll, formats::Bytes& block, std::size_t count);
  // Once per collection, on the thread that finished its last range, after its range outputs
  // were committed.
  virtual Status finish_collection(CollectionJob& c) = 0;
  // --oplog: opens, then finishes the oplog's stream (n documents, raw and stored bytes) after
  // its last block. Called on the run's thread after the readers are done.
  virtual Status open_oplog(StreamOutput& out);
  virtual Status finish_oplog(StreamOutput& out, std::uint64_t n, std::uint64_t raw, std::uint64_t stored);
  // Puts the finished output in place (after the oplog). Called once, on the run's thread.
  virtual Status finalize() = 0;
  // Removes or abandons what was written, so nothing looks like a finished dump. Called once
  // on a failure, on the run's thread, after the readers are done.
  virtual void abort() = 0;
};

// The output kinds, one of which the planner (Dumper::choose_sink) picks from the options.
std::unique_ptr<DumpSink> make_directory_sink(Dumper& d);  // the directory layout with its manifest
std::unique_ptr<DumpSink> make_archive_sink(Dumper& d);    // the archive, or the copy's document sink
std::unique_ptr<DumpSink> make_stdout_bson_sink();         // --out -: one collection as .bson

}  // namespace bsonpipe::pipeline::dump_detail
