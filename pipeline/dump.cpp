#include "pipeline/dump.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "formats/archive.hpp"
#include "formats/dump_layout.hpp"
#include "formats/hash.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "io/connection.hpp"
#include "io/file.hpp"
#include "io/uri.hpp"
#include "pipeline/error_holder.hpp"
#include "pipeline/namespaces.hpp"
#include "pipeline/ordered_writer.hpp"
#include "pipeline/rate_limiter.hpp"
#include "pipeline/users_roles.hpp"
#include "pipeline/version.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

// ---------------------------------------------------------------------------------------------
// Range splitting

std::vector<IdRange> split_ranges(std::vector<Bytes> sample_ids, int parts) {
  std::vector<IdRange> out;
  if (parts <= 1 || sample_ids.empty()) {
    out.push_back({});
    return out;
  }
  auto value = [](const Bytes& d) { return *DocView(d).begin(); };
  std::sort(sample_ids.begin(), sample_ids.end(),
            [&](const Bytes& a, const Bytes& b) { return formats::compare_values(value(a), value(b)) < 0; });
  // Boundaries at evenly spaced sample quantiles, without repeats (equal _ids would make an
  // empty range, and a range [x, x) reads nothing).
  std::vector<const Bytes*> bounds;
  for (int i = 1; i < parts; ++i) {
    const Bytes& b = sample_ids[sample_ids.size() * static_cast<std::size_t>(i) / static_cast<std::size_t>(parts)];
    if (!bounds.empty() && formats::compare_values(value(*bounds.back()), value(b)) >= 0) continue;
    bounds.push_back(&b);
  }
  Bytes lo;
  for (const Bytes* b : bounds) {
    out.push_back({lo, *b});
    lo = *b;
  }
  out.push_back({lo, {}});
  return out;
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::int64_t now_utc_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hex(ByteSpan b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

formats::Compression layout_compression(io::Codec c) {
  switch (c) {
    case io::Codec::kGzip: return formats::Compression::kGzip;
    case io::Codec::kZstd: return formats::Compression::kZstd;
    case io::Codec::kNone: break;
  }
  return formats::Compression::kNone;
}

// One collection (or view) to dump, with its ranges and what was written for it.
struct CollectionJob {
  std::string db;
  std::string name;       // the collection's name (metadata, prelude)
  std::string data_name;  // where its documents live (system.buckets.<name> for timeseries)
  std::string type;       // "collection", "view", "timeseries"
  Bytes options;
  Bytes uuid;
  std::vector<Bytes> indexes;
  std::int64_t count = 0;
  std::int64_t size = 0;
  std::vector<IdRange> ranges;
  bool has_data = true;  // views have metadata only
  NsProgress* progress = nullptr;

  // Filled by the range jobs.
  std::mutex mu;
  int ranges_left = 0;
  std::vector<fs::path> part_paths;  // directory mode, multi-range: one file per range
  std::uint64_t raw_bytes = 0;
  std::uint64_t stored_bytes = 0;
  std::uint64_t documents = 0;
  std::string data_hash;  // XXH3 of the final data file

  std::string ns() const { return db + "." + name; }
};

struct RangeJob {
  CollectionJob* coll;
  std::size_t index;
};

// A byte sink that gathers small writes into blocks for the OrderedBlockWriter (the archive
// writer emits headers of a few bytes between documents).
class BlockGatherer {
 public:
  BlockGatherer(OrderedBlockWriter* w, std::size_t block) : w_(w), block_(block) {}
  Status write(ByteSpan b) {
    buf_.insert(buf_.end(), b.begin(), b.end());
    if (buf_.size() >= block_) return flush();
    return {};
  }
  Status flush() {
    if (buf_.empty()) return {};
    Bytes out;
    out.reserve(block_ + block_ / 4);
    out.swap(buf_);
    return w_->add(std::move(out));
  }

 private:
  OrderedBlockWriter* w_;
  std::size_t block_;
  Bytes buf_;
};

class Dumper {
 public:
  explicit Dumper(const DumpOptions& o)
      : opts_(o),
        errors_(o.interrupt),
        progress_("dump", o.progress),
        pool_(o.compress_threads > 0 ? o.compress_threads
                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
    if (o.rate_limit_mbps > 0) rate_ = std::make_unique<RateLimiter>(o.rate_limit_mbps * 1e6);
  }

  Result<DumpSummary> run();

 private:
  Status connect_all();
  io::Expected<std::unique_ptr<io::Connection>> connect();
  Status plan();
  Status plan_once(io::Connection& conn);
  Status plan_database(io::Connection& conn, const std::string& db, const NsFilter& filter);
  Status split(io::Connection& conn, CollectionJob& c);
  Status run_jobs();
  void worker();
  Status run_range(std::unique_ptr<io::Connection>& conn, const RangeJob& job);
  Status finish_collection(CollectionJob& c);
  Status write_metadata_files();
  Status write_archive_prelude();
  // Archive mode: a block of `count` documents of db.coll, and the end of a namespace, to the
  // multiplexer (or to the copy's document sink).
  Status emit_documents(std::string_view db, std::string_view coll, Bytes& block, std::size_t count);
  Status emit_end(std::string_view db, std::string_view coll);
  Status finalize_directory();
  Status oplog_start(io::Connection& conn);
  Status dump_oplog();
  void cleanup_on_failure();
  std::string metadata_json(const CollectionJob& c) const;
  Status write_small_file(const std::string& rel, ByteSpan content, const std::string& ns, const std::string& kind,
                          std::uint64_t documents = 0);

  const DumpOptions& opts_;
  ErrorHolder errors_;
  Progress progress_;
  CompressionPool pool_;
  std::unique_ptr<RateLimiter> rate_;  // --rate-limit, shared by every reader
  io::Uri uri_;
  io::ReadPreferenceMode read_mode_ = io::ReadPreferenceMode::kPrimary;
  std::string server_version_;
  std::string topology_;
  std::vector<std::unique_ptr<CollectionJob>> colls_;
  std::vector<RangeJob> jobs_;
  std::atomic<std::size_t> next_job_{0};
  std::atomic<std::uint64_t> retries_{0};  // reads resumed after a retryable error

  // Directory mode: files go under staging_ and are moved to opts_.out at the end.
  fs::path staging_;
  std::mutex manifest_mu_;
  std::vector<formats::ManifestFile> files_;

  // Archive mode.
  std::unique_ptr<io::AtomicFileWriter> archive_file_;
  std::unique_ptr<OrderedBlockWriter> archive_writer_;
  std::unique_ptr<BlockGatherer> archive_gather_;
  std::unique_ptr<formats::archive::Multiplexer> mux_;

  BundleResult bundle_;  // --- bundled files (pipeline/bundle.hpp) ---

  std::int64_t start_ms_ = 0;
  // --oplog: the newest oplog entry's ts when the dump started (absent: the oplog was empty).
  std::optional<formats::Timestamp> oplog_start_;
  std::vector<DbAuthzPart> authz_;  // --dumpDbUsersAndRoles (pipeline/users_roles.hpp)
};

io::Expected<std::unique_ptr<io::Connection>> Dumper::connect() {
  return io::connect_selected(uri_, read_mode_);
}

Status Dumper::connect_all() {
  auto uri = io::parse_uri(opts_.uri);
  if (!uri) return uri.status();
  uri_ = std::move(*uri);
  if (!opts_.read_preference.empty()) {
    auto m = io::parse_read_preference(opts_.read_preference);
    if (!m) return m.status();
    read_mode_ = *m;
  } else {
    read_mode_ = uri_.read_preference;
  }
  return {};
}

bool has_id_index(const CollectionJob& c) {
  for (const Bytes& spec : c.indexes) {
    auto key = DocView(spec).find("key");
    if (!key.valid() || key.type() != formats::BsonType::kDocument) continue;
    DocView k = key.as_document();
    if (k.count() == 1 && k.find("_id").valid()) return true;
  }
  return false;
}

bool is_capped(const CollectionJob& c) {
  if (c.options.empty()) return false;
  auto capped = DocView(c.options).find("capped");
  return capped.valid() && capped.type() == formats::BsonType::kBool && capped.as_bool();
}

// mongodump's rules for what a database dump contains.
bool skip_collection(const std::string& db, const io::CollectionInfo& c, bool users_and_roles) {
  const std::string& n = c.name;
  if (n.rfind("system.", 0) != 0) return false;
  if (db == "admin" && (n == "system.version" || ((n == "system.users" || n == "system.roles") && users_and_roles)))
    return false;
  if (n == "system.js") return false;
  return true;  // system.profile, system.views (views come as metadata), system.buckets.* (via timeseries)...
}

// Planning only reads the catalog: after a network failure it starts over on a new connection,
// with the same budget and backoff as the range reads.
Status Dumper::plan() {
  RetryBackoff backoff(opts_.retry_backoff_ms);
  for (int attempt = 0;; ++attempt) {
    auto conn = connect();
    if (!conn) return {ErrorCode::kNetwork, "cannot connect to " + uri_.redacted() + ": " + conn.error().to_string()};
    colls_.clear();
    jobs_.clear();
    Status s = plan_once(**conn);
    if (s || !(*conn)->broken() || attempt >= opts_.retries || errors_.cancelled()) return s;
    retries_.fetch_add(1, std::memory_order_relaxed);
    progress_.info("retrying the plan after: " + s.message());
    backoff.wait(errors_);
  }
}

Status Dumper::plan_once(io::Connection& conn) {
  auto bi = io::build_info(conn);
  if (bi) server_version_ = bi->version;
  topology_ = std::string(io::topology_kind_name(conn.server().kind));
  if (opts_.oplog)
    if (Status s = oplog_start(conn); !s) return s;

  NsFilter filter;
  for (auto& p : opts_.ns_include)
    if (Status s = filter.include(p); !s) return s;
  for (auto& p : opts_.ns_exclude)
    if (Status s = filter.exclude(p); !s) return s;

  std::vector<std::string> dbs;
  if (!opts_.db.empty()) {
    dbs.push_back(opts_.db);
  } else {
    auto list = io::list_databases(conn, true);
    if (!list) return {ErrorCode::kServer, "listDatabases failed: " + list.error().to_string()};
    for (auto& d : *list)
      if (d.name != "local" && d.name != "config") dbs.push_back(d.name);
  }
  for (auto& db : dbs)
    if (Status s = plan_database(conn, db, filter); !s) return s;
  // --- --dumpDbUsersAndRoles (pipeline/users_roles.hpp); --db admin has them already, as mongodump ---
  if (opts_.dump_users_and_roles && opts_.db == "admin")
    progress_.info("skipping users/roles dump, already dumped admin database");
  if (opts_.dump_users_and_roles && opts_.db != "admin") {
    auto parts = read_db_users_and_roles(conn, opts_.db);
    if (!parts) return parts.status();
    authz_ = std::move(*parts);
  }
  if (!opts_.collection.empty() && colls_.empty())
    progress_.info("dump: collection " + opts_.db + "." + opts_.collection + " does not exist; nothing to dump");

  // Largest collections first, so their ranges start early; then by name for stable output.
  std::stable_sort(colls_.begin(), colls_.end(), [](const auto& a, const auto& b) { return a->size > b->size; });
  for (auto& c : colls_) {
    if (!c->has_data) continue;
    if (Status s = split(conn, *c); !s) return s;
    c->ranges_left = static_cast<int>(c->ranges.size());
    for (std::size_t i = 0; i < c->ranges.size(); ++i) jobs_.push_back({c.get(), i});
  }
  // Only once the plan is whole (a retried plan must not list namespaces twice).
  for (auto& c : colls_) c->progress = progress_.add_namespace(c->ns(), static_cast<std::uint64_t>(c->count));
  return {};
}

Status Dumper::plan_database(io::Connection& conn, const std::string& db, const NsFilter& filter) {
  auto colls = io::list_collections(conn, db);
  if (!colls) return {ErrorCode::kServer, "listCollections on " + db + " failed: " + colls.error().to_string()};
  for (auto& info : *colls) {
    if (!opts_.collection.empty() && info.name != opts_.collection) continue;
    if (skip_collection(db, info, opts_.db.empty() || opts_.db == "admin")) continue;  // admin: as mongodump
    if (std::find(opts_.exclude_collections.begin(), opts_.exclude_collections.end(), info.name) !=
        opts_.exclude_collections.end())
      continue;
    if (std::any_of(opts_.exclude_collection_prefixes.begin(), opts_.exclude_collection_prefixes.end(),
                    [&](const std::string& p) { return info.name.rfind(p, 0) == 0; }))
      continue;
    if (!filter.allows(db + "." + info.name)) continue;
    // Every name a server accepts has a file name (its escaped stem); a name outside those rules
    // (mongodump skips '$' names too) is left out with a line naming it, never the whole dump.
    if (Status s = formats::archive::validate_namespace(db, info.name); !s) {
      progress_.info("skipping " + db + "." + info.name + ": not a namespace a server accepts (" + s.message() + ")");
      continue;
    }
    auto c = std::make_unique<CollectionJob>();
    c->db = db;
    c->name = info.name;
    c->data_name = info.name;
    c->type = info.type.empty() ? "collection" : info.type;
    c->options = info.options;
    c->uuid = info.uuid;
    if (c->type == "view" && !opts_.views_as_collections) {
      c->has_data = false;
    } else if (c->type == "view") {
      c->type = "collection";  // read through the view; restored as a plain collection
      c->options.clear();
    } else {
      if (c->type == "timeseries") c->data_name = "system.buckets." + info.name;
      auto idx = io::list_indexes(conn, db, c->name);
      if (!idx) return {ErrorCode::kServer, "listIndexes on " + c->ns() + " failed: " + idx.error().to_string()};
      c->indexes = std::move(*idx);
      auto st = io::coll_stats(conn, db, c->data_name);
      if (st) {
        c->count = st->count;
        c->size = st->size;
      }
    }
    colls_.push_back(std::move(c));
  }
  return {};
}

Status Dumper::split(io::Connection& conn, CollectionJob& c) {
  int parts = opts_.target == DumpTarget::kStdoutBson ? 1 : std::max(1, opts_.readers);
  if (parts > 1 && static_cast<std::uint64_t>(c.size) < opts_.split_min_bytes) parts = 1;
  if (parts > 1 && c.count < parts * 2) parts = 1;
  if (is_capped(c)) parts = 1;  // capped collections are read whole, in natural order
  if (parts == 1) {
    c.ranges.push_back({});
    return {};
  }
  // Sample _ids: 32 per wanted range is plenty for even ranges.
  Builder p;
  p.open_array("pipeline");
  p.open_document("0").open_document("$sample").append_int32("size", parts * 32).close().close();
  p.open_document("1").open_document("$project").append_int32("_id", 1).close().close();
  p.close();
  Bytes pipeline_doc = p.finish();
  auto cur = io::aggregate(conn, c.db, c.data_name, DocView(pipeline_doc).find("pipeline").as_document());
  if (!cur) return {ErrorCode::kServer, "$sample on " + c.ns() + " failed: " + cur.error().to_string()};
  std::vector<Bytes> ids;
  while (true) {
    for (ByteSpan d : cur->batch()) {
      auto id = formats::find_checked(d, "_id");
      if (!id) return {ErrorCode::kServer, "$sample on " + c.ns() + ": malformed document: " + id.status().to_string()};
      if (!id->valid()) continue;
      Builder b;
      b.append_element("_id", *id);
      ids.push_back(b.finish());
    }
    auto more = cur->next_batch();
    if (!more) return {ErrorCode::kServer, "$sample on " + c.ns() + " failed: " + more.error().to_string()};
    if (!*more) break;
  }
  c.ranges = split_ranges(std::move(ids), parts);
  return {};
}

std::string Dumper::metadata_json(const CollectionJob& c) const {
  formats::CollectionMetadata m;
  m.options = c.options.empty() ? Builder().finish() : c.options;
  m.options_present = true;
  m.indexes = c.indexes;
  m.uuid = c.uuid.size() == 16 ? hex(c.uuid) : "";
  m.collection_name = c.name;
  m.type = c.type;
  return formats::write_collection_metadata(m);
}

// Writes a whole small file (metadata, prelude, manifest) compressed with the dump's codec.
Status Dumper::write_small_file(const std::string& rel, ByteSpan content, const std::string& ns,
                                const std::string& kind, std::uint64_t documents) {
  Bytes stored;
  if (opts_.codec == io::Codec::kNone || kind == "prelude") {
    stored.assign(content.begin(), content.end());
  } else {
    auto comp = io::BlockCompressor::create(opts_.codec, opts_.level ? opts_.level : io::default_level(opts_.codec));
    if (Status s = comp->compress(content, stored); !s) return s;
  }
  auto w = io::AtomicFileWriter::create(staging_ / rel);
  if (!w) return w.status();
  if (Status s = w->write(stored); !s) return s;
  if (Status s = w->commit(); !s) return s;
  std::lock_guard lock(manifest_mu_);
  files_.push_back({rel, ns, kind, documents, content.size(), stored.size(), formats::xxh3_128_hex(stored)});
  return {};
}

Status Dumper::write_metadata_files() {
  for (auto& c : colls_) {
    std::string json = metadata_json(*c);
    auto rel =
        formats::dump_file_path(c->db, c->name, formats::DumpFileKind::kMetadata, layout_compression(opts_.codec));
    if (!rel) return rel.status();
    if (Status s = write_small_file(*rel, ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()),
                                    c->ns(), "metadata");
        !s)
      return s;
  }
  return {};
}

Status Dumper::write_archive_prelude() {
  formats::archive::Prelude prelude;
  prelude.header.concurrent_collections = opts_.parallel_collections;
  prelude.header.server_version = server_version_;
  prelude.header.tool_version = std::string(tool_version());
  for (auto& c : colls_) prelude.collections.push_back({c->db, c->name, metadata_json(*c), c->size, c->type});
  if (opts_.oplog) prelude.collections.push_back({"", "oplog", "", 0, ""});
  for (auto& p : authz_) prelude.collections.push_back({opts_.db, p.collection, "", 0, ""});
  if (opts_.document_sink) {
    if (Status s = opts_.document_sink->start(prelude); !s) return s;
  } else {
    fs::path out = opts_.out;
    if (!out.empty() && out != "-") {
      auto f = io::AtomicFileWriter::create(out);
      if (!f) return f.status();
      archive_file_ = std::make_unique<io::AtomicFileWriter>(std::move(*f));
    }
    archive_writer_ = std::make_unique<OrderedBlockWriter>(
        &pool_, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(2 * pool_.threads() + 2)},
        [this](ByteSpan b) -> Status {
          if (archive_file_) return archive_file_->write(b);
          return io::write_all(1, b, "standard output");
        });
    archive_gather_ = std::make_unique<BlockGatherer>(archive_writer_.get(), opts_.block_bytes);
    mux_ = std::make_unique<formats::archive::Multiplexer>([this](ByteSpan b) { return archive_gather_->write(b); });
    if (Status s = mux_->write_prelude(prelude); !s) return s;
  }
  for (auto& c : colls_)
    if (!c->has_data)
      if (Status s = emit_end(c->db, c->name); !s) return s;
  for (auto& p : authz_) {  // --dumpDbUsersAndRoles: right after the prelude, as mongodump
    if (!p.documents.empty()) {
      Bytes docs = p.documents;
      if (Status s = emit_documents(opts_.db, p.collection, docs, p.count); !s) return s;
    }
    if (Status s = emit_end(opts_.db, p.collection); !s) return s;
  }
  return {};
}

Status Dumper::emit_documents(std::string_view db, std::string_view coll, Bytes& block, std::size_t count) {
  if (opts_.document_sink) return opts_.document_sink->documents(db, coll, std::exchange(block, Bytes()), count);
  return mux_->write_documents(db, coll, block);
}

Status Dumper::emit_end(std::string_view db, std::string_view coll) {
  if (opts_.document_sink) return opts_.document_sink->end_namespace(db, coll);
  return mux_->end_namespace(db, coll);
}

Status Dumper::run_jobs() {
  int threads = std::max({1, opts_.parallel_collections, opts_.readers});
  threads = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(threads), std::max<std::size_t>(1, jobs_.size())));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([this] { worker(); });
  for (auto& t : pool) t.join();
  return errors_.status();
}

void Dumper::worker() {
  std::unique_ptr<io::Connection> conn;
  while (!errors_.cancelled()) {
    std::size_t i = next_job_.fetch_add(1);
    if (i >= jobs_.size()) return;
    if (!conn) {
      auto c = connect();
      if (!c) {
        errors_.set_error({ErrorCode::kNetwork, "cannot connect to " + uri_.redacted() + ": " + c.error().to_string()});
        return;
      }
      conn = std::move(*c);
    }
    Status s = run_range(conn, jobs_[i]);
    if (!s) {
      // Name the namespace in the one-line error, unless the message already does.
      std::string ns = jobs_[i].coll->ns();
      if (s.code() != ErrorCode::kCancelled && s.message().find(ns) == std::string::npos)
        s = Status(s.code(), ns + ": " + s.message(), s.offset());
      errors_.set_error(s);
      return;
    }
  }
}

Status Dumper::run_range(std::unique_ptr<io::Connection>& conn, const RangeJob& job) {
  CollectionJob& c = *job.coll;
  const IdRange& range = c.ranges[job.index];
  const bool multi = c.ranges.size() > 1;

  // Where this range's bytes go.
  std::unique_ptr<io::AtomicFileWriter> file;
  std::unique_ptr<formats::Xxh3Hasher> hash;
  fs::path path;
  std::function<Status(ByteSpan)> sink;
  if (opts_.target == DumpTarget::kDirectory) {
    auto rel =
        formats::dump_file_path(c.db, c.data_name, formats::DumpFileKind::kBson, layout_compression(opts_.codec));
    if (!rel) return rel.status();
    path = staging_ / *rel;
    if (multi) path += ".range" + std::to_string(job.index);
    auto f = io::AtomicFileWriter::create(path);
    if (!f) return f.status();
    file = std::make_unique<io::AtomicFileWriter>(std::move(*f));
    if (!multi) hash = std::make_unique<formats::Xxh3Hasher>();
    sink = [&](ByteSpan b) -> Status {
      if (hash) hash->update(b);
      return file->write(b);
    };
  } else if (opts_.target == DumpTarget::kStdoutBson) {
    sink = [](ByteSpan b) { return io::write_all(1, b, "standard output"); };
  }

  std::unique_ptr<OrderedBlockWriter> writer;
  // Uncompressed file output skips blocks and the block writer: documents go from the reply to
  // the file with one writev per batch, and are hashed while they are still in cache.
  const bool direct = file != nullptr && opts_.codec == io::Codec::kNone;
  if (sink && !direct)
    writer = std::make_unique<OrderedBlockWriter>(
        &pool_, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(pool_.threads() + 1)}, sink);
  auto write_direct = [&](std::span<const ByteSpan> docs) -> Status {
    if (hash)
      for (ByteSpan d : docs) hash->update(d);
    return file->write_gather(docs);
  };

  Bytes block;
  if (!direct) block.reserve(opts_.block_bytes + (1u << 20));
  std::uint64_t docs = 0, raw = 0;
  std::size_t block_docs = 0;  // documents in `block`
  auto take = [&](std::span<const ByteSpan> batch) -> Status {
    std::uint64_t bytes = 0;
    for (ByteSpan d : batch) bytes += d.size();
    docs += batch.size();
    raw += bytes;
    c.progress->documents.fetch_add(batch.size(), std::memory_order_relaxed);
    c.progress->bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (rate_)
      if (Status s = rate_->acquire(bytes, &errors_); !s) return s;
    if (direct) return write_direct(batch);
    for (ByteSpan d : batch) block.insert(block.end(), d.begin(), d.end());
    block_docs += batch.size();
    if (block.size() < opts_.block_bytes) return {};
    Status s = writer ? writer->add(std::move(block)) : emit_documents(c.db, c.data_name, block, block_docs);
    block = Bytes();
    block.reserve(opts_.block_bytes + (1u << 20));
    block_docs = 0;
    return s;
  };

  // Read in _id order (as mongodump hints {_id: 1}) when the collection has that index and is not
  // capped (capped collections keep their natural order): then a read that fails with a retryable
  // error (network, primary stepped down) continues from the last _id taken, on a new connection.
  const bool resumable = has_id_index(c) && !is_capped(c);
  Bytes hint = Builder().append_int32("_id", 1).finish();
  Bytes last_id;  // {_id: v} of the last document taken
  int retries_left = opts_.retries;
  RetryBackoff backoff(opts_.retry_backoff_ms);
  // One attempt: open a cursor from where the last one stopped and read to the end of the range.
  // Returns ok when the range is done; otherwise the error, with what failed in `failed_op`.
  std::string failed_op;
  Status taken;  // a local failure (write error, cancel): never retried
  auto attempt = [&]() -> io::Error {
    io::FindOptions fo;
    if (!opts_.query.empty()) fo.filter = DocView(opts_.query);
    if (resumable || !range.min.empty() || !range.max.empty()) fo.hint = DocView(hint);
    if (!range.min.empty()) fo.min = DocView(range.min);
    if (!last_id.empty()) fo.min = DocView(last_id);
    if (!range.max.empty()) fo.max = DocView(range.max);
    // About 1 MiB per reply unless the user chose: a reply then stays in cache while it is
    // written and hashed (the server's default is 16 MiB).
    fo.batch_size = opts_.batch_size;
    if (fo.batch_size == 0 && c.count > 0 && c.size > 0)
      fo.batch_size = static_cast<std::int32_t>(
          std::clamp<std::int64_t>((1 << 20) / std::max<std::int64_t>(1, c.size / c.count), 1, 100000));
    fo.no_cursor_timeout = true;
    if (read_mode_ != io::ReadPreferenceMode::kPrimary) fo.read_preference = read_mode_;
    failed_op = "find";
    auto cur = io::find(*conn, c.db, c.data_name, fo);
    if (!cur) return cur.error();
    failed_op = "getMore";
    bool first = !last_id.empty();  // a resumed read starts at the last _id taken: skip it
    while (true) {
      if (errors_.cancelled()) {
        taken = errors_.status();
        return {};
      }
      std::span<const ByteSpan> batch = cur->batch();
      if (first && !batch.empty()) {
        first = false;
        auto id = formats::find_checked(batch.front(), "_id");
        if (!id) return io::Error::network("malformed document in the reply: " + id.status().to_string());
        if (id->valid() && formats::compare_values(*id, DocView(last_id).find("_id")) == 0) batch = batch.subspan(1);
      }
      // Ask for the next batch before working on this one, so the server prepares it meanwhile.
      if (!cur->exhausted())
        if (io::Error e = cur->prefetch(); !e) return e;
      if (!batch.empty()) {
        if (Status s = take(batch); !s) {
          taken = s;
          return {};
        }
        if (resumable) {
          auto id = formats::find_checked(batch.back(), "_id");
          if (!id) return io::Error::network("malformed document in the reply: " + id.status().to_string());
          if (id->valid()) last_id = Builder().append_element("_id", *id).finish();
        }
      }
      if (cur->exhausted()) return {};
      auto more = cur->next_batch();
      if (!more) return more.error();
    }
  };
  std::uint64_t docs_at_failure = 0;
  while (true) {
    io::Error failure = attempt();
    if (!taken) return taken;
    if (failure) break;
    // The budget bounds failures in a row: an attempt that made progress earns it back.
    if (docs > docs_at_failure) {
      retries_left = opts_.retries;
      backoff.reset();
    }
    docs_at_failure = docs;
    const std::string what = failed_op + " on " + c.db + "." + c.data_name + " failed: " + failure.to_string();
    if (!failure.is_retryable() || (!resumable && docs > 0) || errors_.cancelled()) return {ErrorCode::kServer, what};
    if (retries_left <= 0)
      return {ErrorCode::kServer,
              what + " (gave up after " + std::to_string(opts_.retries) + " retries without progress)"};
    --retries_left;
    retries_.fetch_add(1, std::memory_order_relaxed);
    progress_.info("retrying " + c.db + "." + c.data_name + " after: " + failure.to_string());
    backoff.wait(errors_);
    if (failure.is_network() || failure.is_not_writable_primary() || conn->broken()) {
      auto fresh = connect();
      if (!fresh) {
        if (retries_left <= 0)
          return {ErrorCode::kNetwork, what + "; reconnecting failed: " + fresh.error().to_string()};
        continue;  // counts as a failed attempt; the next one backs off further
      }
      conn = std::move(*fresh);
    }
  }
  if (!block.empty()) {
    Status s = writer ? writer->add(std::move(block)) : emit_documents(c.db, c.data_name, block, block_docs);
    if (!s) return s;
  }
  // An empty collection still gets a valid compressed file (one empty gzip member or zstd
  // frame), as mongodump writes it: a zero-byte .gz is an error to gzip(1).
  if (writer && opts_.codec != io::Codec::kNone && writer->raw_bytes() == 0 && job.index == 0)
    if (Status s = writer->add(Bytes()); !s) return s;
  if (writer)
    if (Status s = writer->finish(); !s) return s;
  if (file)
    if (Status s = file->commit(/*durable=*/!multi); !s) return s;  // range parts are read back, then deleted

  bool last;
  {
    std::lock_guard lock(c.mu);
    c.documents += docs;
    c.raw_bytes += raw;
    // Direct (uncompressed) writes bypass the block writer: the file holds exactly the raw bytes.
    if (direct)
      c.stored_bytes += raw;
    else if (writer)
      c.stored_bytes += writer->stored_bytes();
    if (hash) c.data_hash = hash->hex_digest();
    last = --c.ranges_left == 0;
  }
  return last ? finish_collection(c) : Status{};
}

// Runs once per collection, on the thread that finished its last range.
Status Dumper::finish_collection(CollectionJob& c) {
  c.progress->done = true;
  if (opts_.target == DumpTarget::kArchive) return emit_end(c.db, c.data_name);
  if (opts_.target != DumpTarget::kDirectory) return {};
  auto rel = formats::dump_file_path(c.db, c.data_name, formats::DumpFileKind::kBson, layout_compression(opts_.codec));
  if (!rel) return rel.status();
  if (c.ranges.size() > 1) {
    // Concatenate the range files in _id order into the collection's one .bson file.
    auto out = io::AtomicFileWriter::create(staging_ / *rel);
    if (!out) return out.status();
    formats::Xxh3Hasher h;
    Bytes buf(4u << 20);
    for (std::size_t i = 0; i < c.ranges.size(); ++i) {
      fs::path part = staging_ / *rel;
      part += ".range" + std::to_string(i);
      auto in = io::FileReader::open(part);
      if (!in) return in.status();
      while (true) {
        if (errors_.cancelled()) return errors_.status();
        auto n = in->read(buf.data(), buf.size());
        if (!n) return n.status();
        if (*n == 0) break;
        ByteSpan chunk(buf.data(), *n);
        h.update(chunk);
        if (Status s = out->write(chunk); !s) return s;
      }
      std::error_code ec;
      fs::remove(part, ec);
    }
    if (Status s = out->commit(); !s) return s;
    c.data_hash = h.hex_digest();
  }
  std::lock_guard lock(manifest_mu_);
  files_.push_back({*rel, c.ns(), "data", c.documents, c.raw_bytes, c.stored_bytes, c.data_hash});
  return {};
}

// Moves every staged file into the output directory, then writes the manifest last.
Status Dumper::finalize_directory() {
  fs::path out = opts_.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return {ErrorCode::kIo, "cannot create " + out.string() + ": " + ec.message()};
  // A manifest from an earlier dump in the same place must not vouch for this one's files.
  fs::remove(out / formats::kManifestName, ec);
  std::sort(files_.begin(), files_.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  for (auto& f : files_) {
    fs::path dst = out / f.path;
    fs::create_directories(dst.parent_path(), ec);
    if (ec) return {ErrorCode::kIo, "cannot create " + dst.parent_path().string() + ": " + ec.message()};
    fs::rename(staging_ / f.path, dst, ec);
    if (ec)
      return {ErrorCode::kIo,
              "cannot move " + (staging_ / f.path).string() + " to " + dst.string() + ": " + ec.message()};
  }
  for (auto& d : fs::directory_iterator(out, ec))
    if (d.is_directory()) (void)io::sync_directory(d.path());
  if (Status s = move_bundle(staging_, out, bundle_); !s) return s;  // --- bundled files ---
  fs::remove_all(staging_, ec);

  formats::Manifest m;
  m.tool_version = std::string(tool_version());
  m.source = uri_.redacted();
  m.topology = topology_;
  m.server_version = server_version_;
  m.format = "directory";
  m.compression = std::string(io::codec_name(opts_.codec));
  m.start_ms = start_ms_;
  m.end_ms = now_utc_ms();
  m.files = files_;
  m.bundled_roots = bundle_.roots;  // --- bundled files ---
  m.bundled = bundle_.files;
  m.complete = true;
  std::string json = formats::manifest_to_json(m);
  auto w = io::AtomicFileWriter::create(out / formats::kManifestName);
  if (!w) return w.status();
  if (Status s = w->write(ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size())); !s) return s;
  return w->commit();
}

Status Dumper::oplog_start(io::Connection& conn) {
  auto kind = conn.server().kind;
  if (kind != io::TopologyKind::kReplicaSetPrimary && kind != io::TopologyKind::kReplicaSetSecondary)
    return {ErrorCode::kInvalidArgument, "--oplog needs a replica-set member; " + uri_.redacted() + " is " +
                                             std::string(io::topology_kind_name(kind))};
  io::FindOptions fo;
  Bytes sort = Builder().append_int32("$natural", -1).finish();
  fo.sort = DocView(sort);
  fo.limit = 1;
  auto cur = io::find(conn, "local", "oplog.rs", fo);
  if (!cur) return {ErrorCode::kServer, "cannot read local.oplog.rs: " + cur.error().to_string()};
  if (!cur->batch().empty()) {
    auto checked = formats::find_checked(cur->batch().front(), "ts");
    auto ts = checked ? *checked : formats::ElementView();
    if (!ts.valid() || ts.type() != formats::BsonType::kTimestamp)
      return {ErrorCode::kServer, "local.oplog.rs entry without a timestamp ts"};
    oplog_start_ = ts.as_timestamp();
  }
  return {};
}

// Copies every oplog entry from the one that was newest at the start to the end: the writes
// that happened while the collections were read. If that first entry is gone, the oplog rolled
// over during the dump and the dump cannot be made consistent.
Status Dumper::dump_oplog() {
  auto conn = connect();
  if (!conn) return {ErrorCode::kNetwork, "cannot connect to " + uri_.redacted() + ": " + conn.error().to_string()};
  io::FindOptions fo;
  Bytes filter;
  if (oplog_start_) filter = Builder().open_document("ts").append_timestamp("$gte", *oplog_start_).close().finish();
  if (!filter.empty()) fo.filter = DocView(filter);
  auto cur = io::find(**conn, "local", "oplog.rs", fo);
  if (!cur) return {ErrorCode::kServer, "cannot read local.oplog.rs: " + cur.error().to_string()};

  // Streamed like a collection: into the archive, or through a compressing writer to oplog.bson.
  std::string rel = formats::oplog_file_name(layout_compression(opts_.codec));
  std::unique_ptr<io::AtomicFileWriter> file;
  formats::Xxh3Hasher hash;
  std::unique_ptr<OrderedBlockWriter> writer;
  if (opts_.target == DumpTarget::kDirectory) {
    auto f = io::AtomicFileWriter::create(staging_ / rel);
    if (!f) return f.status();
    file = std::make_unique<io::AtomicFileWriter>(std::move(*f));
    writer = std::make_unique<OrderedBlockWriter>(
        &pool_, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(pool_.threads() + 1)},
        [&](ByteSpan b) {
          hash.update(b);
          return file->write(b);
        });
  }
  std::size_t block_docs = 0;  // documents in `block`
  auto emit = [&](Bytes block) -> Status {
    std::size_t count = std::exchange(block_docs, 0);
    if (writer) return writer->add(std::move(block));
    return block.empty() ? Status{} : emit_documents("", "oplog", block, count);
  };
  Bytes block;
  std::uint64_t n = 0, raw = 0;
  bool first = true;
  while (true) {
    if (errors_.cancelled()) return errors_.status();
    if (first && oplog_start_) {
      auto checked = cur->batch().empty() ? Result<formats::ElementView>(formats::ElementView())
                                          : formats::find_checked(cur->batch().front(), "ts");
      auto ts = checked ? *checked : formats::ElementView();
      if (!ts.valid() || ts.type() != formats::BsonType::kTimestamp || !(ts.as_timestamp() == *oplog_start_))
        return {ErrorCode::kServer,
                "the oplog rolled over during the dump (its entry at the start is gone): the dump would miss "
                "writes; use a larger oplog or a faster dump"};
    }
    first = false;
    n += cur->batch().size();
    block_docs += cur->batch().size();
    std::size_t before = block.size();
    cur->append_batch_to(block);
    raw += block.size() - before;
    if (block.size() >= opts_.block_bytes)
      if (Status s = emit(std::exchange(block, Bytes())); !s) return s;
    if (cur->exhausted()) break;
    auto more = cur->next_batch();
    if (!more) return {ErrorCode::kServer, "getMore on local.oplog.rs failed: " + more.error().to_string()};
  }
  if (!block.empty() || (writer && opts_.codec != io::Codec::kNone && writer->raw_bytes() == 0))
    if (Status s = emit(std::move(block)); !s) return s;
  if (!writer) return emit_end("", "oplog");
  if (Status s = writer->finish(); !s) return s;
  if (Status s = file->commit(); !s) return s;
  std::lock_guard lock(manifest_mu_);
  files_.push_back({rel, "", "oplog", n, raw, writer->stored_bytes(), hash.hex_digest()});
  return {};
}

void Dumper::cleanup_on_failure() {
  std::error_code ec;
  if (!staging_.empty()) fs::remove_all(staging_, ec);
  if (archive_file_) archive_file_->abort();
}

Result<DumpSummary> Dumper::run() {
  double t0 = now_seconds();
  start_ms_ = now_utc_ms();
  if (opts_.target == DumpTarget::kStdoutBson && (opts_.db.empty() || opts_.collection.empty()))
    return Status(ErrorCode::kInvalidArgument, "--out - (standard output) needs --db and --collection");
  if (opts_.oplog && (!opts_.db.empty() || opts_.target == DumpTarget::kStdoutBson))
    return Status(ErrorCode::kInvalidArgument,
                  "--oplog dumps the whole instance: it cannot be used with --db or --out -");
  if (Status s = check_dump_users_and_roles(opts_); !s) return s;  // pipeline/users_roles.hpp
  if (!opts_.collection.empty() && opts_.db.empty())
    return Status(ErrorCode::kInvalidArgument, "--collection needs --db");
  if (opts_.rate_limit_mbps < 0) return Status(ErrorCode::kInvalidArgument, "--rate-limit must be a positive MB/s");
  if (opts_.document_sink && opts_.target != DumpTarget::kArchive)
    return Status(ErrorCode::kInvalidArgument, "a document sink takes an archive dump");

  Status s = connect_all();
  if (s) s = plan();
  if (s && opts_.target == DumpTarget::kDirectory) {
    staging_ = opts_.out;
    staging_ += ".partial";
    std::error_code ec;
    fs::remove_all(staging_, ec);
    fs::create_directories(staging_, ec);
    if (ec) s = Status(ErrorCode::kIo, "cannot create " + staging_.string() + ": " + ec.message());
    if (s) s = write_metadata_files();
    for (auto& p : authz_) {  // --- --dumpDbUsersAndRoles: <db>/$admin.system.users.bson, ... ---
      auto rel = db_authz_file_path(opts_.db, p.collection, layout_compression(opts_.codec));
      if (s && !rel) s = rel.status();
      if (s) s = write_small_file(*rel, p.documents, opts_.db + "." + p.collection, "data", p.count);
    }
    if (s) {
      formats::PreludeJson p{server_version_, std::string(tool_version())};
      std::string json = formats::write_prelude_json(p);
      s = write_small_file(formats::prelude_file_name(),
                           ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()), "", "prelude");
    }
    // --- bundled files (pipeline/bundle.hpp): copied into the staging directory ---
    if (s && !opts_.bundle.include_paths.empty()) {
      auto b = copy_bundle(staging_, opts_.bundle);
      if (b) bundle_ = std::move(*b);
      if (!b) s = b.status();
    }
  } else if (s && opts_.target == DumpTarget::kArchive) {
    s = write_archive_prelude();
  }
  if (s) {
    progress_.start();
    s = run_jobs();
    progress_.stop();
  }
  if (s && opts_.oplog) s = dump_oplog();
  if (s && opts_.target == DumpTarget::kArchive && !opts_.document_sink) {
    s = mux_->finish();
    if (s) s = archive_gather_->flush();
    if (s) s = archive_writer_->finish();
    if (s && archive_file_) s = archive_file_->commit();
  }
  if (s && opts_.target == DumpTarget::kDirectory) s = finalize_directory();
  if (s && errors_.cancelled()) s = errors_.status();
  double secs = now_seconds() - t0;
  if (!s) {
    cleanup_on_failure();
    return s;
  }
  progress_.summary(true, secs);

  DumpSummary sum;
  sum.seconds = secs;
  sum.retries = retries_.load();
  for (auto& c : colls_) {
    sum.namespaces.push_back(
        {c->ns(), c->type, c->documents, c->raw_bytes, c->stored_bytes, static_cast<int>(c->ranges.size())});
    sum.documents += c->documents;
    sum.raw_bytes += c->raw_bytes;
    sum.stored_bytes += c->stored_bytes;
  }
  if (archive_writer_) sum.stored_bytes = archive_writer_->stored_bytes();
  return sum;
}

}  // namespace

Result<DumpSummary> run_dump(const DumpOptions& opts) {
  Dumper d(opts);
  return d.run();
}

}  // namespace bsonpipe::pipeline
