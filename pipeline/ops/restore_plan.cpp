#include "pipeline/ops/restore_plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "formats/manifest.hpp"
#include "io/compress.hpp"
#include "io/storage.hpp"

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

// Reads a whole (small) file, decompressing it when its name or its magic says so.
Result<std::string> read_small_file(io::Storage& storage, const fs::path& p, Compression c) {
  auto reader = storage.open(p);
  if (!reader) return reader.status();
  Bytes raw;
  std::uint8_t buf[64 * 1024];
  for (;;) {
    auto n = (*reader)->read(buf, sizeof buf);
    if (!n) return n.status();
    if (*n == 0) break;
    raw.insert(raw.end(), buf, buf + *n);
    if (raw.size() > 64 * 1024 * 1024) return Status{ErrorCode::kInvalidArgument, p.string() + ": file too large"};
  }
  io::Codec codec = c;
  if (codec == io::Codec::kNone) codec = io::detect_codec(raw);
  if (codec == io::Codec::kNone) return std::string(raw.begin(), raw.end());
  auto dec = io::StreamDecompressor::create(codec);
  Bytes out;
  if (auto s = dec->feed(raw, out); !s) return Status{s.code(), p.string() + ": " + s.to_string()};
  if (auto s = dec->finish(); !s) return Status{s.code(), p.string() + ": " + s.to_string()};
  return std::string(out.begin(), out.end());
}

Result<CollectionMetadata> read_metadata(io::Storage& storage, const fs::path& p, Compression c) {
  auto text = read_small_file(storage, p, c);
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

std::uint64_t file_size_or_zero(io::Storage& storage, const fs::path& p) {
  auto n = storage.size(p);
  return n ? *n : 0;
}

// Files of one database directory grouped by stem.
struct StemFiles {
  fs::path bson;
  Compression bson_compression = Compression::kNone;
  std::uint64_t bson_size = 0;
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

// The files of one database directory by stem (subdirectories and unknown names are skipped).
Result<std::map<std::string, StemFiles>> list_stems(io::Storage& storage, const fs::path& dir, Plan& plan) {
  auto entries = storage.list(dir);  // sorted by name
  if (!entries) return entries.status();
  std::map<std::string, StemFiles> stems;
  for (const auto& e : *entries) {
    fs::path path = dir / e.name;
    if (e.directory) {
      plan.skipped.push_back("don't know what to do with subdirectory \"" + path.string() + "\", skipping...");
      continue;
    }
    auto split = formats::split_dump_file_name(e.name);
    if (!split) {
      plan.skipped.push_back("don't know what to do with file \"" + path.string() + "\", skipping...");
      continue;
    }
    StemFiles& sf = stems[split->stem];
    if (split->kind == formats::DumpFileKind::kBson) {
      sf.bson = path;
      sf.bson_compression = split->compression;
      sf.bson_size = e.size;
    } else {
      sf.metadata = path;
      sf.metadata_compression = split->compression;
    }
  }
  return stems;
}

Status scan_database_dir(io::Storage& storage, const fs::path& dir, const std::string& db,
                         const NamespaceMapper& mapper, const PlanOptions& opts, Plan& plan) {
  if (auto s = formats::archive::validate_namespace(db, "x"); !s)
    return Status{ErrorCode::kInvalidArgument,
                  "invalid database name \"" + db + "\" (directory " + dir.string() + "): " + s.message()};
  auto listed = list_stems(storage, dir, plan);
  if (!listed) return listed.status();
  std::map<std::string, StemFiles>& stems = *listed;

  // Timeseries buckets files, attached to their collection's target afterwards.
  struct BucketsFile {
    fs::path path;
    Compression compression;
    std::uint64_t size;
  };
  std::map<std::string, BucketsFile> buckets;
  std::vector<RestoreTarget> found;
  for (auto& [stem, sf] : stems) {
    RestoreTarget t;
    t.source_db = db;
    if (!sf.metadata.empty()) {
      auto md = read_metadata(storage, sf.metadata, sf.metadata_compression);
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
      buckets[t.source_collection.substr(kBuckets.size())] = {sf.bson, sf.bson_compression, sf.bson_size};
      continue;
    }
    t.kind = kind_of(t.metadata);
    if (t.kind != TargetKind::kView && !sf.bson.empty()) {
      t.data_file = sf.bson;
      t.compression = sf.bson_compression;
      t.data_file_size = sf.bson_size;
    }
    found.push_back(std::move(t));
  }
  for (auto& t : found) {
    if (t.kind != TargetKind::kTimeseries) continue;
    auto it = buckets.find(t.source_collection);
    if (it == buckets.end()) continue;
    t.data_file = it->second.path;
    t.compression = it->second.compression;
    t.data_file_size = it->second.size;
    buckets.erase(it);
  }
  for (auto& [coll, file] : buckets)
    plan.skipped.push_back("not restoring \"" + file.path.string() + "\": no timeseries metadata for " + db + "." +
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

namespace {

// The mappers of a directory or file restore: --db/--collection name the target of a directory
// or file, they are not a filter there.
struct DirectoryMappers {
  NamespaceMapper all;     // the user's filters and renames
  NamespaceMapper folder;  // without --db/--collection
  NamespaceMapper file;    // one collection's file: no include, exclude or rename either
};

Result<DirectoryMappers> directory_mappers(const PlanOptions& opts) {
  auto mapper = NamespaceMapper::create(opts);
  if (!mapper) return mapper.status();
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
  return DirectoryMappers{std::move(*mapper), std::move(*open_mapper), std::move(*file_mapper)};
}

// "-": one collection's documents (a bare .bson stream) on standard input, as mongorestore reads
// it: --db and --collection name the target (checked by the command line too).
Result<Plan> plan_stdin(const fs::path& input, const PlanOptions& opts, const NamespaceMapper& file_mapper) {
  if (opts.collection.empty())
    return Status{ErrorCode::kInvalidArgument, "cannot restore from stdin without a specified collection"};
  if (opts.db.empty())
    return Status{ErrorCode::kInvalidArgument, "cannot restore a collection without a specified database"};
  Plan plan;
  RestoreTarget t;
  t.source_db = opts.db;
  t.source_collection = opts.collection;
  if (auto s = formats::archive::validate_namespace(t.source_db, t.source_collection); !s)
    return Status{ErrorCode::kInvalidArgument, "invalid namespace " + t.source_ns() + ": " + s.message()};
  t.data_file = input;
  if (auto s = add_target(plan, file_mapper, opts, std::move(t)); !s) return s;
  return plan;
}

// One .bson file, with its sibling metadata file when there is one (as mongorestore).
Result<Plan> plan_file(io::Storage& storage, const fs::path& input, const PlanOptions& opts,
                       const NamespaceMapper& file_mapper) {
  auto split = formats::split_dump_file_name(input.filename().string());
  if (!split || split->kind != formats::DumpFileKind::kBson)
    return Status{ErrorCode::kInvalidArgument,
                  input.string() + ": not a .bson file (expected <collection>.bson[.gz|.zst])"};
  Plan plan;
  RestoreTarget t;
  t.source_db = opts.db.empty() ? "test" : opts.db;
  if (opts.db.empty()) plan.skipped.push_back("no --db given: restoring " + input.string() + " into database \"test\"");
  for (const formats::CodecInfo& info : formats::codecs()) {
    Compression c = info.codec;
    fs::path m = input.parent_path() / (split->stem + ".metadata.json" + std::string(info.suffix));
    auto there = storage.exists(m);
    if (!there) return there.status();
    if (*there) {
      auto md = read_metadata(storage, m, c);
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
  t.data_file_size = file_size_or_zero(storage, input);
  if (auto s = add_target(plan, file_mapper, opts, std::move(t)); !s) return s;
  return plan;
}

// A dump's root directory: one directory per database, oplog.bson, our own files.
Status plan_root(io::Storage& storage, const fs::path& input, const PlanOptions& opts, const NamespaceMapper& mapper,
                 Plan& plan) {
  auto entries = storage.list(input);  // sorted by name
  if (!entries) return entries.status();
  for (const auto& e : *entries) {
    const std::string& name = e.name;
    fs::path path = input / name;
    if (e.directory) {
      // Files bundled with --include-path (restored by --restore-paths, not as a database).
      if (name == formats::kBundleDir) continue;
      if (auto s = scan_database_dir(storage, path, name, mapper, opts, plan); !s) return s;
      continue;
    }
    auto split = formats::split_dump_file_name(name);
    if (split && split->kind == formats::DumpFileKind::kBson && split->stem == "oplog") {
      plan.has_oplog = true;
      plan.oplog_file = path;
      continue;
    }
    if (name == "prelude.json" || name == "prelude.json.gz" || name == "prelude.json.zst" || name == "manifest.json")
      continue;
    // Our restore journal (--resume) and its temporary name while being created.
    if (name.starts_with(".bsonpipe-restore-journal")) continue;
    plan.skipped.push_back("don't know what to do with file \"" + path.string() + "\", skipping...");
  }
  return {};
}

}  // namespace

Result<Plan> plan_directory(const fs::path& input, const PlanOptions& opts, io::Storage& storage) {
  auto mappers = directory_mappers(opts);
  if (!mappers) return mappers.status();
  if (input == "-") return plan_stdin(input, opts, mappers->file);
  auto there = storage.exists(input);
  if (!there) return there.status();
  if (!*there) return Status{ErrorCode::kIo, input.string() + ": no such file or directory"};
  auto dir = storage.is_directory(input);
  if (!dir) return dir.status();
  if (!*dir) return plan_file(storage, input, opts, mappers->file);
  if (!opts.collection.empty() && opts.db.empty())
    return Status{ErrorCode::kInvalidArgument, "--collection needs --db (or use --nsInclude)"};

  Plan plan;
  if (!opts.db.empty()) {
    // A database folder alone: --db's `<db>.*` joins the includes (so every name of the folder is
    // included, whatever --nsInclude says), as mongorestore's CreateIntentsForDB.
    const NamespaceMapper& folder_mapper = opts.collection.empty() ? mappers->all : mappers->folder;
    if (auto s = scan_database_dir(storage, input, opts.db, folder_mapper, opts, plan); !s) return s;
    if (!opts.collection.empty()) {
      std::erase_if(plan.targets, [&](const RestoreTarget& t) { return t.source_collection != opts.collection; });
    }
    return plan;
  }
  if (auto s = plan_root(storage, input, opts, mappers->all, plan); !s) return s;
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

}  // namespace bsonpipe::pipeline
