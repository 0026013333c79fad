// The mongodump --archive stream format (mongo-tools common/archive/spec.md): a streaming Writer
// that multiplexes namespaces into one byte stream, and a streaming Reader that demultiplexes it,
// checking structure and each namespace's CRC-64 while never holding more than one batch in memory.
//
// Stream layout:
//   magic 6D E2 99 81 | header doc | collection-metadata doc* | FF FF FF FF |
//   ( {db, collection, EOF:false, CRC:0} document* FF FF FF FF            -- a namespace segment
//   | {db, collection, EOF:true,  CRC:<crc64 of all its documents>} FF FF FF FF )*   -- its EOF
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "formats/crc64.hpp"
#include "formats/status.hpp"

namespace bsonpipe::formats::archive {

inline constexpr std::uint32_t kMagic = 0x8199e26d;  // on the wire: 6D E2 99 81
inline constexpr std::uint32_t kTerminator = 0xFFFFFFFF;
inline constexpr std::string_view kFormatVersion = "0.1";
// Largest document the stock tools accept in an archive (db.MaxBSONSize).
inline constexpr std::size_t kMaxDocumentSize = 16 * 1024 * 1024;
// mongodump stores a timeseries collection's data under this prefix before server 8.3.
inline constexpr std::string_view kBucketsPrefix = "system.buckets.";

// The archive header document.
struct Header {
  std::int32_t concurrent_collections = 1;
  std::string version{kFormatVersion};
  std::string server_version;
  std::string tool_version;
  bool operator==(const Header&) const = default;
};

// One collection-metadata document of the prelude. mongodump writes one per dumped collection
// (views included); the oplog of a --oplog dump is {db:"", collection:"oplog"}.
struct CollectionEntry {
  std::string db;
  std::string collection;
  std::string metadata;  // the collection's metadata.json text (canonical Extended JSON), may be ""
  std::int64_t size = 0;
  std::string type;  // "" (old archives), "collection", "view" or "timeseries"
  // Reader only: archive offset of this entry's document.
  std::int64_t offset = -1;

  std::string ns() const { return db + "." + collection; }
  bool is_oplog() const { return db.empty() && collection == "oplog"; }
  bool operator==(const CollectionEntry& o) const {
    return db == o.db && collection == o.collection && metadata == o.metadata && size == o.size && type == o.type;
  }
};

struct Prelude {
  Header header;
  std::vector<CollectionEntry> collections;
};

// Checks a namespace as a MongoDB server would accept it (NamespaceString's rules, Linux):
// the database name is non-empty, shorter than 64 bytes and free of / \ . space " $ and NUL;
// the collection name is non-empty, does not start with '.', and holds no NUL and no '$'; the
// namespace "<db>.<collection>" is at most 255 bytes (the limit since server 4.4, larger than
// any older one). Also accepted: the names a dump itself uses, {"", "oplog"} (an archive's
// --oplog entry), "$admin.system.users|roles|version" (--dumpDbUsersAndRoles) and
// "local.oplog.$main" (the legacy oplog). A collection name's '/', '\', spaces, dots and
// non-ASCII bytes are all valid: only the file name made from it is escaped (dump_layout.hpp).
// The Status offset is the index of the offending byte in the name.
Status validate_namespace(std::string_view db, std::string_view collection);
// The database-name part of validate_namespace: such a name is also a safe directory name.
Status validate_database_name(std::string_view db);
inline constexpr std::size_t kMaxDatabaseNameBytes = 63;
inline constexpr std::size_t kMaxNamespaceBytes = 255;

// Where the bytes go. A non-ok Status stops the writer: every later call returns that error.
using ByteSink = std::function<Status(ByteSpan)>;
// Fills the buffer with up to buffer.size() bytes and returns how many; 0 means end of stream.
using ByteSource = std::function<Result<std::size_t>(std::span<std::uint8_t>)>;

// Streaming archive writer. Single-threaded: one caller at a time (wrap it in Multiplexer to feed
// it from many producers). Consecutive blocks of one namespace share one segment, as mongodump's
// multiplexer does, so an archive written from the same block sequence is byte-identical.
class Writer {
 public:
  explicit Writer(ByteSink sink);

  // Writes magic, header, the collection entries and the terminator. Must be the first call.
  // Every entry's namespace is validated; the entries define which namespaces may carry data
  // (a "timeseries" entry's data goes under db.system.buckets.<coll>, or db.<coll> from 8.3).
  Status write_prelude(const Prelude& prelude);
  // Appends whole concatenated BSON documents of one namespace (checked with walk_documents).
  // An empty span writes nothing.
  Status write_documents(std::string_view db, std::string_view collection, ByteSpan documents);
  // Ends a namespace: its EOF block with the CRC-64 of all its documents. A namespace that never
  // had documents still gets an empty segment first, exactly as mongodump writes it.
  Status end_namespace(std::string_view db, std::string_view collection);
  // Checks that every prelude collection was ended. Writes nothing; the sink stays open.
  Status finish();

  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct NsState {
    std::size_t entry = 0;
    Crc64 crc;
    bool ended = false;
  };
  Status fail(Status s);
  Status emit(ByteSpan bytes);
  Status open_segment(const std::string& key, std::string_view db, std::string_view collection);
  Result<NsState*> lookup(std::string_view db, std::string_view collection);

  ByteSink sink_;
  Status error_;
  bool prelude_written_ = false;
  std::vector<CollectionEntry> entries_;
  std::vector<bool> entry_ended_;
  std::map<std::string, NsState, std::less<>> ns_;
  std::string current_;  // key of the open segment's namespace, "" when none
  bool segment_open_ = false;
  std::uint64_t bytes_written_ = 0;
  Bytes scratch_;
};

// Thread-safe front of a Writer for many producers: each call takes a mutex and runs the
// Writer's call whole, so blocks from different producers never interleave inside a block.
// Producers may call write_documents / end_namespace concurrently for different namespaces;
// calls for one namespace must be ordered by that namespace's producer (end after its last
// block). The sink is called under the mutex, so a slow sink is the back-pressure for all.
class Multiplexer {
 public:
  explicit Multiplexer(ByteSink sink) : writer_(std::move(sink)) {}
  Status write_prelude(const Prelude& p) {
    std::lock_guard lock(mu_);
    return writer_.write_prelude(p);
  }
  Status write_documents(std::string_view db, std::string_view coll, ByteSpan docs) {
    std::lock_guard lock(mu_);
    return writer_.write_documents(db, coll, docs);
  }
  Status end_namespace(std::string_view db, std::string_view coll) {
    std::lock_guard lock(mu_);
    return writer_.end_namespace(db, coll);
  }
  Status finish() {
    std::lock_guard lock(mu_);
    return writer_.finish();
  }
  std::uint64_t bytes_written() {
    std::lock_guard lock(mu_);
    return writer_.bytes_written();
  }

 private:
  std::mutex mu_;
  Writer writer_;
};

struct ReaderOptions {
  // Documents longer than this are rejected (default: the stock tools' limit, 16 MiB).
  std::size_t max_document_size = kMaxDocumentSize;
  // A kDocuments event carries whole documents totalling about this many bytes (at least one).
  std::size_t batch_bytes = 4 * 1024 * 1024;
  // Bytes asked from the source per call.
  std::size_t read_size = 256 * 1024;
  // Validate every document fully (formats::validate) instead of checking only its length and
  // final NUL. The CRC catches corruption either way; this names the faulty document sooner.
  bool validate_documents = false;
  // Parse each prelude entry's metadata string as Extended JSON, so a malformed metadata.json is
  // rejected at its offset in the archive instead of later in restore.
  bool check_metadata_json = true;
  // Reject any field in header, collection-metadata and namespace header documents that the
  // format does not define, and require the fields every mongodump writes.
  bool strict_fields = true;
};

enum class EventKind : std::uint8_t {
  kDocuments,     // a batch of whole documents of one namespace
  kNamespaceEnd,  // the namespace's EOF block; its CRC has been verified
  kEnd,           // end of the archive; every prelude collection was complete
};

struct Event {
  EventKind kind = EventKind::kEnd;
  // The data namespace (for timeseries before 8.3: db, "system.buckets.<coll>"). Valid until the
  // Reader is destroyed.
  std::string_view db;
  std::string_view collection;
  // The prelude entry this namespace belongs to (nullptr for kEnd).
  const CollectionEntry* entry = nullptr;
  // kDocuments: concatenated documents; valid until the next call to next().
  ByteSpan documents;
  std::size_t document_count = 0;
  // kNamespaceEnd: the verified CRC-64 and the namespace's totals.
  std::uint64_t crc = 0;
  std::uint64_t total_documents = 0;
  std::uint64_t total_bytes = 0;
  // Archive offset of the first document (kDocuments), of the EOF header (kNamespaceEnd), or of
  // the end of stream (kEnd).
  std::int64_t offset = 0;
};

// Per-namespace totals seen so far (for verify and progress).
struct NamespaceSummary {
  std::string db;
  std::string collection;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  std::uint64_t crc = 0;
  std::uint32_t segments = 0;
  bool ended = false;
};

// Streaming archive reader. Single-threaded. Every error is kInvalidArchive (or the source's own
// error) and names the byte offset in the archive; after an error the reader stays failed.
//
// What corruption it catches (with strict_fields, the default): any truncation, since every
// prelude collection must reach its EOF block; any change to magic, lengths, terminators, keys,
// types, namespace names or EOF flags (structure and prelude checks); any change to document
// bytes (the namespace's CRC-64, checked at its EOF block, detects every 1-bit error). The format
// has no checksum over the prelude, so changes that stay well-formed are undetectable in exactly
// these places: the values of the header's concurrent_collections, server_version and
// tool_version; each collection entry's size; and its metadata text where it still parses as
// Extended JSON (e.g. a changed digit). Such changes are not lost: they show in prelude().
// tests/formats/archive_test.cpp flips every bit of the fixture archives to hold this.
class Reader {
 public:
  explicit Reader(ByteSource source, ReaderOptions opts = {});

  // Reads magic, header and collection entries through the terminator. Must be called first.
  Result<const Prelude*> read_prelude();
  // The next event. After kEnd, keeps returning kEnd.
  Result<Event> next();

  // Bytes consumed from the source so far.
  std::int64_t offset() const { return base_ + static_cast<std::int64_t>(pos_); }
  const Prelude& prelude() const { return prelude_; }
  std::vector<NamespaceSummary> namespaces() const;

 private:
  struct NsState {
    std::string db;
    std::string collection;
    std::size_t entry = 0;
    Crc64 crc;
    std::uint64_t documents = 0;
    std::uint64_t bytes = 0;
    std::uint32_t segments = 0;
    bool ended = false;
  };
  enum class State : std::uint8_t { kStart, kBlock, kSegment, kEnd, kFailed };

  Status fail(Status s);
  // Makes at least `n` unread bytes available at pos_, keeping [mark_, end) in the buffer.
  // Returns false at end of stream (fewer than n bytes left); errors come from the source.
  Result<bool> ensure(std::size_t n);
  Status truncated(std::int64_t at, std::string_view what);
  // Reads one length-prefixed document at pos_ (or reports a terminator): checks its length and
  // final NUL and, when `validate_it`, its whole structure.
  Result<ByteSpan> read_document(std::string_view what, bool validate_it, bool* is_terminator);
  Status read_terminator(std::string_view after);
  Status parse_header(DocView doc, std::int64_t at);
  Status parse_entry(DocView doc, std::int64_t at);
  Result<Event> read_block();
  Result<Event> read_segment_batch();
  Result<Event> finish_stream();

  ByteSource source_;
  ReaderOptions opts_;
  State state_ = State::kStart;
  Status error_;
  Prelude prelude_;
  std::map<std::string, NsState, std::less<>> ns_;           // key: db + "." + collection (data namespace)
  std::map<std::string, std::size_t, std::less<>> allowed_;  // data namespace -> prelude entry
  NsState* current_ = nullptr;

  // Read buffer, grown without zero-filling (a fresh vector<uint8_t> would memset every byte).
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t cap_ = 0;
  std::size_t mark_ = 0;   // start of bytes that must stay in the buffer (the current batch)
  std::size_t pos_ = 0;    // next unread byte
  std::size_t end_ = 0;    // end of valid bytes
  std::int64_t base_ = 0;  // archive offset of buf_[0]
  bool source_done_ = false;
};

// Convenience for tests and small inputs: a ByteSource over a span held elsewhere, handing out
// at most `chunk` bytes per call (small chunks exercise the reader's refill paths).
ByteSource span_source(ByteSpan data, std::size_t chunk = SIZE_MAX);

}  // namespace bsonpipe::formats::archive
