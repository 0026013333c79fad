// Typed helpers over Connection::run_command for the commands bsonpipe uses: find/getMore with a
// Cursor that yields raw batches, insert with a document sequence, catalog and index commands.
// Documents are never decoded or re-encoded: batches are spans into the reply buffer, inserts send
// the caller's bytes.
//
// Threading: like Connection, every helper and Cursor is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/connection.hpp"

namespace bsonpipe::io {

// Generic: runs `command` (without $db) against `db`; ok:0 is an Error.
Expected<Reply> run_command(Connection& conn, std::string_view db, DocView command);

// ---- cursors --------------------------------------------------------------------------------

// A server cursor and its current batch. The batch's documents are spans into the last reply
// (valid until the next next_batch()). A cursor not exhausted is killed on destruction
// (killCursors, best effort). The Connection must outlive the Cursor (and so must its lease).
class Cursor {
 public:
  Cursor(Connection& conn, std::string db, std::string collection, std::int64_t id, Reply reply,
         std::int32_t batch_size);
  Cursor(Cursor&& o) noexcept;
  Cursor& operator=(Cursor&&) = delete;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // The current batch's documents, in order.
  const std::vector<ByteSpan>& batch() const { return docs_; }
  // Bytes of the current batch's documents (sum of batch()[i].size()).
  std::size_t batch_bytes() const { return batch_bytes_; }
  // Appends the current batch to `out` as concatenated documents (the .bson file format).
  void append_batch_to(Bytes& out) const;
  // Moves the current reply's buffer out: batch() still points into it (the caller keeps it
  // alive as long as it uses those views), and the next batch is received into another buffer.
  Bytes take_reply_bytes() { return std::move(reply_.message.bytes); }
  // Fetches the next batch with getMore. Returns false (and an empty batch) once the server said
  // the cursor is exhausted.
  Expected<bool> next_batch();
  // Sends the getMore for the next batch now, without waiting for it, so the server prepares it
  // while the caller processes the current one; next_batch() then only receives it. No-op once
  // exhausted or when already requested. The current batch stays valid until next_batch().
  Error prefetch();
  bool exhausted() const { return id_ == 0; }
  // A tailable awaitData cursor's getMore waits up to `t` for new documents (its maxTimeMS).
  void set_max_await(std::chrono::milliseconds t) { max_await_ = t; }
  std::int64_t id() const { return id_; }
  const std::string& ns() const { return ns_; }
  // Kills the cursor now (no-op if exhausted).
  Error kill();

  // Parses a cursor reply ({cursor: {id, ns, firstBatch|nextBatch}}) into (id, ns, docs).
  static Status parse(DocView body, std::int64_t& id, std::string& ns, std::vector<ByteSpan>& docs);

 private:
  Status load(Reply reply);
  void settle_pending();

  Connection* conn_;
  std::string db_;
  std::string collection_;
  std::string ns_;
  std::int64_t id_ = 0;
  std::int32_t batch_size_ = 0;
  std::chrono::milliseconds max_await_{0};  // 0 = no maxTimeMS on getMore
  Reply reply_;
  std::int32_t pending_ = 0;  // request id of a prefetched getMore, 0 = none
  std::vector<ByteSpan> docs_;
  std::size_t batch_bytes_ = 0;
};

struct ReadOptions {
  std::string read_concern_level;                     // "local", "majority", ... empty = server default
  std::optional<ReadPreferenceMode> read_preference;  // sent as $readPreference when not primary
  std::chrono::milliseconds timeout{0};               // per round trip (0 = connection's socket timeout)
};

struct FindOptions : ReadOptions {
  DocView filter;  // empty view (size 0) = absent
  DocView sort;
  DocView hint;           // document form (index key pattern)
  std::string hint_name;  // or an index name
  DocView projection;
  DocView min;
  DocView max;
  std::int32_t batch_size = 0;  // 0 = server default
  std::int64_t limit = 0;
  std::int64_t skip = 0;
  bool no_cursor_timeout = false;
  bool tailable = false;                   // a capped collection's cursor that stays open at its end
  bool await_data = false;                 // (tailable) getMore waits for new documents...
  std::chrono::milliseconds max_await{0};  // ...up to this long (maxTimeMS); 0 = server default
};
Expected<Cursor> find(Connection& conn, std::string_view db, std::string_view collection, const FindOptions& opts = {});

struct AggregateOptions : ReadOptions {
  std::int32_t batch_size = 0;
  bool allow_disk_use = false;
  DocView hint;
};
// `pipeline` is a BSON array of stages.
Expected<Cursor> aggregate(Connection& conn, std::string_view db, std::string_view collection, DocView pipeline,
                           const AggregateOptions& opts = {});

// The raw getMore / killCursors commands (Cursor uses them).
Expected<Reply> get_more(Connection& conn, std::string_view db, std::string_view collection, std::int64_t cursor_id,
                         std::int32_t batch_size = 0, std::chrono::milliseconds timeout = {},
                         std::chrono::milliseconds max_await = {});
Error kill_cursors(Connection& conn, std::string_view db, std::string_view collection,
                   const std::vector<std::int64_t>& ids);

// ---- writes ---------------------------------------------------------------------------------

struct WriteResult {
  std::int64_t n = 0;
  std::vector<WriteError> write_errors;
  std::optional<WriteConcernError> write_concern_error;
  bool ok() const { return write_errors.empty() && !write_concern_error; }
};
// Reads n / writeErrors / writeConcernError from a write command's reply.
WriteResult parse_write_result(DocView body);

struct InsertOptions {
  bool ordered = true;
  DocView write_concern;  // e.g. {w: "majority"}; empty = server default
  bool bypass_document_validation = false;
  std::chrono::milliseconds timeout{0};
};
// Inserts concatenated documents (straight from a .bson buffer) as one OP_MSG document sequence.
// The batch must respect maxWriteBatchSize and maxMessageSizeBytes: see next_insert_batch().
Expected<WriteResult> insert(Connection& conn, std::string_view db, std::string_view collection, ByteSpan documents,
                             const InsertOptions& opts = {});

// The longest prefix of `documents` that fits one insert (≤ max_docs documents, ≤ max_bytes of
// payload). `count` receives its number of documents. At least one document is returned if any
// (a single document larger than max_bytes is the server's to reject). Fails on bad lengths.
Result<ByteSpan> next_insert_batch(ByteSpan documents, std::size_t max_docs, std::size_t max_bytes,
                                   std::size_t* count = nullptr);
// Limits for a server: maxWriteBatchSize documents, maxMessageSizeBytes minus room for the body.
std::size_t insert_payload_limit(const ServerInfo& s);

// ---- catalog --------------------------------------------------------------------------------

Error create_collection(Connection& conn, std::string_view db, std::string_view collection, DocView options = {});
// NamespaceNotFound counts as success when `ignore_missing`.
Error drop_collection(Connection& conn, std::string_view db, std::string_view collection, bool ignore_missing = true);
// The server's NamespaceNotFound (26, or an older server's "ns not found").
bool is_namespace_not_found(const Error& e);
Error drop_database(Connection& conn, std::string_view db);
Error rename_collection(Connection& conn, std::string_view from_ns, std::string_view to_ns, bool drop_target = false);

struct DatabaseInfo {
  std::string name;
  std::int64_t size_on_disk = 0;
  bool empty = false;
};
Expected<std::vector<DatabaseInfo>> list_databases(Connection& conn, bool name_only = false);

struct CollectionInfo {
  std::string name;
  std::string type;  // "collection", "view", "timeseries"
  Bytes options;     // the options document (owned copy)
  Bytes uuid;        // info.uuid (16 bytes), empty when absent
  bool read_only = false;
  Bytes raw;  // the whole listCollections entry
};
// `filter` is sent to the server and applied again here to its answer (some MongoDB-compatible
// servers ignore it and list everything): see matches_filter.
Expected<std::vector<CollectionInfo>> list_collections(Connection& conn, std::string_view db, DocView filter = {});

// Whether `doc` meets the plain equality conditions of `filter` ({name: "x", type: "view"}: each
// top-level field equal, compared as the server compares values). Conditions this cannot evaluate
// (operators, dotted paths) count as met: the server is trusted with those only. For re-checking
// the answer to a filter a server may have ignored.
bool matches_filter(DocView doc, DocView filter);

// Index specs as owned BSON documents; an absent collection yields an empty list.
Expected<std::vector<Bytes>> list_indexes(Connection& conn, std::string_view db, std::string_view collection);
// `indexes` are index specification documents ({key, name, ...}).
Error create_indexes(Connection& conn, std::string_view db, std::string_view collection,
                     const std::vector<DocView>& indexes, std::chrono::milliseconds timeout = {});
// `index` is an index name, or "*" for all but _id.
Error drop_indexes(Connection& conn, std::string_view db, std::string_view collection, std::string_view index);

Expected<std::int64_t> count(Connection& conn, std::string_view db, std::string_view collection, DocView filter = {});

struct CollStats {
  std::int64_t count = 0;
  std::int64_t size = 0;
  std::int64_t avg_obj_size = 0;
  std::int64_t storage_size = 0;
  std::int64_t nindexes = 0;
};
Expected<CollStats> coll_stats(Connection& conn, std::string_view db, std::string_view collection);

struct BuildInfo {
  std::string version;
  std::vector<std::int32_t> version_array;
  std::string git_version;
};
Expected<BuildInfo> build_info(Connection& conn);

// ---- server selection -------------------------------------------------------------------------

// Connects to the URI's hosts and returns a connection to a server matching `mode` (primary for
// writes; for reads secondary/secondaryPreferred/primaryPreferred/nearest by hello answers and
// round-trip time). A single host without replicaSet, or directConnection=true, is used as is.
// The replica set name must match replicaSet when given. Hosts named as `primary` by a member but
// absent from the URI are tried too.
Expected<std::unique_ptr<Connection>> connect_selected(const Uri& uri, ReadPreferenceMode mode);

}  // namespace bsonpipe::io
