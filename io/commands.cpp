#include "io/commands.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "formats/doc_sequence.hpp"

namespace bsonpipe::io {

using formats::BsonType;
using formats::Builder;
using formats::ElementView;
using std::chrono::milliseconds;

namespace {

constexpr std::int32_t kNamespaceNotFound = 26;

bool present(DocView d) {
  return d.size() >= 5;
}

std::int64_t int_of(const ElementView& e, std::int64_t fallback = 0) {
  if (!e.valid()) return fallback;
  switch (e.type()) {
    case BsonType::kInt32: return e.as_int32();
    case BsonType::kInt64: return e.as_int64();
    case BsonType::kDouble: return static_cast<std::int64_t>(e.as_double());
    default: return fallback;
  }
}

std::string string_of(const ElementView& e) {
  if (!e.valid() || e.type() != BsonType::kString) return {};
  return std::string(e.as_string());
}

Bytes copy_of(ByteSpan b) {
  return Bytes(b.begin(), b.end());
}

void add_read_options(Builder& b, const ReadOptions& o) {
  if (!o.read_concern_level.empty()) {
    b.open_document("readConcern");
    b.append_string("level", o.read_concern_level);
    b.close();
  }
  if (o.read_preference && *o.read_preference != ReadPreferenceMode::kPrimary) {
    b.open_document("$readPreference");
    b.append_string("mode", read_preference_name(*o.read_preference));
    b.close();
  }
}

Expected<Reply> run(Connection& conn, std::string_view db, const Bytes& cmd, milliseconds timeout = {}) {
  return conn.run_command(CommandRequest{.db = db, .command = DocView(cmd), .timeout = timeout});
}

Error ignore_ns_missing(Error e, bool ignore) {
  if (ignore && is_namespace_not_found(e)) return {};
  return e;
}

std::string_view coll_of(std::string_view ns) {
  auto dot = ns.find('.');
  return dot == std::string_view::npos ? ns : ns.substr(dot + 1);
}

Bytes get_more_command(std::string_view collection, std::int64_t cursor_id, std::int32_t batch_size,
                       milliseconds max_await) {
  Builder b;
  b.append_int64("getMore", cursor_id);
  b.append_string("collection", collection);
  if (batch_size > 0) b.append_int32("batchSize", batch_size);
  if (max_await.count() > 0) b.append_int64("maxTimeMS", max_await.count());
  return b.finish();
}

// Runs a cursor-returning command and drains it into owned copies of each document.
Expected<std::vector<Bytes>> drain(Connection& conn, std::string_view db, const Bytes& cmd) {
  auto r = run(conn, db, cmd);
  if (!r) return r.error();
  std::int64_t id = 0;
  std::string ns;
  std::vector<ByteSpan> docs;
  if (Status s = Cursor::parse(r->body(), id, ns, docs); !s) return s;
  Cursor cur(conn, std::string(db), std::string(coll_of(ns)), id, std::move(*r), 0);
  std::vector<Bytes> out;
  for (;;) {
    for (ByteSpan d : cur.batch()) out.push_back(copy_of(d));
    if (cur.exhausted()) break;
    auto more = cur.next_batch();
    if (!more) return more.error();
  }
  return out;
}

}  // namespace

bool is_namespace_not_found(const Error& e) {
  return !e.is_ok() && e.kind() == ErrorCode::kServer &&
         (e.code() == kNamespaceNotFound || e.message().find("ns not found") != std::string::npos);
}

Expected<Reply> run_command(Connection& conn, std::string_view db, DocView command) {
  return conn.run_command(db, command);
}

// ---- Cursor ---------------------------------------------------------------------------------

Status Cursor::parse(DocView body, std::int64_t& id, std::string& ns, std::vector<ByteSpan>& docs) {
  auto c = body.find("cursor");
  if (!c.valid() || c.type() != BsonType::kDocument) return Status(ErrorCode::kServer, "reply has no cursor document");
  DocView cur = c.as_document();
  auto idv = cur.find("id");
  if (!idv.valid() || (idv.type() != BsonType::kInt64 && idv.type() != BsonType::kInt32))
    return Status(ErrorCode::kServer, "cursor reply has no id");
  id = int_of(idv);
  ns = string_of(cur.find("ns"));
  auto batch = cur.find("firstBatch");
  if (!batch.valid()) batch = cur.find("nextBatch");
  if (!batch.valid() || batch.type() != BsonType::kArray)
    return Status(ErrorCode::kServer, "cursor reply has no firstBatch/nextBatch array");
  docs.clear();
  for (auto e : batch.as_document()) {
    if (e.type() != BsonType::kDocument) return Status(ErrorCode::kServer, "cursor batch holds a non-document");
    docs.push_back(e.value());
  }
  return {};
}

Cursor::Cursor(Connection& conn, std::string db, std::string collection, std::int64_t id, Reply reply,
               std::int32_t batch_size)
    : conn_(&conn), db_(std::move(db)), collection_(std::move(collection)), batch_size_(batch_size) {
  Status s = load(std::move(reply));
  if (!s) id_ = id;  // keep the server's id so the destructor still kills it
  ns_ = db_ + "." + collection_;
}

Cursor::Cursor(Cursor&& o) noexcept
    : conn_(o.conn_),
      db_(std::move(o.db_)),
      collection_(std::move(o.collection_)),
      ns_(std::move(o.ns_)),
      id_(o.id_),
      batch_size_(o.batch_size_),
      max_await_(o.max_await_),
      reply_(std::move(o.reply_)),
      pending_(std::exchange(o.pending_, 0)),
      docs_(std::move(o.docs_)),
      batch_bytes_(o.batch_bytes_) {
  o.id_ = 0;
  o.conn_ = nullptr;
}

void Cursor::settle_pending() {
  // A prefetched reply must be read off the connection before it can carry another command.
  if (pending_ == 0 || conn_ == nullptr || conn_->broken()) return;
  auto r = conn_->receive_reply(std::exchange(pending_, 0));
  if (r) {
    std::int64_t id = 0;
    std::string ns;
    std::vector<ByteSpan> docs;
    if (parse(r->body(), id, ns, docs)) id_ = id;
  } else if (r.error().kind() == ErrorCode::kServer) {
    id_ = 0;  // the server dropped the cursor
  }
}

Cursor::~Cursor() {
  settle_pending();
  if (id_ != 0 && conn_ != nullptr && !conn_->broken()) {
    (void)kill();  // best effort: the server reaps it after its idle timeout anyway
  }
}

Status Cursor::load(Reply reply) {
  if (conn_ != nullptr) conn_->recycle(std::move(reply_.message.bytes));
  reply_ = std::move(reply);
  std::string ns;
  Status s = parse(reply_.body(), id_, ns, docs_);
  batch_bytes_ = 0;
  for (ByteSpan d : docs_) batch_bytes_ += d.size();
  return s;
}

void Cursor::append_batch_to(Bytes& out) const {
  out.reserve(out.size() + batch_bytes_);
  for (ByteSpan d : docs_) out.insert(out.end(), d.begin(), d.end());
}

Expected<bool> Cursor::next_batch() {
  if (id_ == 0) {
    docs_.clear();
    batch_bytes_ = 0;
    return false;
  }
  auto r = pending_ != 0 ? conn_->receive_reply(std::exchange(pending_, 0))
                         : get_more(*conn_, db_, collection_, id_, batch_size_, {}, max_await_);
  if (!r) {
    Error e = r.error();
    // The server forgets cursors on errors like CursorNotFound; do not try to kill it again.
    if (e.kind() == ErrorCode::kServer || e.is_network()) id_ = 0;
    return e;
  }
  std::int64_t old = id_;
  if (Status s = load(std::move(*r)); !s) {
    id_ = old;
    return s;
  }
  return true;
}

Error Cursor::prefetch() {
  if (id_ == 0 || pending_ != 0 || conn_ == nullptr) return {};
  Bytes cmd = get_more_command(collection_, id_, batch_size_, max_await_);
  auto id = conn_->send_command(CommandRequest{.db = db_, .command = DocView(cmd)});
  if (!id) {
    id_ = 0;  // the connection is broken; nothing left to kill
    return id.error();
  }
  pending_ = *id;
  return {};
}

Error Cursor::kill() {
  settle_pending();
  if (id_ == 0 || conn_ == nullptr) return {};
  std::int64_t id = id_;
  id_ = 0;
  return kill_cursors(*conn_, db_, collection_, {id});
}

namespace {
// Runs a command that opens a cursor (find, aggregate) and wraps its checked reply.
Expected<Cursor> open_cursor(Connection& conn, std::string_view db, std::string_view collection, const Bytes& cmd,
                             std::chrono::milliseconds timeout, std::int32_t batch_size) {
  auto r = run(conn, db, cmd, timeout);
  if (!r) return r.error();
  std::int64_t id = 0;
  std::string ns;
  std::vector<ByteSpan> docs;
  if (Status s = Cursor::parse(r->body(), id, ns, docs); !s) return s;
  return Cursor(conn, std::string(db), std::string(collection), id, std::move(*r), batch_size);
}
}  // namespace

Expected<Cursor> find(Connection& conn, std::string_view db, std::string_view collection, const FindOptions& o) {
  Builder b;
  b.append_string("find", collection);
  if (present(o.filter)) b.append_document("filter", o.filter);
  if (present(o.sort)) b.append_document("sort", o.sort);
  if (present(o.projection)) b.append_document("projection", o.projection);
  if (present(o.hint))
    b.append_document("hint", o.hint);
  else if (!o.hint_name.empty())
    b.append_string("hint", o.hint_name);
  if (o.skip > 0) b.append_int64("skip", o.skip);
  if (o.limit > 0) b.append_int64("limit", o.limit);
  if (o.batch_size > 0) b.append_int32("batchSize", o.batch_size);
  if (present(o.min)) b.append_document("min", o.min);
  if (present(o.max)) b.append_document("max", o.max);
  if (o.no_cursor_timeout) b.append_bool("noCursorTimeout", true);
  if (o.tailable) b.append_bool("tailable", true);
  if (o.await_data) b.append_bool("awaitData", true);
  add_read_options(b, o);
  auto cur = open_cursor(conn, db, collection, b.finish(), o.timeout, o.batch_size);
  if (cur) cur->set_max_await(o.max_await);
  return cur;
}

Expected<Cursor> aggregate(Connection& conn, std::string_view db, std::string_view collection, DocView pipeline,
                           const AggregateOptions& o) {
  Builder b;
  b.append_string("aggregate", collection);
  b.append_array("pipeline", pipeline);
  b.open_document("cursor");
  if (o.batch_size > 0) b.append_int32("batchSize", o.batch_size);
  b.close();
  if (o.allow_disk_use) b.append_bool("allowDiskUse", true);
  if (present(o.hint)) b.append_document("hint", o.hint);
  add_read_options(b, o);
  return open_cursor(conn, db, collection, b.finish(), o.timeout, o.batch_size);
}

Expected<Reply> get_more(Connection& conn, std::string_view db, std::string_view collection, std::int64_t cursor_id,
                         std::int32_t batch_size, milliseconds timeout, milliseconds max_await) {
  return run(conn, db, get_more_command(collection, cursor_id, batch_size, max_await), timeout);
}

Error kill_cursors(Connection& conn, std::string_view db, std::string_view collection,
                   const std::vector<std::int64_t>& ids) {
  Builder b;
  b.append_string("killCursors", collection);
  b.open_array("cursors");
  for (auto id : ids) b.append_int64(b.next_array_key(), id);
  b.close();
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  return r ? Error{} : r.error();
}

// ---- writes ---------------------------------------------------------------------------------

WriteResult parse_write_result(DocView body) {
  WriteResult w;
  w.n = int_of(body.find("n"));
  if (auto we = body.find("writeErrors"); we.valid() && we.type() == BsonType::kArray) {
    for (auto e : we.as_document()) {
      if (e.type() != BsonType::kDocument) continue;
      DocView d = e.as_document();
      w.write_errors.push_back({static_cast<std::int32_t>(int_of(d.find("index"))),
                                static_cast<std::int32_t>(int_of(d.find("code"))), string_of(d.find("errmsg"))});
    }
  }
  if (auto wce = body.find("writeConcernError"); wce.valid() && wce.type() == BsonType::kDocument) {
    DocView d = wce.as_document();
    w.write_concern_error = WriteConcernError{static_cast<std::int32_t>(int_of(d.find("code"))),
                                              string_of(d.find("codeName")), string_of(d.find("errmsg"))};
  }
  return w;
}

Expected<WriteResult> insert(Connection& conn, std::string_view db, std::string_view collection, ByteSpan documents,
                             const InsertOptions& o) {
  Builder b;
  b.append_string("insert", collection);
  b.append_bool("ordered", o.ordered);
  if (present(o.write_concern)) b.append_document("writeConcern", o.write_concern);
  if (o.bypass_document_validation) b.append_bool("bypassDocumentValidation", true);
  Bytes cmd = b.finish();
  CommandRequest req{.db = db, .command = DocView(cmd), .sequences = {{"documents", documents}}, .timeout = o.timeout};
  auto r = conn.run_command(req);
  if (!r) return r.error();
  return parse_write_result(r->body());
}

Result<ByteSpan> next_insert_batch(ByteSpan documents, std::size_t max_docs, std::size_t max_bytes,
                                   std::size_t* count) {
  const std::size_t max_n = std::max<std::size_t>(max_docs, 1);
  std::size_t pos = 0, n = 0;
  formats::DocSequence seq(documents);
  for (DocView d : seq) {
    if (n > 0 && pos + d.size() > max_bytes) break;
    pos += d.size();
    if (++n == max_n) break;
  }
  const auto& e = seq.error();
  const auto at = static_cast<std::int64_t>(e.offset);
  switch (e.fault) {
    case formats::SequenceFault::kNone: break;
    case formats::SequenceFault::kTruncated:
      return Status(ErrorCode::kInvalidBson, "truncated document in insert batch", at);
    case formats::SequenceFault::kBadLength:
      return Status(ErrorCode::kInvalidBson, "bad document length " + std::to_string(e.length) + " in insert batch",
                    at);
    case formats::SequenceFault::kNoTerminator:
      return Status(ErrorCode::kInvalidBson, "document not terminated by 0x00 in insert batch", at + e.length - 1);
  }
  if (count != nullptr) *count = n;
  return documents.first(pos);
}

std::size_t insert_payload_limit(const ServerInfo& s) {
  // Room for the header, flags, the body ({insert, ordered, writeConcern, $db...}) and the
  // sequence's prefix.
  constexpr std::size_t kOverhead = 16 * 1024;
  return s.max_message_size_bytes > kOverhead ? s.max_message_size_bytes - kOverhead : s.max_message_size_bytes;
}

// ---- catalog --------------------------------------------------------------------------------

Error create_collection(Connection& conn, std::string_view db, std::string_view collection, DocView options) {
  Builder b;
  b.append_string("create", collection);
  if (present(options))
    for (auto e : options)
      if (e.key() != "create") b.append_raw_element(e.raw());
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  return r ? Error{} : r.error();
}

Error drop_collection(Connection& conn, std::string_view db, std::string_view collection, bool ignore_missing) {
  Builder b;
  b.append_string("drop", collection);
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  return ignore_ns_missing(r ? Error{} : r.error(), ignore_missing);
}

Error drop_database(Connection& conn, std::string_view db) {
  Builder b;
  b.append_int32("dropDatabase", 1);
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  return r ? Error{} : r.error();
}

Error rename_collection(Connection& conn, std::string_view from_ns, std::string_view to_ns, bool drop_target) {
  Builder b;
  b.append_string("renameCollection", from_ns);
  b.append_string("to", to_ns);
  if (drop_target) b.append_bool("dropTarget", true);
  Bytes cmd = b.finish();
  auto r = run(conn, "admin", cmd);
  return r ? Error{} : r.error();
}

Expected<std::vector<DatabaseInfo>> list_databases(Connection& conn, bool name_only) {
  Builder b;
  b.append_int32("listDatabases", 1);
  if (name_only) b.append_bool("nameOnly", true);
  Bytes cmd = b.finish();
  auto r = run(conn, "admin", cmd);
  if (!r) return r.error();
  std::vector<DatabaseInfo> out;
  auto dbs = r->body().find("databases");
  if (!dbs.valid() || dbs.type() != BsonType::kArray)
    return Status(ErrorCode::kServer, "listDatabases reply has no databases array");
  for (auto e : dbs.as_document()) {
    if (e.type() != BsonType::kDocument) continue;
    DocView d = e.as_document();
    DatabaseInfo info;
    info.name = string_of(d.find("name"));
    info.size_on_disk = int_of(d.find("sizeOnDisk"));
    auto empty = d.find("empty");
    info.empty = empty.valid() && empty.type() == BsonType::kBool && empty.as_bool();
    out.push_back(std::move(info));
  }
  return out;
}

bool matches_filter(DocView doc, DocView filter) {
  if (!present(filter)) return true;
  for (auto cond : filter) {
    std::string_view key = cond.key();
    if (key.empty() || key.front() == '$' || key.find('.') != std::string_view::npos) continue;
    if (cond.type() == BsonType::kDocument) {
      DocView d = cond.as_document();
      if (!d.empty() && (*d.begin()).key().starts_with("$")) continue;  // an operator expression
    }
    if (cond.type() == BsonType::kRegex) continue;
    auto got = doc.find(key);
    if (!got.valid() || formats::compare_values(got, cond) != 0) return false;
  }
  return true;
}

Expected<std::vector<CollectionInfo>> list_collections(Connection& conn, std::string_view db, DocView filter) {
  Builder b;
  b.append_int32("listCollections", 1);
  if (present(filter)) b.append_document("filter", filter);
  b.open_document("cursor");
  b.close();
  Bytes cmd = b.finish();
  auto docs = drain(conn, db, cmd);
  if (!docs) return docs.error();
  std::vector<CollectionInfo> out;
  for (Bytes& raw : *docs) {
    DocView d(raw);
    if (!matches_filter(d, filter)) continue;
    CollectionInfo c;
    c.name = string_of(d.find("name"));
    c.type = string_of(d.find("type"));
    if (c.type.empty()) c.type = "collection";
    if (auto o = d.find("options"); o.valid() && o.type() == BsonType::kDocument) c.options = copy_of(o.value());
    if (auto info = d.find("info"); info.valid() && info.type() == BsonType::kDocument) {
      DocView iv = info.as_document();
      if (auto u = iv.find("uuid"); u.valid() && u.type() == BsonType::kBinary) c.uuid = copy_of(u.as_binary().data);
      if (auto ro = iv.find("readOnly"); ro.valid() && ro.type() == BsonType::kBool) c.read_only = ro.as_bool();
    }
    if (c.options.empty()) {
      Builder empty;
      c.options = empty.finish();
    }
    c.raw = std::move(raw);
    out.push_back(std::move(c));
  }
  return out;
}

Expected<std::vector<Bytes>> list_indexes(Connection& conn, std::string_view db, std::string_view collection) {
  Builder b;
  b.append_string("listIndexes", collection);
  b.open_document("cursor");
  b.close();
  Bytes cmd = b.finish();
  auto docs = drain(conn, db, cmd);
  if (!docs) {
    if (ignore_ns_missing(docs.error(), true).is_ok()) return std::vector<Bytes>{};
    return docs.error();
  }
  return std::move(*docs);
}

Error create_indexes(Connection& conn, std::string_view db, std::string_view collection,
                     const std::vector<DocView>& indexes, milliseconds timeout) {
  Builder b;
  b.append_string("createIndexes", collection);
  b.open_array("indexes");
  for (DocView ix : indexes) b.append_document(b.next_array_key(), ix);
  b.close();
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd, timeout);
  return r ? Error{} : r.error();
}

Error drop_indexes(Connection& conn, std::string_view db, std::string_view collection, std::string_view index) {
  Builder b;
  b.append_string("dropIndexes", collection);
  b.append_string("index", index);
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  return r ? Error{} : r.error();
}

Expected<std::int64_t> count(Connection& conn, std::string_view db, std::string_view collection, DocView filter) {
  Builder b;
  b.append_string("count", collection);
  if (present(filter)) b.append_document("query", filter);
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  if (!r) return r.error();
  return int_of(r->body().find("n"));
}

Expected<CollStats> coll_stats(Connection& conn, std::string_view db, std::string_view collection) {
  Builder b;
  b.append_string("collStats", collection);
  Bytes cmd = b.finish();
  auto r = run(conn, db, cmd);
  if (!r) return r.error();
  DocView d = r->body();
  CollStats s;
  s.count = int_of(d.find("count"));
  s.size = int_of(d.find("size"));
  s.avg_obj_size = int_of(d.find("avgObjSize"));
  s.storage_size = int_of(d.find("storageSize"));
  s.nindexes = int_of(d.find("nindexes"));
  return s;
}

Expected<BuildInfo> build_info(Connection& conn) {
  Builder b;
  b.append_int32("buildInfo", 1);
  Bytes cmd = b.finish();
  auto r = run(conn, "admin", cmd);
  if (!r) return r.error();
  DocView d = r->body();
  BuildInfo bi;
  bi.version = string_of(d.find("version"));
  bi.git_version = string_of(d.find("gitVersion"));
  if (auto va = d.find("versionArray"); va.valid() && va.type() == BsonType::kArray)
    for (auto e : va.as_document()) bi.version_array.push_back(static_cast<std::int32_t>(int_of(e)));
  return bi;
}

// ---- server selection -------------------------------------------------------------------------

Expected<std::unique_ptr<Connection>> connect_selected(const Uri& uri, ReadPreferenceMode mode) {
  if (uri.hosts.empty()) return Status(ErrorCode::kInvalidArgument, "URI has no host");
  const bool direct = uri.direct_connection.value_or(uri.hosts.size() == 1 && uri.replica_set.empty());
  if (direct) {
    auto c = Connection::open(ConnectOptions::from_uri(uri, uri.hosts.front()));
    if (!c) return c.error();
    if (!uri.replica_set.empty() && (*c)->server().set_name != uri.replica_set)
      return Status(ErrorCode::kInvalidArgument,
                    uri.hosts.front().to_string() + " is not a member of replica set " + uri.replica_set);
    return c;
  }
  std::vector<HostPort> todo = uri.hosts;
  std::vector<std::unique_ptr<Connection>> open;
  std::string failures;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    auto c = Connection::open(ConnectOptions::from_uri(uri, todo[i]));
    if (!c) {
      failures += (failures.empty() ? "" : "; ") + todo[i].to_string() + ": " + c.error().to_string();
      continue;
    }
    const ServerInfo& s = (*c)->server();
    if (!uri.replica_set.empty() && s.set_name != uri.replica_set) {
      failures += (failures.empty() ? "" : "; ") + todo[i].to_string() + ": not in replica set " + uri.replica_set;
      continue;
    }
    // A member may name a primary the URI did not list.
    if (!s.primary.empty()) {
      auto colon = s.primary.rfind(':');
      HostPort hp{s.primary.substr(0, colon), 27017};
      if (colon != std::string::npos) hp.port = static_cast<std::uint16_t>(std::atoi(s.primary.c_str() + colon + 1));
      for (char& ch : hp.host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (std::find(todo.begin(), todo.end(), hp) == todo.end() && todo.size() < 64) todo.push_back(hp);
    }
    open.push_back(std::move(*c));
  }
  auto pick = [&](auto pred) -> std::unique_ptr<Connection> {
    std::unique_ptr<Connection>* best = nullptr;
    for (auto& c : open)
      if (pred(c->server()) && (best == nullptr || c->server().round_trip < (*best)->server().round_trip)) best = &c;
    return best ? std::move(*best) : nullptr;
  };
  auto is_primary = [](const ServerInfo& s) { return s.writable(); };
  auto is_secondary = [](const ServerInfo& s) { return s.kind == TopologyKind::kReplicaSetSecondary; };
  auto any_data = [](const ServerInfo& s) { return s.writable() || s.kind == TopologyKind::kReplicaSetSecondary; };
  std::unique_ptr<Connection> chosen;
  switch (mode) {
    case ReadPreferenceMode::kPrimary: chosen = pick(is_primary); break;
    case ReadPreferenceMode::kPrimaryPreferred:
      chosen = pick(is_primary);
      if (!chosen) chosen = pick(is_secondary);
      break;
    case ReadPreferenceMode::kSecondary: chosen = pick(is_secondary); break;
    case ReadPreferenceMode::kSecondaryPreferred:
      chosen = pick(is_secondary);
      if (!chosen) chosen = pick(is_primary);
      break;
    case ReadPreferenceMode::kNearest: chosen = pick(any_data); break;
  }
  if (!chosen)
    return Error::network("no server matches readPreference " + std::string(read_preference_name(mode)) +
                          (failures.empty() ? std::string() : " (" + failures + ")"));
  return chosen;
}

}  // namespace bsonpipe::io
