// The catalog of nightly dumps: ROOT/<UTC timestamp>/ directory dumps written under a lock
// (`dump --catalog`), listed, removed and pruned with GFS-style retention (`bsonpipe catalog`),
// and found again by id for `restore --catalog ROOT --id ID|latest`.
//
// Layout: ROOT/.lock (Storage::try_lock'd by the one writer; its holder text says "pid host
// time id" for messages), ROOT/<id>.partial/ while a dump is staged, ROOT/<id>/ once moved into
// place (complete when its manifest.json says so: the manifest is written last),
// ROOT/.verified/<id>.json (optional, a verify report: the entry shows as "verified"). Ids look
// like 2026-11-22T01-00-00Z, with "-N" appended when a dump in the same second already has that id.
//
// Storage: every file of the catalog (the listing, manifests, the lock, removals) goes through an
// io::Storage; each function takes `io::Storage* storage` (null = io::local_storage();
// run_catalog_dump uses DumpOptions::storage). The code is split over catalog.cpp (ids,
// listing), catalog_lock.cpp, catalog_prune.cpp (remove, prune) and catalog_backup.cpp (catalog
// dumps, --backup-first and its undo).
//
// Threading: every function may be called from any thread; two writers are kept apart by the
// lock (Storage::try_lock), not by anything in this process.
//
// A `restore --backup-first` backup also records, in its manifest.json under
// "absentNamespaces", the restore's target namespaces that did not exist on the target when the
// backup was taken: restoring that backup with --drop (the undo) drops them again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/restore.hpp"

namespace bsonpipe::pipeline {

inline constexpr std::string_view kCatalogLockName = ".lock";
inline constexpr std::string_view kCatalogVerifiedDir = ".verified";
// The manifest key of a --backup-first backup's absent namespaces (an array of "db.collection").
inline constexpr std::string_view kAbsentNamespacesKey = "absentNamespaces";

// Who holds a catalog's lock (as written in the lock file by the holder).
struct CatalogLockHolder {
  long pid = 0;
  std::string host;
  std::string since;              // UTC, ISO 8601
  std::string id;                 // the dump being written ("" while the id is being chosen)
  std::string to_string() const;  // "pid 123 on host h since 2026-... writing <id>"
};

// The catalog's write lock: Storage::try_lock on ROOT/.lock (locally an exclusive flock, the
// kernel's, so a crashed holder never leaves a stale lock behind), held until destruction or
// release(). Threading: one thread at a time per object.
class CatalogLock {
 public:
  CatalogLock() = default;
  CatalogLock(CatalogLock&& o) noexcept;
  CatalogLock& operator=(CatalogLock&& o) noexcept;
  CatalogLock(const CatalogLock&) = delete;
  CatalogLock& operator=(const CatalogLock&) = delete;
  ~CatalogLock();

  // Creates ROOT if needed and takes the lock without waiting; fails (kInvalidArgument) naming
  // the holder if another process (or another CatalogLock in this one) has it. `storage`: where
  // the catalog lives (null = io::local_storage()); it must outlive the lock.
  static Result<CatalogLock> acquire(const std::filesystem::path& root, io::Storage* storage = nullptr);
  // Records the id being written in the lock's text (StorageLock::set_holder; for `catalog
  // remove`/`prune` and messages).
  Status set_id(const std::string& id);
  void release();

 private:
  std::unique_ptr<io::StorageLock> lock_;  // null: not held
  std::filesystem::path root_;
};

// The current holder, or nullopt if nobody holds the lock (or there is no lock file, or it
// cannot be read).
std::optional<CatalogLockHolder> catalog_lock_holder(const std::filesystem::path& root, io::Storage* storage = nullptr);

// "2026-11-22T01-00-00Z" for a UTC time in milliseconds since the epoch.
std::string catalog_id_for(std::int64_t utc_ms);
// The UTC milliseconds and the same-second sequence number of an id ("...Z" = 0, "...Z-3" = 3);
// nullopt if `id` is not a catalog id.
std::optional<std::pair<std::int64_t, int>> parse_catalog_id(std::string_view id);

enum class CatalogState : std::uint8_t {
  kComplete,    // manifest.json with complete: true
  kIncomplete,  // a .partial directory, no manifest, complete: false, or an unreadable manifest
  kWriting,     // being written right now (its id is the lock holder's)
};
std::string_view catalog_state_name(CatalogState s);

struct CatalogEntry {
  std::string id;
  std::filesystem::path dir;  // ROOT/<id> or ROOT/<id>.partial
  bool partial = false;       // the directory is ROOT/<id>.partial
  CatalogState state = CatalogState::kIncomplete;
  bool verified = false;     // ROOT/.verified/<id>.json exists (and the entry is complete)
  std::int64_t time_ms = 0;  // the time the id names (UTC ms): when the dump started
  int seq = 0;               // same-second sequence number from the id
  // Bytes of the files under dir, bundled files (bsonpipe_files/) counted from the manifest:
  // their tree may hold symbolic links, which a Storage listing would follow.
  std::uint64_t size = 0;
  std::optional<formats::Manifest> manifest;
  std::string problem;                  // why the manifest could not be read ("" = fine or absent)
  std::vector<std::string> namespaces;  // distinct namespaces in the manifest, sorted
  // --backup-first backups: target namespaces absent when the backup was taken (sorted; empty
  // for ordinary dumps and for manifests written before the list existed).
  std::vector<std::string> absent_namespaces;
  bool complete() const { return state == CatalogState::kComplete; }
};

// Every entry of ROOT (directories named like catalog ids, with or without ".partial"), newest
// first (by time, then sequence number). Other files and directories are ignored.
Result<std::vector<CatalogEntry>> list_catalog(const std::filesystem::path& root, io::Storage* storage = nullptr);

// One entry by id, or "latest" = the newest complete one. Fails naming the id when there is none.
Result<CatalogEntry> find_catalog_entry(const std::filesystem::path& root, const std::string& id,
                                        io::Storage* storage = nullptr);

// The dump `--catalog ROOT --id ID|latest` names (restore, verify): find_catalog_entry, then
// refused (naming its state, for `action`: "restore", "verify") unless it is complete.
Result<CatalogEntry> resolve_catalog_dump(const std::filesystem::path& root, const std::string& id,
                                          std::string_view action, io::Storage* storage = nullptr);

// Removes an entry; refuses one being written (kInvalidArgument naming the lock holder).
Status remove_catalog_entry(const std::filesystem::path& root, const std::string& id, io::Storage* storage = nullptr);

struct PrunePolicy {
  int keep_last = 0;    // the newest N complete dumps
  int keep_daily = 0;   // the newest complete dump of each of the D most recent days (UTC) that have one
  int keep_weekly = 0;  // the newest complete dump of each of the W most recent ISO weeks that have one

  // The checks no prune could pass: every count 0 or more. prune_catalog calls it first.
  [[nodiscard]] Status validate() const;
};

struct PruneDecision {
  CatalogEntry entry;
  bool keep = false;
  std::string reason;  // every rule that keeps it ("last 1", "daily 2026-11-21", ...), or why it goes
};

// What prune would do, entry by entry (newest first). Rules: complete dumps are kept if any of
// keep-last/daily/weekly selects them; the newest complete dump is always kept; an entry being
// written is always kept; other incomplete entries are removed when older than the newest
// complete dump and kept (as possibly still useful) when newer. Pure: reads nothing.
std::vector<PruneDecision> plan_prune(const std::vector<CatalogEntry>& entries, const PrunePolicy& policy);

// Validates the policy, lists, plans and (unless dry_run) removes. Entries found being written at
// removal time are kept. A removal that fails stops the prune with an error naming the path
// (entries not yet removed stay; the catalog stays listable).
[[nodiscard]] Result<std::vector<PruneDecision>> prune_catalog(const std::filesystem::path& root,
                                                               const PrunePolicy& policy, bool dry_run,
                                                               io::Storage* storage = nullptr);

struct CatalogDumpResult {
  std::string id;
  std::filesystem::path dir;
  DumpReport summary;
  std::vector<std::string> absent_namespaces;  // backup_restore_targets only
};

// A directory dump into the catalog: validates the options (DumpOptions::validate, before ROOT
// is touched), takes the lock, picks a fresh id from the current UTC time, dumps into ROOT/<id>
// (staged in ROOT/<id>.partial, manifest last) and releases the lock. `opts.out` and
// `opts.target` are set here. A failed dump leaves no complete ROOT/<id> behind. opts.storage
// (where the dump writes) is the catalog's storage too: the lock and the id's choice; null =
// io::local_storage().
[[nodiscard]] Result<CatalogDumpResult> run_catalog_dump(const std::filesystem::path& root, DumpOptions opts);

// The target namespaces ("db.collection", after --nsFrom/--nsTo) a restore with these options
// would write, from its plan (directory or archive file; standard input is refused: it cannot
// be read twice).
Result<std::vector<std::string>> restore_target_namespaces(const RestoreOptions& opts);

// `restore --backup-first ROOT`: refuses restore options that do not validate
// (RestoreOptions::validate: the restore could not run after the backup), then dumps those
// namespaces of the restore's target server into the catalog (a catalog dump, locked as any
// other). Namespaces the server does not have (not listed by listCollections before the dump,
// and not in it) are recorded in the backup's manifest as absent (kAbsentNamespacesKey), while
// the lock is still held; if that fails the backup is removed and the error returned. Fails
// without touching the target if nothing could be planned. `storage`: the catalog's storage
// (null = io::local_storage()).
[[nodiscard]] Result<CatalogDumpResult> backup_restore_targets(const std::filesystem::path& root,
                                                               const RestoreOptions& opts,
                                                               const std::vector<std::string>& namespaces,
                                                               io::Storage* storage = nullptr);

// The absent namespaces recorded in the manifest text `manifest_json` (empty when there is no
// such key: ordinary dumps, older backups). Fails on a key that is not an array of strings
// naming "db.collection" namespaces.
Result<std::vector<std::string>> absent_namespaces_from_manifest(std::string_view manifest_json);

// The second half of undoing a --backup-first restore: after `backup` (a catalog entry) was
// restored with `opts`, drops on opts.uri each of its absent namespaces that the restore's
// --nsInclude/--nsExclude select, logging one line per namespace through opts.log ("would drop"
// with opts.dry_run). Only with opts.drop; otherwise, or with --db/--collection/--nsFrom/--nsTo
// (the recorded names would not be this restore's targets), nothing is dropped and one line says
// why. A namespace already gone is logged as such, not an error.
Status drop_absent_namespaces(const RestoreOptions& opts, const CatalogEntry& backup);

// A namespace as an exact NsFilter pattern (escapes `*`, `$` and `\`).
std::string exact_namespace_pattern(std::string_view ns);

}  // namespace bsonpipe::pipeline
