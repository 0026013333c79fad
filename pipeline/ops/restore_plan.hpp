// Restore planning: which namespaces a dump (directory, single .bson file or archive prelude)
// holds, which of them mongorestore's rules restore or skip, where each one goes (--nsFrom/--nsTo)
// and how its metadata becomes create options and createIndexes specs. No network, no threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/archive.hpp"
#include "formats/dump_layout.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"
#include "pipeline/core/namespaces.hpp"

namespace bsonpipe::pipeline {

// What the user asked to restore, as far as planning is concerned.
struct PlanOptions {
  std::string db;          // --db: with a directory, that directory is one database's dump
  std::string collection;  // --collection: with a .bson file (default: the file's stem)
  std::vector<std::string> ns_include;
  std::vector<std::string> ns_exclude;
  std::vector<std::string> ns_from;  // paired with ns_to, same length
  std::vector<std::string> ns_to;
  bool restore_users_and_roles = false;  // --restoreDbUsersAndRoles (pipeline/ops/users_roles.hpp)
  bool oplog_replay = false;             // --oplogReplay (pipeline/ops/oplog_replay.hpp)
};

enum class TargetKind : std::uint8_t { kCollection, kView, kTimeseries };

// One namespace to restore.
struct RestoreTarget {
  std::string source_db;
  std::string source_collection;
  std::string db;  // after --nsFrom/--nsTo
  std::string collection;
  TargetKind kind = TargetKind::kCollection;
  formats::CollectionMetadata metadata;  // empty when there was no metadata file
  bool has_metadata = false;
  // Directory dumps: the data file ("" when there is only metadata). Its compression comes from
  // its name, or from its first bytes.
  std::filesystem::path data_file;
  formats::Compression compression = formats::Compression::kNone;
  std::uint64_t data_file_size = 0;
  // Where the documents go: normally db.collection; a timeseries collection's buckets go to
  // db.system.buckets.<collection>.
  std::string data_collection;

  std::string source_ns() const { return source_db + "." + source_collection; }
  std::string ns() const { return db + "." + collection; }
};

struct Plan {
  std::vector<RestoreTarget> targets;
  // One line per thing skipped, in mongorestore's words ("skipping file ...", "not restoring
  // system collection ...").
  std::vector<std::string> skipped;
  // An oplog.bson (directory) or oplog entry (archive) is present.
  bool has_oplog = false;
  std::filesystem::path oplog_file;
};

// Why a namespace is left out, or nullopt to restore it (system.profile, system.indexes, the
// admin users/roles/version collections, config/local internals, ...).
std::optional<std::string> skip_reason(std::string_view db, std::string_view collection, const PlanOptions& opts);

// Applies include/exclude/--db/--collection (on source names) and renames. Namespaces that are
// filtered out return nullopt; renamed names are checked with archive::validate_namespace.
class NamespaceMapper {
 public:
  static Result<NamespaceMapper> create(const PlanOptions& opts);
  bool selected(std::string_view db, std::string_view collection) const;
  Result<std::pair<std::string, std::string>> target(std::string_view db, std::string_view collection) const;

 private:
  NsFilter filter_;
  NsRenamer renamer_;
};

// Scans a directory dump (root, or one database's directory with opts.db) or one .bson file
// (with opts.db, opts.collection defaulting to the file's stem). Reads and parses every
// metadata.json it plans to use: bad JSON fails naming the file. Lists and reads through
// `storage`; "-" is one collection's documents on standard input.
Result<Plan> plan_directory(const std::filesystem::path& input, const PlanOptions& opts,
                            io::Storage& storage = io::local_storage());

// Targets from an archive's prelude (entries in prelude order). The oplog entry sets has_oplog.
Result<Plan> plan_archive(const formats::archive::Prelude& prelude, const PlanOptions& opts);

// How index specs from metadata.json are sent to createIndexes.
struct IndexSpecOptions {
  bool keep_index_version = false;      // keep "v" (default: drop it, the server picks its own)
  bool convert_legacy_indexes = false;  // rewrite legacy key values, drop options the server rejects
};

// The specs to create for a collection: every index but _id_, without "ns", prepared per opts.
// Fails naming the index when a spec has no usable key or name.
Result<std::vector<formats::Bytes>> prepare_index_specs(const std::vector<formats::Bytes>& indexes,
                                                        const IndexSpecOptions& opts);

// The create command's options from metadata: options minus what the server fills itself.
// `uuid` (from metadata) is included only when `preserve_uuid`.
formats::Bytes prepare_create_options(const formats::CollectionMetadata& m, bool preserve_uuid);

// Compares two index specs as createIndexes would (ignoring v, ns and field order of options).
bool same_index_spec(formats::DocView a, formats::DocView b);

}  // namespace bsonpipe::pipeline
