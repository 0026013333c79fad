// Dump planning: which namespaces a dump contains (mongodump's rules and the user's filters),
// their metadata, and how a large collection is split into _id ranges read in parallel.
#include <algorithm>

#include "io/commands.hpp"
#include "pipeline/ops/dump_internal.hpp"

namespace bsonpipe::pipeline {

using formats::Builder;
using formats::Bytes;
using formats::DocView;

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

namespace dump_detail {

namespace {

// mongodump's rules for what a database dump contains.
bool skip_collection(const std::string& db, const io::CollectionInfo& c, bool users_and_roles) {
  const std::string& n = c.name;
  if (n.rfind("system.", 0) != 0) return false;
  if (db == "admin" && (n == "system.version" || ((n == "system.users" || n == "system.roles") && users_and_roles)))
    return false;
  if (n == "system.js") return false;
  return true;  // system.profile, system.views (views come as metadata), system.buckets.* (via timeseries)...
}

}  // namespace

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
  if (Status s = plan_users_and_roles(conn); !s) return s;
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

// --- --dumpDbUsersAndRoles (pipeline/ops/users_roles.hpp); --db admin has them already, as mongodump ---
Status Dumper::plan_users_and_roles(io::Connection& conn) {
  if (opts_.dump_users_and_roles && opts_.db == "admin")
    progress_.info("skipping users/roles dump, already dumped admin database");
  if (opts_.dump_users_and_roles && opts_.db != "admin") {
    auto parts = read_db_users_and_roles(conn, opts_.db);
    if (!parts) return parts.status();
    authz_ = std::move(*parts);
  }
  return {};
}

Status Dumper::plan_database(io::Connection& conn, const std::string& db, const NsFilter& filter) {
  auto colls = io::list_collections(conn, db);
  if (!colls) return {ErrorCode::kServer, "listCollections on " + db + " failed: " + colls.error().to_string()};
  for (auto& info : *colls) {
    if (!wanted(db, info, filter)) continue;
    if (Status s = add_collection(conn, db, info); !s) return s;
  }
  return {};
}

// The options' and mongodump's rules on one listed collection.
bool Dumper::wanted(const std::string& db, const io::CollectionInfo& info, const NsFilter& filter) {
  if (!opts_.collection.empty() && info.name != opts_.collection) return false;
  if (skip_collection(db, info, opts_.db.empty() || opts_.db == "admin")) return false;  // admin: as mongodump
  if (std::find(opts_.exclude_collections.begin(), opts_.exclude_collections.end(), info.name) !=
      opts_.exclude_collections.end())
    return false;
  if (std::any_of(opts_.exclude_collection_prefixes.begin(), opts_.exclude_collection_prefixes.end(),
                  [&](const std::string& p) { return info.name.rfind(p, 0) == 0; }))
    return false;
  if (!filter.allows(db + "." + info.name)) return false;
  // Every name a server accepts has a file name (its escaped stem); a name outside those rules
  // (mongodump skips '$' names too) is left out with a line naming it, never the whole dump.
  if (Status s = formats::archive::validate_namespace(db, info.name); !s) {
    progress_.info("skipping " + db + "." + info.name + ": not a namespace a server accepts (" + s.message() + ")");
    return false;
  }
  return true;
}

Status Dumper::add_collection(io::Connection& conn, const std::string& db, const io::CollectionInfo& info) {
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
  return {};
}

Status Dumper::split(io::Connection& conn, CollectionJob& c) {
  int parts = sink_->splits_collections() ? std::max(1, opts_.readers) : 1;
  if (parts > 1 && static_cast<std::uint64_t>(c.size) < opts_.split_min_bytes) parts = 1;
  if (parts > 1 && c.count < parts * 2) parts = 1;
  if (is_capped(c) || opts_.table_scan) parts = 1;  // read whole, in natural order
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
    for (formats::ByteSpan d : cur->batch()) {
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

}  // namespace dump_detail
}  // namespace bsonpipe::pipeline
