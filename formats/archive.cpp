#include "formats/archive.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "formats/doc_sequence.hpp"
#include "formats/extjson.hpp"

namespace bsonpipe::formats::archive {
namespace {

Status archive_error(std::string message, std::int64_t offset) {
  return {ErrorCode::kInvalidArchive, std::move(message), offset};
}

std::string ns_key(std::string_view db, std::string_view collection) {
  std::string key;
  key.reserve(db.size() + 1 + collection.size());
  key.append(db).append(".").append(collection);
  return key;
}

void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void append(Bytes& out, ByteSpan b) {
  out.insert(out.end(), b.begin(), b.end());
}

Bytes namespace_header(std::string_view db, std::string_view collection, bool eof, std::uint64_t crc) {
  Builder b;
  b.append_string("db", db).append_string("collection", collection).append_bool("EOF", eof);
  b.append_int64("CRC", static_cast<std::int64_t>(crc));
  return b.finish();
}

bool known_type(std::string_view t) {
  return t.empty() || t == "collection" || t == "view" || t == "timeseries";
}

// Offset of an element of `doc` in the archive, given the document's own offset.
std::int64_t element_offset(DocView doc, const ElementView& e, std::int64_t doc_at) {
  return doc_at + (e.raw().data() - doc.data());
}

// A name for a one-line message: control bytes (a NUL would end the line as printed) as \xHH.
std::string printable_name(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The fields of a namespace header ({db, collection, EOF, CRC}), read from the document at `at`.
struct NamespaceHeader {
  std::string_view db;
  std::string_view collection;
  bool eof = false;
  std::uint64_t crc = 0;
};

Result<NamespaceHeader> parse_namespace_header(DocView doc, std::int64_t at, bool strict_fields) {
  NamespaceHeader h;
  int seen = 0;
  for (ElementView e : doc) {
    std::string_view k = e.key();
    if (k == "db" && e.type() == BsonType::kString) {
      h.db = e.as_string();
      seen |= 1;
    } else if (k == "collection" && e.type() == BsonType::kString) {
      h.collection = e.as_string();
      seen |= 2;
    } else if (k == "EOF" && e.type() == BsonType::kBool) {
      h.eof = e.as_bool();
      seen |= 4;
    } else if (k == "CRC" && e.type() == BsonType::kInt64) {
      h.crc = static_cast<std::uint64_t>(e.as_int64());
      seen |= 8;
    } else {
      // mongorestore rejects these too.
      return archive_error("unexpected field '" + std::string(k) + "' of type " + std::string(type_name(e.type())) +
                               " in a namespace header",
                           element_offset(doc, e, at));
    }
  }
  if ((seen & 2) == 0 || (strict_fields && seen != 15))
    return archive_error("namespace header lacks a required field", at);
  return h;
}

}  // namespace

Status validate_database_name(std::string_view db) {
  if (db.empty()) return {ErrorCode::kInvalidArgument, "empty database name", 0};
  if (db.size() > kMaxDatabaseNameBytes)
    return {ErrorCode::kInvalidArgument, "database name longer than 63 bytes: " + printable_name(db),
            static_cast<std::int64_t>(kMaxDatabaseNameBytes)};
  for (std::size_t i = 0; i < db.size(); ++i) {
    if (std::string_view("/\\. \"$").find(db[i]) != std::string_view::npos || db[i] == '\0') {
      return {ErrorCode::kInvalidArgument, "database name has a character a server refuses: " + printable_name(db),
              static_cast<std::int64_t>(i)};
    }
  }
  return Status::ok();
}

Status validate_namespace(std::string_view db, std::string_view collection) {
  if (db.empty() && collection == "oplog") return Status::ok();  // the oplog entry of a --oplog dump
  if (Status s = validate_database_name(db); !s.is_ok()) return s;
  auto refuse = [&](std::string why, std::size_t at) {
    return Status{ErrorCode::kInvalidArgument,
                  "collection name " + why + ": " + printable_name(db) + "." + printable_name(collection),
                  static_cast<std::int64_t>(at)};
  };
  if (collection.empty()) return refuse("is empty", 0);
  if (db.size() + 1 + collection.size() > kMaxNamespaceBytes)
    return refuse("makes a namespace longer than 255 bytes", kMaxNamespaceBytes - db.size() - 1);
  // The only '$' names of a dump: mongodump's per-database users/roles files and the old oplog.
  if (collection == "$admin.system.users" || collection == "$admin.system.roles" ||
      collection == "$admin.system.version" || (db == "local" && collection == "oplog.$main")) {
    return Status::ok();
  }
  if (collection[0] == '.') return refuse("starts with '.'", 0);
  for (std::size_t i = 0; i < collection.size(); ++i) {
    if (collection[i] == '$') return refuse("holds '$'", i);
    if (collection[i] == '\0') return refuse("holds a NUL byte", i);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Writer

Writer::Writer(ByteSink sink) : sink_(std::move(sink)) {}

Status Writer::fail(Status s) {
  if (error_.is_ok()) error_ = std::move(s);
  return error_;
}

Status Writer::emit(ByteSpan bytes) {
  if (bytes.empty()) return Status::ok();
  Status s = sink_(bytes);
  if (!s.is_ok()) return fail(std::move(s));
  bytes_written_ += bytes.size();
  return Status::ok();
}

Status Writer::write_prelude(const Prelude& prelude) {
  if (!error_.is_ok()) return error_;
  if (prelude_written_) return {ErrorCode::kInvalidArgument, "archive prelude written twice"};
  for (std::size_t i = 0; i < prelude.collections.size(); ++i) {
    const CollectionEntry& e = prelude.collections[i];
    if (Status s = validate_namespace(e.db, e.collection); !s.is_ok()) return {s.code(), s.message()};
    if (!known_type(e.type)) return {ErrorCode::kInvalidArgument, "unknown collection type '" + e.type + "'"};
    if (e.size < 0) return {ErrorCode::kInvalidArgument, "negative collection size for " + e.ns()};
    std::string key = ns_key(e.db, e.collection);
    if (ns_.contains(key)) return {ErrorCode::kInvalidArgument, "collection listed twice in the prelude: " + key};
    ns_[key].entry = i;
    if (e.type == "timeseries") {
      ns_[ns_key(e.db, std::string(kBucketsPrefix) + e.collection)].entry = i;
    }
  }
  entries_ = prelude.collections;
  entry_ended_.assign(entries_.size(), false);

  Bytes out;
  put_u32(out, kMagic);
  Builder h;
  h.append_int32("concurrent_collections", prelude.header.concurrent_collections)
      .append_string("version", prelude.header.version)
      .append_string("server_version", prelude.header.server_version)
      .append_string("tool_version", prelude.header.tool_version);
  append(out, h.finish());
  for (const CollectionEntry& e : prelude.collections) {
    Builder b;
    b.append_string("db", e.db).append_string("collection", e.collection).append_string("metadata", e.metadata);
    // mongodump's Go int marshals as int32 when it fits.
    if (e.size <= INT32_MAX) {
      b.append_int32("size", static_cast<std::int32_t>(e.size));
    } else {
      b.append_int64("size", e.size);
    }
    b.append_string("type", e.type);
    append(out, b.finish());
  }
  put_u32(out, kTerminator);
  prelude_written_ = true;
  return emit(out);
}

Result<Writer::NsState*> Writer::lookup(std::string_view db, std::string_view collection) {
  if (!error_.is_ok()) return error_;
  if (!prelude_written_) return Status{ErrorCode::kInvalidArgument, "archive prelude not written yet"};
  auto it = ns_.find(ns_key(db, collection));
  if (it == ns_.end()) {
    return Status{ErrorCode::kInvalidArgument, "namespace not in the archive prelude: " + ns_key(db, collection)};
  }
  if (it->second.ended) {
    return Status{ErrorCode::kInvalidArgument, "namespace already ended: " + ns_key(db, collection)};
  }
  return &it->second;
}

Status Writer::open_segment(const std::string& key, std::string_view db, std::string_view collection) {
  if (segment_open_ && current_ == key) return Status::ok();
  scratch_.clear();
  if (segment_open_) put_u32(scratch_, kTerminator);
  append(scratch_, namespace_header(db, collection, false, 0));
  current_ = key;
  segment_open_ = true;
  return emit(scratch_);
}

Status Writer::write_documents(std::string_view db, std::string_view collection, ByteSpan documents) {
  auto ns = lookup(db, collection);
  if (!ns) return ns.status();
  if (documents.empty()) return Status::ok();
  // Whole documents only, each within the size the readers accept.
  DocSequence seq(documents, {.max_size = kMaxDocumentSize});
  while (seq.next()) {
  }
  if (!seq.ok())
    return {ErrorCode::kInvalidArgument, "block for " + ns_key(db, collection) + " does not hold whole BSON documents",
            static_cast<std::int64_t>(seq.error().offset)};
  if (Status s = open_segment(ns_key(db, collection), db, collection); !s.is_ok()) return s;
  if (Status s = emit(documents); !s.is_ok()) return s;
  (*ns)->crc.update(documents);
  return Status::ok();
}

Status Writer::end_namespace(std::string_view db, std::string_view collection) {
  auto ns = lookup(db, collection);
  if (!ns) return ns.status();
  if (Status s = open_segment(ns_key(db, collection), db, collection); !s.is_ok()) return s;
  scratch_.clear();
  put_u32(scratch_, kTerminator);
  append(scratch_, namespace_header(db, collection, true, (*ns)->crc.value()));
  put_u32(scratch_, kTerminator);
  segment_open_ = false;
  current_.clear();
  (*ns)->ended = true;
  entry_ended_[(*ns)->entry] = true;
  return emit(scratch_);
}

Status Writer::finish() {
  if (!error_.is_ok()) return error_;
  if (!prelude_written_) return {ErrorCode::kInvalidArgument, "archive prelude not written"};
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!entry_ended_[i]) return {ErrorCode::kInvalidArgument, "namespace never ended: " + entries_[i].ns()};
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Reader

Reader::Reader(ByteSource source, ReaderOptions opts) : source_(std::move(source)), opts_(opts) {
  opts_.read_size = std::max<std::size_t>(opts_.read_size, 16);
  opts_.batch_bytes = std::max<std::size_t>(opts_.batch_bytes, 1);
}

Status Reader::fail(Status s) {
  state_ = State::kFailed;
  error_ = std::move(s);
  return error_;
}

Result<bool> Reader::ensure(std::size_t n) {
  while (end_ - pos_ < n) {
    if (source_done_) return false;
    if (cap_ - end_ < opts_.read_size || cap_ - pos_ < n) {
      if (mark_ > 0) {  // drop bytes nobody refers to any more
        std::memmove(buf_.get(), buf_.get() + mark_, end_ - mark_);
        base_ += static_cast<std::int64_t>(mark_);
        pos_ -= mark_;
        end_ -= mark_;
        mark_ = 0;
      }
      const std::size_t want = std::max(end_ + opts_.read_size, pos_ + n);
      if (cap_ < want) {
        const std::size_t grown = std::max(want, cap_ + cap_ / 2);
        auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(grown);
        if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
        buf_ = std::move(bigger);
        cap_ = grown;
      }
    }
    std::span<std::uint8_t> room(buf_.get() + end_, cap_ - end_);
    auto got = source_(room);
    if (!got) return got.status();
    if (*got > room.size()) return Status{ErrorCode::kInternal, "byte source overran its buffer"};
    if (*got == 0) {
      source_done_ = true;
      return false;
    }
    end_ += *got;
  }
  return true;
}

Status Reader::truncated(std::int64_t at, std::string_view what) {
  return archive_error("archive truncated: stream ends at offset " + std::to_string(base_ + end_) + " inside " +
                           std::string(what) + " starting",
                       at);
}

Result<ByteSpan> Reader::read_document(std::string_view what_in, bool validate_it, bool* is_terminator) {
  *is_terminator = false;
  // Messages name the namespace of the segment being read; built only on the error paths.
  auto what_str = [&] {
    std::string w(what_in);
    if (state_ == State::kSegment && current_ != nullptr) w += " of " + current_->db + "." + current_->collection;
    return w;
  };
  const std::int64_t at = offset();
  auto have = ensure(4);
  if (!have) return have.status();
  if (!*have) return truncated(at, what_str());
  const std::uint32_t len = load_u32(buf_.get() + pos_);
  if (len == kTerminator) {
    *is_terminator = true;
    pos_ += 4;
    return ByteSpan{};
  }
  if (len < 5 || len > opts_.max_document_size) {
    return archive_error(std::to_string(len) + " is neither a BSON length nor a terminator, reading " + what_str(), at);
  }
  have = ensure(len);
  if (!have) return have.status();
  if (!*have) return truncated(at, what_str());
  ByteSpan doc(buf_.get() + pos_, len);
  if (doc[len - 1] != 0) {
    return archive_error(what_str() + " (" + std::to_string(len) + " bytes) does not end with a NUL byte",
                         at + len - 1);
  }
  if (validate_it) {
    if (Status s = validate(doc, {}, at); !s.is_ok()) {
      return archive_error("invalid BSON in " + what_str() + ": " + s.message(), s.offset());
    }
  }
  pos_ += len;
  return doc;
}

Status Reader::read_terminator(std::string_view after) {
  const std::int64_t at = offset();
  auto have = ensure(4);
  if (!have) return have.status();
  if (!*have) return truncated(at, "the terminator after " + std::string(after));
  if (load_u32(buf_.get() + pos_) != kTerminator) {
    return archive_error("expected the terminator FF FF FF FF after " + std::string(after), at);
  }
  pos_ += 4;
  return Status::ok();
}

Status Reader::parse_header(DocView doc, std::int64_t at) {
  Header& h = prelude_.header;
  int seen = 0;
  for (ElementView e : doc) {
    const std::int64_t eat = element_offset(doc, e, at);
    std::string_view k = e.key();
    if (k == "concurrent_collections" && e.type() == BsonType::kInt32) {
      h.concurrent_collections = e.as_int32();
      seen |= 1;
    } else if (k == "version" && e.type() == BsonType::kString) {
      h.version = e.as_string();
      if (opts_.strict_fields && h.version != kFormatVersion) {
        return archive_error("unsupported archive format version '" + h.version + "'", eat);
      }
      seen |= 2;
    } else if (k == "server_version" && e.type() == BsonType::kString) {
      h.server_version = e.as_string();
      seen |= 4;
    } else if (k == "tool_version" && e.type() == BsonType::kString) {
      h.tool_version = e.as_string();
      seen |= 8;
    } else if (opts_.strict_fields) {
      return archive_error("unexpected field '" + std::string(k) + "' of type " + std::string(type_name(e.type())) +
                               " in the archive header",
                           eat);
    }
  }
  if (opts_.strict_fields && seen != 15) return archive_error("archive header lacks a required field", at);
  return Status::ok();
}

Status Reader::parse_entry(DocView doc, std::int64_t at) {
  CollectionEntry entry;
  entry.offset = at;
  int seen = 0;
  std::int64_t metadata_at = -1;
  for (ElementView e : doc) {
    const std::int64_t eat = element_offset(doc, e, at);
    std::string_view k = e.key();
    if (k == "db" && e.type() == BsonType::kString) {
      entry.db = e.as_string();
      seen |= 1;
    } else if (k == "collection" && e.type() == BsonType::kString) {
      entry.collection = e.as_string();
      seen |= 2;
    } else if (k == "metadata" && e.type() == BsonType::kString) {
      entry.metadata = e.as_string();
      metadata_at = at + (e.value().data() - doc.data()) + 4;
      seen |= 4;
    } else if (k == "size" && (e.type() == BsonType::kInt32 || e.type() == BsonType::kInt64)) {
      entry.size = e.type() == BsonType::kInt32 ? e.as_int32() : e.as_int64();
      if (entry.size < 0) return archive_error("negative collection size", eat);
      seen |= 8;
    } else if (k == "type" && e.type() == BsonType::kString) {
      entry.type = e.as_string();
      if (!known_type(entry.type)) return archive_error("unknown collection type '" + entry.type + "'", eat);
    } else if (opts_.strict_fields) {
      return archive_error("unexpected field '" + std::string(k) + "' of type " + std::string(type_name(e.type())) +
                               " in a collection-metadata document",
                           eat);
    }
  }
  if ((seen & 3) != 3 || (opts_.strict_fields && seen != 15)) {
    return archive_error("collection-metadata document lacks a required field", at);
  }
  if (Status s = validate_namespace(entry.db, entry.collection); !s.is_ok()) {
    return archive_error("unsafe namespace in the archive prelude: " + s.message(), at);
  }
  if (opts_.check_metadata_json && !entry.metadata.empty()) {
    auto parsed = extjson::parse(entry.metadata);
    if (!parsed) {
      Status s = parsed.status();
      return archive_error("invalid metadata JSON for " + entry.ns() + ": " + s.message(),
                           s.offset() >= 0 ? metadata_at + s.offset() : metadata_at);
    }
  }
  const std::size_t index = prelude_.collections.size();
  auto add = [&](std::string key) -> Status {
    if (!allowed_.emplace(std::move(key), index).second) {
      return archive_error("collection listed twice in the archive prelude: " + entry.ns(), at);
    }
    return Status::ok();
  };
  if (Status s = add(ns_key(entry.db, entry.collection)); !s.is_ok()) return s;
  if (entry.type == "timeseries") {
    if (Status s = add(ns_key(entry.db, std::string(kBucketsPrefix) + entry.collection)); !s.is_ok()) return s;
  }
  prelude_.collections.push_back(std::move(entry));
  return Status::ok();
}

Result<const Prelude*> Reader::read_prelude() {
  if (state_ == State::kFailed) return error_;
  if (state_ != State::kStart) return Status{ErrorCode::kInvalidArgument, "archive prelude already read"};
  auto have = ensure(4);
  if (!have) return fail(have.status());
  if (!*have) return fail(truncated(0, "the magic number"));
  const std::uint32_t magic = load_u32(buf_.get() + pos_);
  if (magic != kMagic) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", magic);
    return fail(
        archive_error(std::string("not a mongodump archive: magic number 0x") + hex + ", expected 0x8199e26d", 0));
  }
  pos_ += 4;
  bool term = false;
  std::int64_t at = offset();
  auto header = read_document("the archive header", true, &term);
  if (!header) return fail(header.status());
  if (term) return fail(archive_error("terminator where the archive header should be", at));
  if (Status s = parse_header(DocView(*header), at); !s.is_ok()) return fail(std::move(s));
  for (;;) {
    mark_ = pos_;
    at = offset();
    auto doc = read_document("a collection-metadata document", true, &term);
    if (!doc) return fail(doc.status());
    if (term) break;
    if (Status s = parse_entry(DocView(*doc), at); !s.is_ok()) return fail(std::move(s));
  }
  mark_ = pos_;
  state_ = State::kBlock;
  return &prelude_;
}

Result<Event> Reader::next() {
  for (;;) {
    switch (state_) {
      case State::kStart: return Status{ErrorCode::kInvalidArgument, "read_prelude() must come before next()"};
      case State::kFailed: return error_;
      case State::kEnd: {
        Event ev;
        ev.kind = EventKind::kEnd;
        ev.offset = offset();
        return ev;
      }
      case State::kBlock: {
        auto r = read_block();
        if (!r) return fail(r.status());
        if (r->kind != EventKind::kEnd || state_ == State::kEnd) return r;
        break;  // an empty segment: nothing to report, keep going
      }
      case State::kSegment: {
        auto r = read_segment_batch();
        if (!r) return fail(r.status());
        if (r->kind == EventKind::kDocuments) return r;
        break;
      }
    }
  }
}

Result<Event> Reader::finish_stream() {
  for (const auto& [key, ns] : ns_) {
    if (!ns.ended) return archive_error("archive ends before the EOF block of namespace " + key, offset());
  }
  std::vector<bool> complete(prelude_.collections.size(), false);
  for (const auto& [key, ns] : ns_) complete[ns.entry] = true;
  for (std::size_t i = 0; i < complete.size(); ++i) {
    if (!complete[i]) {
      return archive_error("archive ends before any data or EOF block of " + prelude_.collections[i].ns(), offset());
    }
  }
  state_ = State::kEnd;
  Event ev;
  ev.kind = EventKind::kEnd;
  ev.offset = offset();
  return ev;
}

// Returns kNamespaceEnd for an EOF block; for a segment header, switches to kSegment and returns
// kEnd as "nothing to report yet" (next() tells the two apart by state_).
Result<Event> Reader::read_block() {
  mark_ = pos_;
  auto have = ensure(1);
  if (!have) return have.status();
  if (!*have) return finish_stream();
  const std::int64_t at = offset();
  bool term = false;
  auto raw = read_document("a namespace header", true, &term);
  if (!raw) return raw.status();
  if (term) return archive_error("terminator where a namespace header was expected", at);
  auto header = parse_namespace_header(DocView(*raw), at, opts_.strict_fields);
  if (!header) return header.status();
  const auto [db, collection, eof, crc] = *header;
  std::string key = ns_key(db, collection);
  auto allowed = allowed_.find(key);
  if (allowed == allowed_.end()) return archive_error("namespace " + key + " is not in the archive prelude", at);
  auto [it, inserted] = ns_.try_emplace(key);
  NsState& ns = it->second;
  if (inserted) {
    ns.db = db;
    ns.collection = collection;
    ns.entry = allowed->second;
  }
  if (ns.ended) return archive_error("namespace " + key + " continues after its EOF block", at);
  // Only the timeseries entries have two possible data namespaces; they must not both be used.
  for (const auto& [other_key, other] : ns_) {
    if (&other != &ns && other.entry == ns.entry) {
      return archive_error("namespace " + key + " and " + other_key + " both carry data of one collection", at);
    }
  }
  Event ev;
  ev.db = ns.db;
  ev.collection = ns.collection;
  ev.entry = &prelude_.collections[ns.entry];
  ev.offset = at;
  if (eof) {
    if (Status s = read_terminator("the EOF block of " + key); !s.is_ok()) return s;
    if (crc != ns.crc.value()) {
      return archive_error("CRC mismatch for namespace " + key + ": EOF block says " + std::to_string(crc) +
                               ", its documents give " + std::to_string(ns.crc.value()),
                           at);
    }
    ns.ended = true;
    ev.kind = EventKind::kNamespaceEnd;
    ev.crc = crc;
    ev.total_documents = ns.documents;
    ev.total_bytes = ns.bytes;
    return ev;
  }
  if (opts_.strict_fields && crc != 0) {
    return archive_error("namespace header of " + key + " has a non-zero CRC but is not an EOF block", at);
  }
  ++ns.segments;
  current_ = &ns;
  state_ = State::kSegment;
  ev.kind = EventKind::kEnd;
  return ev;
}

Result<Event> Reader::read_segment_batch() {
  mark_ = pos_;
  const std::int64_t first = offset();
  std::size_t count = 0;
  bool term = false;
  for (;;) {
    auto doc = read_document("a document", opts_.validate_documents, &term);
    if (!doc) return doc.status();
    if (term) break;
    ++count;
    if (pos_ - mark_ >= opts_.batch_bytes) break;
  }
  const std::size_t batch_end = term ? pos_ - 4 : pos_;
  NsState& ns = *current_;
  if (term) {
    state_ = State::kBlock;
    current_ = nullptr;
  }
  Event ev;
  ev.kind = count > 0 ? EventKind::kDocuments : EventKind::kEnd;
  if (count == 0) return ev;
  ev.db = ns.db;
  ev.collection = ns.collection;
  ev.entry = &prelude_.collections[ns.entry];
  ev.documents = ByteSpan(buf_.get() + mark_, batch_end - mark_);
  ev.document_count = count;
  ev.offset = first;
  ns.crc.update(ev.documents);
  ns.documents += count;
  ns.bytes += ev.documents.size();
  return ev;
}

std::vector<NamespaceSummary> Reader::namespaces() const {
  std::vector<NamespaceSummary> out;
  for (const auto& [key, ns] : ns_) {
    out.push_back({ns.db, ns.collection, ns.documents, ns.bytes, ns.crc.value(), ns.segments, ns.ended});
  }
  return out;
}

ByteSource span_source(ByteSpan data, std::size_t chunk) {
  return [data, chunk, pos = std::size_t{0}](std::span<std::uint8_t> out) mutable -> Result<std::size_t> {
    std::size_t n = std::min({out.size(), chunk, data.size() - pos});
    if (n > 0) std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  };
}

}  // namespace bsonpipe::formats::archive
