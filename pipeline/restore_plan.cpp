#include "pipeline/restore_plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "formats/manifest.hpp"
#include "io/compress.hpp"
#include "io/file.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::CollectionMetadata;
using formats::Compression;
using formats::DocView;
using formats::ElementView;

namespace {

constexpr std::string_view kBuckets = "system.buckets.";

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

io::Codec codec_of(Compression c) {
  switch (c) {
    case Compression::kGzip: return io::Codec::kGzip;
    case Compression::kZstd: return io::Codec::kZstd;
    case Compression::kNone: break;
  }
  return io::Codec::kNone;
}

// Reads a whole (small) file, decompressing it when its name or its magic says so.
Result<std::string> read_small_file(const fs::path& p, Compression c) {
  auto reader = io::FileReader::open(p);
  if (!reader) return reader.status();
  Bytes raw;
  std::uint8_t buf[64 * 1024];
  for (;;) {
    auto n = reader->read(buf, sizeof buf);
    if (!n) return n.status();
    if (*n == 0) break;
    raw.insert(raw.end(), buf, buf + *n);
    if (raw.size() > 64 * 1024 * 1024) return Status{ErrorCode::kInvalidArgument, p.string() + ": file too large"};
  }
  io::Codec codec = codec_of(c);
  if (codec == io::Codec::kNone) codec = io::detect_codec(raw);
  if (codec == io::Codec::kNone) return std::string(raw.begin(), raw.end());
  auto dec = io::StreamDecompressor::create(codec);
  Bytes out;
  if (auto s = dec->feed(raw, out); !s) return Status{s.code(), p.string() + ": " + s.to_string()};
  if (auto s = dec->finish(); !s) return Status{s.code(), p.string() + ": " + s.to_string()};
  return std::string(out.begin(), out.end());
}

Result<CollectionMetadata> read_metadata(const fs::path& p, Compression c) {
  auto text = read_small_file(p, c);
  if (!text) return text.status();
  auto md = formats::parse_collection_metadata(*text);
  if (!md) return Status{ErrorCode::kInvalidJson, p.string() + ": bad metadata: " + md.status().to_string()};
  return md;
}

bool has_view_on(const CollectionMetadata& m) {
  return !m.options.empty() && DocView(m.options).find("viewOn").valid();
}

TargetKind kind_of(const CollectionMetadata& m) {
  if (m.type == "view" || has_view_on(m)) return TargetKind::kView;
  if (m.type == "timeseries" || (!m.options.empty() && DocView(m.options).find("timeseries").valid()))
    return TargetKind::kTimeseries;
  return TargetKind::kCollection;
}

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Files of one database directory grouped by stem.
struct StemFiles {
  fs::path bson;
  Compression bson_compression = Compression::kNone;
  fs::path metadata;
  Compression metadata_compression = Compression::kNone;
};

Status add_target(Plan& plan, const NamespaceMapper& mapper, const PlanOptions& opts, RestoreTarget t) {
  if (!mapper.selected(t.source_db, t.source_collection)) return {};
  if (auto why = skip_reason(t.source_db, t.source_collection, opts)) {
    plan.skipped.push_back(*why);
    return {};
  }
  // A name no server accepts (a dump's file name decodes to any bytes) cannot be restored; the
  // other namespaces still are.
  if (auto s = formats::archive::validate_namespace(t.source_db, t.source_collection); !s) {
    plan.skipped.push_back("skipping " + t.source_ns() + ": a server would refuse it (" + s.message() + ")");
    return {};
  }
  auto to = mapper.target(t.source_db, t.source_collection);
  if (!to) return to.status();
  t.db = to->first;
  t.collection = to->second;
  t.data_collection = t.kind == TargetKind::kTimeseries ? std::string(kBuckets) + t.collection : t.collection;
  if (t.kind == TargetKind::kTimeseries) {
    if (auto s = formats::archive::validate_namespace(t.db, t.data_collection); !s)
      return Status{ErrorCode::kInvalidArgument,
                    "invalid target namespace " + t.db + "." + t.data_collection + ": " + s.message()};
  }
  plan.targets.push_back(std::move(t));
  return {};
}

Status scan_database_dir(const fs::path& dir, const std::string& db, const NamespaceMapper& mapper,
                         const PlanOptions& opts, Plan& plan) {
  if (auto s = formats::archive::validate_namespace(db, "x"); !s)
    return Status{ErrorCode::kInvalidArgument,
                  "invalid database name \"" + db + "\" (directory " + dir.string() + "): " + s.message()};
  std::map<std::string, StemFiles> stems;
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e);
  if (ec) return Status{ErrorCode::kIo, dir.string() + ": " + ec.message()};
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    std::string name = e.path().filename().string();
    if (e.is_directory()) {
      plan.skipped.push_back("don't know what to do with subdirectory \"" + e.path().string() + "\", skipping...");
      continue;
    }
    auto split = formats::split_dump_file_name(name);
    if (!split) {
      plan.skipped.push_back("don't know what to do with file \"" + e.path().string() + "\", skipping...");
      continue;
    }
    StemFiles& sf = stems[split->stem];
    if (split->kind == formats::DumpFileKind::kBson) {
      sf.bson = e.path();
      sf.bson_compression = split->compression;
    } else {
      sf.metadata = e.path();
      sf.metadata_compression = split->compression;
    }
  }

  // Timeseries buckets files, attached to their collection's target afterwards.
  std::map<std::string, std::pair<fs::path, Compression>> buckets;
  std::vector<RestoreTarget> found;
  for (auto& [stem, sf] : stems) {
    RestoreTarget t;
    t.source_db = db;
    if (!sf.metadata.empty()) {
      auto md = read_metadata(sf.metadata, sf.metadata_compression);
      if (!md) return md.status();
      t.metadata = std::move(*md);
      t.has_metadata = true;
    }
    auto coll = formats::collection_from_stem(stem, t.metadata.collection_name);
    if (!coll) {
      const fs::path& f = sf.bson.empty() ? sf.metadata : sf.bson;
      return Status{ErrorCode::kInvalidArgument,
                    f.string() + ": bad collection file name: " + coll.status().to_string()};
    }
    t.source_collection = *coll;
    if (starts_with(t.source_collection, kBuckets) && !sf.bson.empty()) {
      buckets[t.source_collection.substr(kBuckets.size())] = {sf.bson, sf.bson_compression};
      continue;
    }
    t.kind = kind_of(t.metadata);
    if (t.kind != TargetKind::kView && !sf.bson.empty()) {
      t.data_file = sf.bson;
      t.compression = sf.bson_compression;
      t.data_file_size = file_size_or_zero(sf.bson);
    }
    found.push_back(std::move(t));
  }
  for (auto& t : found) {
    if (t.kind != TargetKind::kTimeseries) continue;
    auto it = buckets.find(t.source_collection);
    if (it == buckets.end()) continue;
    t.data_file = it->second.first;
    t.compression = it->second.second;
    t.data_file_size = file_size_or_zero(t.data_file);
    buckets.erase(it);
  }
  for (auto& [coll, file] : buckets)
    plan.skipped.push_back("not restoring \"" + file.first.string() + "\": no timeseries metadata for " + db + "." +
                           coll);
  for (auto& t : found)
    if (auto s = add_target(plan, mapper, opts, std::move(t)); !s) return s;
  return {};
}

}  // namespace

std::optional<std::string> skip_reason(std::string_view db, std::string_view coll, const PlanOptions&) {
  std::string ns = std::string(db) + "." + std::string(coll);
  if (coll == "system.profile" || coll == "system.indexes") return "not restoring system collection " + ns;
  if (db == "admin" && (coll == "system.users" || coll == "system.roles" || coll == "system.version" ||
                        coll == "system.new_users" || coll == "system.backup_users"))
    return "not restoring users, roles and auth schema in " + ns +
           " (they are restored with --restoreDbUsersAndRoles, or by a full restore)";
  if (db == "config" && (coll == "system.sessions" || coll == "transactions" || coll == "image_collection" ||
                         coll == "system.indexBuilds" || starts_with(coll, "cache.")))
    return "not restoring internal collection " + ns;
  if (db == "local" &&
      (coll == "oplog.rs" || coll == "startup_log" || coll == "system.replset" || starts_with(coll, "replset.")))
    return "not restoring internal collection " + ns;
  if (starts_with(coll, "system.") && coll != "system.js" && !starts_with(coll, kBuckets))
    return "not restoring system collection " + ns;
  return std::nullopt;
}

Result<NamespaceMapper> NamespaceMapper::create(const PlanOptions& opts) {
  NamespaceMapper m;
  // --db (and --collection) join the includes as mongorestore adds them, `<db>.*` or
  // `<db>.<collection>` (the collection unescaped there, so a `*` in it is a wildcard).
  std::vector<std::string> includes = opts.ns_include;
  if (!opts.db.empty())
    includes.push_back(escape_namespace_pattern(opts.db) + "." + (opts.collection.empty() ? "*" : opts.collection));
  for (auto& p : includes)
    if (auto s = m.filter_.include(p); !s) return Status{s.code(), "invalid --nsInclude " + s.message()};
  for (auto& p : opts.ns_exclude)
    if (auto s = m.filter_.exclude(p); !s) return Status{s.code(), "invalid --nsExclude " + s.message()};
  auto renamer = NsRenamer::create(opts.ns_from, opts.ns_to);
  if (!renamer) return Status{renamer.status().code(), "invalid rename: " + renamer.status().message()};
  m.renamer_ = std::move(*renamer);
  return m;
}

bool NamespaceMapper::selected(std::string_view db, std::string_view collection) const {
  return filter_.allows(std::string(db) + "." + std::string(collection));
}

Result<std::pair<std::string, std::string>> NamespaceMapper::target(std::string_view db,
                                                                    std::string_view collection) const {
  std::string ns = std::string(db) + "." + std::string(collection);
  const std::string renamed = renamer_.rename(ns);
  auto [d, c] = split_namespace(renamed);
  if (auto s = formats::archive::validate_namespace(d, c); !s)
    return Status{ErrorCode::kInvalidArgument,
                  "invalid target namespace \"" + renamed + "\" (from " + ns + "): " + s.message()};
  return std::pair{std::string(d), std::string(c)};
}

Result<Plan> plan_directory(const fs::path& input, const PlanOptions& opts) {
  auto mapper = NamespaceMapper::create(opts);
  if (!mapper) return mapper.status();
  // --db/--collection name the target of a directory or file, they are not a filter here.
  PlanOptions unfiltered = opts;
  unfiltered.db.clear();
  unfiltered.collection.clear();
  auto open_mapper = NamespaceMapper::create(unfiltered);
  if (!open_mapper) return open_mapper.status();
  // One collection's file (or stdin) goes to --db.--collection as given: mongorestore applies no
  // include, exclude or rename there (CreateIntentForCollection).
  PlanOptions bare = unfiltered;
  bare.ns_include.clear();
  bare.ns_exclude.clear();
  bare.ns_from.clear();
  bare.ns_to.clear();
  auto file_mapper = NamespaceMapper::create(bare);
  if (!file_mapper) return file_mapper.status();

  Plan plan;
  // "-": one collection's documents (a bare .bson stream) on standard input, as mongorestore reads
  // it: --db and --collection name the target (checked by the command line too).
  if (input == "-") {
    if (opts.collection.empty())
      return Status{ErrorCode::kInvalidArgument, "cannot restore from stdin without a specified collection"};
    if (opts.db.empty())
      return Status{ErrorCode::kInvalidArgument, "cannot restore a collection without a specified database"};
    RestoreTarget t;
    t.source_db = opts.db;
    t.source_collection = opts.collection;
    if (auto s = formats::archive::validate_namespace(t.source_db, t.source_collection); !s)
      return Status{ErrorCode::kInvalidArgument, "invalid namespace " + t.source_ns() + ": " + s.message()};
    t.data_file = input;
    if (auto s = add_target(plan, *file_mapper, opts, std::move(t)); !s) return s;
    return plan;
  }
  std::error_code ec;
  auto st = fs::status(input, ec);
  if (ec || !fs::exists(st)) return Status{ErrorCode::kIo, input.string() + ": no such file or directory"};

  if (fs::is_regular_file(st)) {
    auto split = formats::split_dump_file_name(input.filename().string());
    if (!split || split->kind != formats::DumpFileKind::kBson)
      return Status{ErrorCode::kInvalidArgument,
                    input.string() + ": not a .bson file (expected <collection>.bson[.gz|.zst])"};
    RestoreTarget t;
    t.source_db = opts.db.empty() ? "test" : opts.db;
    if (opts.db.empty())
      plan.skipped.push_back("no --db given: restoring " + input.string() + " into database \"test\"");
    // A sibling metadata file is used, as mongorestore does.
    for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
      fs::path m = input.parent_path() / (split->stem + ".metadata.json" + std::string(formats::compression_suffix(c)));
      if (fs::exists(m, ec)) {
        auto md = read_metadata(m, c);
        if (!md) return md.status();
        t.metadata = std::move(*md);
        t.has_metadata = true;
        break;
      }
    }
    if (!opts.collection.empty()) {
      t.source_collection = opts.collection;
    } else {
      auto coll = formats::collection_from_stem(split->stem, t.metadata.collection_name);
      if (!coll) return Status{ErrorCode::kInvalidArgument, input.string() + ": " + coll.status().to_string()};
      t.source_collection = *coll;
    }
    if (auto s = formats::archive::validate_namespace(t.source_db, t.source_collection); !s)
      return Status{ErrorCode::kInvalidArgument, "invalid namespace " + t.source_ns() + ": " + s.message()};
    t.kind = kind_of(t.metadata) == TargetKind::kView ? TargetKind::kView : TargetKind::kCollection;
    t.data_file = input;
    t.compression = split->compression;
    t.data_file_size = file_size_or_zero(input);
    if (auto s = add_target(plan, *file_mapper, opts, std::move(t)); !s) return s;
    return plan;
  }
  if (!fs::is_directory(st)) return Status{ErrorCode::kInvalidArgument, input.string() + ": not a file or directory"};
  if (!opts.collection.empty() && opts.db.empty())
    return Status{ErrorCode::kInvalidArgument, "--collection needs --db (or use --nsInclude)"};

  if (!opts.db.empty()) {
    // A database folder alone: --db's `<db>.*` joins the includes (so every name of the folder is
    // included, whatever --nsInclude says), as mongorestore's CreateIntentsForDB.
    const NamespaceMapper& folder_mapper = opts.collection.empty() ? *mapper : *open_mapper;
    if (auto s = scan_database_dir(input, opts.db, folder_mapper, opts, plan); !s) return s;
    if (!opts.collection.empty()) {
      std::erase_if(plan.targets, [&](const RestoreTarget& t) { return t.source_collection != opts.collection; });
    }
    return plan;
  }

  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(input, ec)) entries.push_back(e);
  if (ec) return Status{ErrorCode::kIo, input.string() + ": " + ec.message()};
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    std::string name = e.path().filename().string();
    if (e.is_directory()) {
      // Files bundled with --include-path (restored by --restore-paths, not as a database).
      if (name == formats::kBundleDir) continue;
      if (auto s = scan_database_dir(e.path(), name, *mapper, opts, plan); !s) return s;
      continue;
    }
    auto split = formats::split_dump_file_name(name);
    if (split && split->kind == formats::DumpFileKind::kBson && split->stem == "oplog") {
      plan.has_oplog = true;
      plan.oplog_file = e.path();
      continue;
    }
    if (name == "prelude.json" || name == "prelude.json.gz" || name == "prelude.json.zst" || name == "manifest.json")
      continue;
    // Our restore journal (--resume) and its temporary name while being created.
    if (name.starts_with(".bsonpipe-restore-journal")) continue;
    plan.skipped.push_back("don't know what to do with file \"" + e.path().string() + "\", skipping...");
  }
  return plan;
}

Result<Plan> plan_archive(const formats::archive::Prelude& prelude, const PlanOptions& opts) {
  auto mapper = NamespaceMapper::create(opts);
  if (!mapper) return mapper.status();
  Plan plan;
  for (const auto& e : prelude.collections) {
    if (e.is_oplog()) {
      plan.has_oplog = true;
      continue;
    }
    RestoreTarget t;
    t.source_db = e.db;
    t.source_collection = e.collection;
    if (!e.metadata.empty()) {
      auto md = formats::parse_collection_metadata(e.metadata);
      if (!md)
        return Status{ErrorCode::kInvalidJson, "archive metadata of " + e.ns() + " (at offset " +
                                                   std::to_string(e.offset) + "): " + md.status().to_string()};
      t.metadata = std::move(*md);
      t.has_metadata = true;
    }
    if (t.metadata.type.empty()) t.metadata.type = e.type;
    t.kind = kind_of(t.metadata);
    t.data_file_size = static_cast<std::uint64_t>(std::max<std::int64_t>(e.size, 0));
    if (auto s = add_target(plan, *mapper, opts, std::move(t)); !s) return s;
  }
  return plan;
}

namespace {

bool is_special_index_type(std::string_view s) {
  return s == "2d" || s == "2dsphere" || s == "geoHaystack" || s == "hashed" || s == "text" || s == "columnstore" ||
         s == "wildcard";
}

const std::set<std::string_view>& valid_index_options() {
  static const std::set<std::string_view> k{"key",
                                            "name",
                                            "v",
                                            "unique",
                                            "sparse",
                                            "background",
                                            "expireAfterSeconds",
                                            "partialFilterExpression",
                                            "storageEngine",
                                            "collation",
                                            "weights",
                                            "default_language",
                                            "language_override",
                                            "textIndexVersion",
                                            "2dsphereIndexVersion",
                                            "bits",
                                            "min",
                                            "max",
                                            "bucketSize",
                                            "wildcardProjection",
                                            "hidden",
                                            "prepareUnique",
                                            "clustered",
                                            "columnstoreProjection",
                                            "originalSpec"};
  return k;
}

Bytes convert_legacy_key(DocView key) {
  Builder b;
  for (auto e : key) {
    switch (e.type()) {
      case BsonType::kInt32:
      case BsonType::kInt64:
      case BsonType::kDouble: {
        double v = e.number_as_double();
        b.append_int32(e.key(), v < 0 ? -1 : 1);
        break;
      }
      case BsonType::kString:
        if (is_special_index_type(e.as_string()))
          b.append_raw_element(e.raw());
        else
          b.append_int32(e.key(), 1);
        break;
      default: b.append_int32(e.key(), 1);
    }
  }
  return b.finish();
}

}  // namespace

Result<std::vector<Bytes>> prepare_index_specs(const std::vector<Bytes>& indexes, const IndexSpecOptions& opts) {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    DocView spec(indexes[i]);
    ElementView name = spec.find("name");
    ElementView key = spec.find("key");
    if (!name.valid() || name.type() != BsonType::kString || name.as_string().empty())
      return Status{ErrorCode::kInvalidArgument, "index #" + std::to_string(i) + " has no name"};
    if (!key.valid() || key.type() != BsonType::kDocument || key.as_document().empty())
      return Status{ErrorCode::kInvalidArgument, "index " + std::string(name.as_string()) + " has no key"};
    if (name.as_string() == "_id_") continue;  // comes with the collection
    Builder b;
    for (auto e : spec) {
      if (e.key() == "ns") continue;
      if (e.key() == "v" && !opts.keep_index_version) continue;
      if (opts.convert_legacy_indexes) {
        if (!valid_index_options().contains(e.key())) continue;
        if (e.key() == "key") {
          Bytes k = convert_legacy_key(e.as_document());
          b.append_document("key", DocView(k));
          continue;
        }
      }
      b.append_raw_element(e.raw());
    }
    out.push_back(b.finish());
  }
  return out;
}

Bytes prepare_create_options(const CollectionMetadata& m, bool preserve_uuid) {
  Builder b;
  if (!m.options.empty())
    for (auto e : DocView(m.options)) b.append_raw_element(e.raw());
  if (preserve_uuid && m.uuid.size() == 32) {
    Bytes uuid;
    for (std::size_t i = 0; i < 32; i += 2)
      uuid.push_back(static_cast<std::uint8_t>(std::stoi(m.uuid.substr(i, 2), nullptr, 16)));
    b.append_binary("uuid", 4, uuid);
  }
  return b.finish();
}

bool same_index_spec(DocView a, DocView b) {
  auto fields = [](DocView d) {
    std::map<std::string, ElementView, std::less<>> m;
    for (auto e : d)
      if (e.key() != "v" && e.key() != "ns" && e.key() != "background") m.emplace(std::string(e.key()), e);
    return m;
  };
  auto fa = fields(a), fb = fields(b);
  if (fa.size() != fb.size()) return false;
  for (auto& [k, ea] : fa) {
    auto it = fb.find(k);
    if (it == fb.end()) return false;
    const ElementView& eb = it->second;
    if (k == "key") {
      // Key order matters; numeric types do not (1 == 1.0).
      if (ea.type() != BsonType::kDocument || eb.type() != BsonType::kDocument) return false;
      auto da = ea.as_document(), db = eb.as_document();
      auto ia = da.begin(), ib = db.begin();
      for (; ia != da.end() && ib != db.end(); ++ia, ++ib)
        if ((*ia).key() != (*ib).key() || formats::compare_values(*ia, *ib) != 0) return false;
      if (ia != da.end() || ib != db.end()) return false;
      continue;
    }
    if (formats::compare_values(ea, eb) != 0) return false;
  }
  return true;
}

}  // namespace bsonpipe::pipeline
