// bsonpipe restore: mongorestore's command line over pipeline::run_restore.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "io/s3_storage.hpp"
#include "io/storage.hpp"
#include "io/uri.hpp"
#include "pipeline/catalog/bundle.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/core/namespaces.hpp"
#include "pipeline/ops/restore.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/connection_flags.hpp"
#include "tools/bsonpipe/location.hpp"
#include "tools/bsonpipe/restore_ns_flags.hpp"

namespace bsonpipe::tools {

namespace {

struct RestoreFlags {
  ConnectionFlags conn;
  pipeline::RestoreOptions opts;
  std::string positional;
  std::string dir;
  // mongorestore's deprecated --excludeCollection / --excludeCollectionsWithPrefix (nsExcludes).
  std::vector<std::string> exclude_collections, exclude_prefixes;
  std::string progress = "auto";
  bool quiet = false;
  int verbose = 0;
  CLI::Option* archive_opt = nullptr;
  // Catalog and bundled files (pipeline/catalog/catalog.hpp, pipeline/catalog/bundle.hpp).
  std::string catalog, catalog_id, backup_first, restore_paths;
  bool paths_only = false;
  std::string s3_endpoint;    // --s3-endpoint URL (for s3:// dump locations)
  DumpLocation location;      // an s3:// dump path or --archive: its storage (kept open for the run)
  DumpLocation catalog_root;  // --catalog ROOT opened (local or s3://BUCKET/PREFIX)
  DumpLocation backup_root;   // --backup-first ROOT opened (local or s3://BUCKET/PREFIX)
};

// Where the dump is read (and bundled files come from): opts.storage, null = the local file system.
io::Storage& dump_storage(const pipeline::RestoreOptions& o) {
  return o.storage != nullptr ? *o.storage : io::local_storage();
}

// --catalog ROOT --id ID|latest: the catalog entry to restore.
Result<pipeline::CatalogEntry> catalog_input(const RestoreFlags& f) {
  if (f.catalog_id.empty()) return Status(ErrorCode::kInvalidArgument, "--catalog needs --id ID (or --id latest)");
  if (!f.positional.empty() || !f.dir.empty() || f.archive_opt->count() > 0)
    return Status(ErrorCode::kInvalidArgument, "--catalog names the dump: give no dump path or --archive");
  return pipeline::resolve_catalog_dump(f.catalog_root.path, f.catalog_id, "restore", f.catalog_root.storage());
}

// One shell word: quoted unless it is made only of characters a shell leaves alone.
std::string shell_word(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("_@%+=:,./-").find(c) == std::string_view::npos)
      plain = false;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The manifest of a directory dump, for --restore-paths (checked before anything is written).
Result<formats::Manifest> read_manifest(const std::string& dump, io::Storage& storage) {
  std::string p = dump + "/" + std::string(formats::kManifestName);
  auto bytes = storage.read_all(p);
  if (!bytes) return Status(ErrorCode::kInvalidArgument, p + ": cannot read the manifest (--restore-paths needs one)");
  auto m = formats::manifest_from_json(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!m) return Status(m.status().code(), p + ": " + m.status().message());
  if (!m->complete) return Status(ErrorCode::kInvalidArgument, p + ": the dump is not complete");
  return m;
}

// A dump path that names a directory (false when it is missing or unreadable: the restore then
// reports it when it opens the path); `storage` null = local.
bool is_directory(const std::string& path, io::Storage* storage = nullptr) {
  auto d = (storage ? *storage : io::local_storage()).is_directory(path);
  return d && *d;
}

// An s3:// dump path or archive: opened into f.location, `path` becoming its key there and the
// restore reading through that storage. 0 when it may go on (also for a local path).
int open_input_location(RestoreFlags& f, std::string& path) {
  if (!io::is_s3_url(path)) return 0;
  auto loc = open_location(path, f.s3_endpoint);
  if (!loc) return fail("restore", loc.status().to_string());
  f.location = std::move(*loc);
  path = f.location.path;
  f.opts.storage = f.location.storage();
  return 0;
}

// --catalog ROOT and --backup-first ROOT opened (each a local directory or s3://BUCKET/PREFIX).
int open_catalog_roots(RestoreFlags& f) {
  for (auto [root, loc] : {std::pair{&f.catalog, &f.catalog_root}, {&f.backup_first, &f.backup_root}}) {
    if (root->empty()) continue;
    auto l = open_location(*root, f.s3_endpoint);
    if (!l) return fail("restore", l.status().to_string());
    *loc = std::move(*l);
  }
  return 0;
}

// `error`: the run's error when it failed (its line is printed by the caller), ok otherwise.
void print_report(const pipeline::RestoreReport& rep, const Status& error, bool quiet) {
  for (const auto& n : rep.namespaces) {
    if (!n.error.empty() && error.message().find(n.error) == std::string::npos)
      std::fprintf(stderr, "bsonpipe restore: %s: %s\n", n.target_ns.c_str(), n.error.c_str());
    if (n.failed > 0) {
      std::fprintf(stderr, "bsonpipe restore: %s: %llu document(s) failed to restore\n", n.target_ns.c_str(),
                   static_cast<unsigned long long>(n.failed));
      for (const auto& r : n.failure_reasons) std::fprintf(stderr, "  reason: %s\n", r.c_str());
    }
    if (n.duplicates > 0 && !quiet)
      std::fprintf(stderr, "%s: %llu duplicate key error(s) (documents already present, not restored)\n",
                   n.target_ns.c_str(), static_cast<unsigned long long>(n.duplicates));
    if (n.rejected > 0 && !quiet)
      std::fprintf(stderr, "%s: %llu document(s) failed validation (refused by the collection's validator)\n",
                   n.target_ns.c_str(), static_cast<unsigned long long>(n.rejected));
  }
  if (quiet) return;
  // A failed run: the one error line says it all (with the count of documents already inserted);
  // a "restored successfully" summary would be wrong, e.g. for --swap, which dropped its data.
  if (!error.is_ok()) return;
  if (rep.dry_run) {
    std::uint64_t docs = 0;
    for (const auto& n : rep.namespaces) docs += n.documents_read;
    std::fprintf(stderr,
                 "dry run completed: %zu namespace(s), %llu document(s) would be restored; nothing was written\n",
                 rep.namespaces.size(), static_cast<unsigned long long>(docs));
    return;
  }
  // mongorestore's line: every write error counts as a failure, tolerated or not.
  std::fprintf(stderr, "%llu document(s) restored successfully. %llu document(s) failed to restore.\n",
               static_cast<unsigned long long>(rep.inserted),
               static_cast<unsigned long long>(rep.failed + rep.duplicates + rep.rejected));
  if (rep.retries > 0)
    std::fprintf(stderr, "%llu insert batch(es) were sent again after a retryable error.\n",
                 static_cast<unsigned long long>(rep.retries));
  if (rep.already_restored > 0)
    std::fprintf(stderr,
                 "%llu document(s) were already restored by the interrupted run (--resume) or a failed attempt; %llu "
                 "of them were found inserted when their batch was sent again.\n",
                 static_cast<unsigned long long>(rep.already_restored),
                 static_cast<unsigned long long>(rep.found_present));
  if (rep.oplog_replayed)
    std::fprintf(stderr, "oplog replay: %llu entr(ies) applied, %llu skipped, %llu at or after --oplogLimit.\n",
                 static_cast<unsigned long long>(rep.oplog_applied), static_cast<unsigned long long>(rep.oplog_skipped),
                 static_cast<unsigned long long>(rep.oplog_after_limit));
}

// --progress, --quiet and --verbose into the options: the progress mode and the log lines.
int configure_output(RestoreFlags& f) {
  auto& o = f.opts;
  if (!pipeline::parse_progress_mode(f.progress, o.progress.mode))
    return fail("restore", "--progress must be auto, bar, plain, json or none");
  // auto: a live bar on a terminal only (the per-namespace lines say enough in a log).
  if (o.progress.mode == pipeline::ProgressMode::kAuto && !::isatty(2)) o.progress.mode = pipeline::ProgressMode::kNone;
  o.progress.quiet = f.quiet;
  o.progress.verbosity = f.verbose;
  if (o.maintain_insertion_order) o.insertion_workers = 1;
  o.interrupt = interrupt_token();
  bool quiet = f.quiet;
  int verbose = f.verbose;
  o.log = [quiet, verbose](pipeline::LogLevel level, const std::string& msg) {
    if (quiet) return;
    if (level == pipeline::LogLevel::kVerbose && verbose == 0) return;
    std::fprintf(stderr, "%s\n", msg.c_str());
  };
  return 0;
}

// --restore-paths: the dump's bundled files put back under TARGET (after the databases).
int restore_files(const RestoreFlags& f, const pipeline::RestoreOptions& o,
                  const std::optional<formats::Manifest>& bundle_manifest) {
  if (!bundle_manifest) return 0;
  if (o.dry_run) {
    if (!f.quiet)
      std::fprintf(stderr, "dry run: %zu bundled entr(ies) would be restored under %s\n",
                   bundle_manifest->bundled.size(), f.restore_paths.c_str());
    return 0;
  }
  auto r = pipeline::restore_bundle(o.input, *bundle_manifest, f.restore_paths, interrupt_token(), &dump_storage(o));
  if (!r) return fail("restore", "--restore-paths: " + r.status().to_string());
  if (!f.quiet)
    std::fprintf(stderr, "restored %llu bundled file(s) (%llu bytes), %llu director(ies), %llu link(s) under %s\n",
                 static_cast<unsigned long long>(r->files), static_cast<unsigned long long>(r->bytes),
                 static_cast<unsigned long long>(r->directories), static_cast<unsigned long long>(r->symlinks),
                 f.restore_paths.c_str());
  return 0;
}

// --backup-first ROOT: the restore's target namespaces dumped into the catalog ROOT first, with
// the undo command printed. 0 when the restore may go on (also with nothing to back up).
int backup_first(const RestoreFlags& f, const pipeline::RestoreOptions& o) {
  if (f.backup_first.empty()) return 0;
  if (!o.drop && !o.swap)
    return fail("restore", "--backup-first is for restores that replace data: give --drop or --swap");
  if (o.dry_run) {
    if (!f.quiet) std::fprintf(stderr, "dry run: no --backup-first backup taken\n");
  } else {
    auto targets = pipeline::restore_target_namespaces(o);
    if (!targets) return fail("restore", "--backup-first: " + targets.status().to_string());
    if (targets->empty()) {
      if (!f.quiet) std::fprintf(stderr, "--backup-first: the restore writes no namespace; nothing to back up\n");
    } else {
      // The backup is a dump like any other: owner-only, as `bsonpipe dump` writes by default.
      // The umask is set only around it (nothing else runs meanwhile): the restore's own files
      // (--restore-paths) keep theirs. Storage has no file modes: locally they come from the
      // umask (catalog_test's backup checks 0700 directories and 0600 files).
      const mode_t old_umask = ::umask(077);
      auto b = pipeline::backup_restore_targets(f.backup_root.path, o, *targets, f.backup_root.storage());
      ::umask(old_umask);
      if (!b) return fail("restore", "--backup-first failed, nothing restored: " + b.status().to_string());
      std::printf("%s\n", b->id.c_str());
      std::fflush(stdout);
      if (!f.quiet) {
        // The exact undo command: the catalog as an absolute path (or its s3:// URL, with the
        // endpoint given), the target without its password.
        std::error_code ec;
        auto root = std::filesystem::absolute(f.backup_first, ec);
        auto u = io::parse_uri(o.uri);
        std::string catalog = f.backup_root.remote() ? f.backup_first
                              : ec                   ? f.backup_first
                                                     : root.lexically_normal().string();
        std::string undo = "bsonpipe restore --uri " + shell_word(u ? u->redacted() : std::string("URI")) +
                           " --catalog " + shell_word(catalog) + " --id " + b->id + " --drop";
        if (f.backup_root.remote() && !f.s3_endpoint.empty()) undo += " --s3-endpoint " + shell_word(f.s3_endpoint);
        std::string absent;
        if (!b->absent_namespaces.empty())
          absent = " (and recorded " + std::to_string(b->absent_namespaces.size()) +
                   " namespace(s) it does not have, which the undo drops)";
        std::fprintf(stderr,
                     "backed up %zu namespace(s) of the target (%llu documents) into %s as %s%s; undo with: %s\n",
                     b->summary.namespaces.size(), static_cast<unsigned long long>(b->summary.documents),
                     f.backup_first.c_str(), b->id.c_str(), absent.c_str(), undo.c_str());
      }
    }
  }
  return 0;
}

// The restore itself, its report, then (on success) the absent namespaces of a --backup-first
// backup being restored (the undo) and the bundled files.
int run_restore_and_report(const RestoreFlags& f, const pipeline::RestoreOptions& o,
                           const std::optional<pipeline::CatalogEntry>& catalog_entry,
                           const std::optional<formats::Manifest>& bundle_manifest) {
  auto drop_absent = [&]() -> int {
    if (!catalog_entry) return 0;
    if (Status s = pipeline::drop_absent_namespaces(o, *catalog_entry); !s) return fail("restore", s.to_string());
    return 0;
  };
  pipeline::RestoreReport partial;  // a failed run's counts, for its lines and its error
  auto res = pipeline::run_restore(o, &partial);
  const pipeline::RestoreReport& rep = res ? *res : partial;
  if (res && rep.already_complete) {
    if (!f.quiet) std::fprintf(stderr, "restore already complete (per its journal): nothing to do\n");
    if (int rc = drop_absent(); rc != 0) return rc;
    return restore_files(f, o, bundle_manifest);
  }
  print_report(rep, res.status(), f.quiet);
  if (!res) {
    if (res.status().code() == ErrorCode::kCancelled) return fail("restore", "interrupted: stopped before completion");
    std::string msg = res.status().to_string();
    if (rep.inserted > 0 && !o.swap && !o.dry_run)
      msg += "; " + std::to_string(rep.inserted) + " document(s) had been inserted before the failure";
    return fail("restore", msg);
  }
  if (!rep.ok()) return fail("restore", "restore incomplete: see the errors above");
  if (int rc = drop_absent(); rc != 0) return rc;
  return restore_files(f, o, bundle_manifest);
}

int run(RestoreFlags& f) {
  auto& o = f.opts;
  // A bad namespace pattern is a command-line error, reported before anything is read or connected.
  if (Status s = pipeline::check_namespace_flags({o.plan.ns_include, o.plan.ns_exclude, o.plan.ns_from, o.plan.ns_to});
      !s)
    return usage_error("restore", s.message());
  // The catalog entry restored (--catalog): a --backup-first backup's absent namespaces are
  // dropped after it (drop_absent_namespaces).
  std::optional<pipeline::CatalogEntry> catalog_entry;
  if (int rc = open_catalog_roots(f); rc != 0) return rc;
  if (!f.catalog.empty()) {
    auto e = catalog_input(f);
    if (!e) return fail("restore", e.status().to_string());
    f.positional = e->dir.string();
    // The entry is read where its catalog lives (a key in the bucket of an s3:// catalog).
    o.storage = f.catalog_root.storage();
    catalog_entry = std::move(*e);
  } else if (!f.catalog_id.empty()) {
    return fail("restore", "--id needs --catalog ROOT");
  }
  o.archive = f.archive_opt->count() > 0;
  if (o.archive)
    if (int rc = open_input_location(f, o.archive_path); rc != 0) return rc;
  // --archive=DIR reads DIR/archive (DIR/archive.gz with --gzip), as mongorestore does.
  if (o.archive && !o.archive_path.empty() && o.archive_path != "-" && is_directory(o.archive_path, o.storage))
    o.archive_path = (std::filesystem::path(o.archive_path) / (o.gzip ? "archive.gz" : "archive")).string();
  if (!f.positional.empty() && !f.dir.empty())
    return usage_error("restore",
                       "error parsing command line options: error parsing positional arguments: cannot use both --dir "
                       "and a positional argument to set the target directory");
  std::string path = !f.positional.empty() ? f.positional : f.dir;
  // The URI's database is --db, as in mongorestore (a different --db is an error); with a
  // database and no collection, the directory is that database's folder.
  auto uri = f.conn.resolve(&o.plan.db);
  if (!uri) return fail("restore", uri.status().to_string());
  o.uri = *uri;
  if (!o.plan.collection.empty() && o.plan.db.empty())
    return fail("restore", "cannot restore a collection without a specified database");
  if (int rc = restore_namespace_options(o.plan, f.exclude_collections, f.exclude_prefixes); rc != 0) return rc;
  if (path == "-") {
    // A bare .bson stream on standard input (mongorestore's ParseAndValidateOptions).
    if (o.archive) return fail("restore", "cannot restore from \"-\" when --archive is specified");
    if (o.plan.collection.empty()) return fail("restore", "cannot restore from stdin without a specified collection");
    if (o.resume || !o.journal.empty())
      return fail("restore", "--resume and --journal need a file, not standard input");
  }
  if (!o.archive && path.empty()) path = "dump";  // mongorestore's default
  if (!o.archive)
    if (int rc = open_input_location(f, path); rc != 0) return rc;
  // --db with --collection names one .bson file (mongorestore's CreateIntentForCollection).
  if (!o.archive && !catalog_entry && !o.plan.db.empty() && !o.plan.collection.empty() && path != "-" &&
      is_directory(path, o.storage))
    return fail("restore", "error scanning filesystem: file `" + path + "` is a directory, not a bson file");
  if (!path.empty() && o.archive)
    // mongorestore reads --archive's value (standard input without '=') and ignores the dump
    // path: "--archive FILE" would read standard input. Refused rather than guessed.
    return usage_error("restore", "--archive without '=FILE' reads standard input; the dump path '" + path +
                                      "' would be ignored (write --archive=" + path + ")");
  o.input = path;
  if (int rc = configure_output(f); rc != 0) return rc;
  // Bundled files: the manifest is read and checked before anything is written.
  std::optional<formats::Manifest> bundle_manifest;
  if (f.paths_only && f.restore_paths.empty()) return fail("restore", "--paths-only needs --restore-paths TARGET");
  if (!f.restore_paths.empty()) {
    if (o.archive) return fail("restore", "--restore-paths needs a directory dump (bundled files are not in archives)");
    auto m = read_manifest(o.input.string(), dump_storage(o));
    if (!m) return fail("restore", m.status().to_string());
    if (m->bundled_roots.empty())
      return fail("restore", o.input.string() + ": the dump has no bundled files (dump with --include-path)");
    bundle_manifest = std::move(*m);
  }
  if (f.paths_only) {
    if (!f.backup_first.empty()) return fail("restore", "--backup-first backs up databases: not with --paths-only");
    return restore_files(f, o, bundle_manifest);
  }

  // The library's checks (pipeline/ops/restore.hpp), before a --backup-first backup is taken.
  if (Status s = o.validate(); !s) return usage_error("restore", s.to_string());
  // --backup-first ROOT: the target namespaces this restore overwrites go into the catalog first;
  // if that fails, the restore does not start.
  if (int rc = backup_first(f, o); rc != 0) return rc;
  return run_restore_and_report(f, o, catalog_entry, bundle_manifest);
}

// --catalog/--id, --backup-first and --restore-paths/--paths-only (pipeline/catalog/catalog.hpp,
// pipeline/catalog/bundle.hpp), with the examples.
void add_catalog_options(CLI::App& cmd, RestoreFlags& flags) {
  cmd.add_option("--catalog", flags.catalog,
                 "restore a dump of this catalog (see --id); with --drop, a --backup-first backup's recorded "
                 "absent namespaces are dropped too (the undo)")
      ->type_name("ROOT");
  cmd.add_option("--id", flags.catalog_id, "with --catalog: the dump's id, or 'latest' (the newest complete one)");
  cmd.add_option("--backup-first", flags.backup_first,
                 "with --drop/--swap: first dump the target namespaces this restore replaces into the catalog "
                 "ROOT (owner-only files, as dump writes), recording those the target does not have yet (prints its "
                 "id and the undo command); no restore if that fails")
      ->type_name("ROOT");
  cmd.add_option("--restore-paths", flags.restore_paths,
                 "put the dump's bundled files (dump --include-path) back under TARGET/<name>/, checking hashes")
      ->type_name("TARGET");
  cmd.add_flag("--paths-only", flags.paths_only, "with --restore-paths: restore only the files, not the databases");
  cmd.footer(
      "Examples:\n"
      "  bsonpipe restore --uri mongodb://target/ dump --drop\n"
      "  bsonpipe restore --uri mongodb://target/ --catalog /backup/db1 --id latest --drop\n"
      "  bsonpipe restore --uri mongodb://target/ dump --drop --backup-first /backup/db1   # undoable: prints ID\n"
      "  bsonpipe restore --uri mongodb://target/ --catalog /backup/db1 --id ID --drop     # the undo\n"
      "  bsonpipe restore --catalog /backup/db1 --id 2026-11-22T01-00-00Z --restore-paths /srv/restore --paths-only");
}

}  // namespace

void add_restore_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RestoreFlags>();
  auto& o = flags->opts;
  CLI::App* cmd = app.add_subcommand("restore", "restore a dump (directory, .bson file or archive) into MongoDB");
  cmd->add_option("path", flags->positional,
                  "dump directory (or s3://BUCKET/PREFIX), database directory (with --db) or .bson file");
  cmd->add_option("--dir", flags->dir, "same as the positional path");
  flags->conn.add_to(*cmd);
  flags->archive_opt =
      cmd->add_option("--archive", o.archive_path,
                      "read an archive from FILE or s3://BUCKET/KEY (no value or '-' = standard input)")
          ->expected(0, 1);
  cmd->add_option("--s3-endpoint", flags->s3_endpoint,
                  "S3 endpoint for s3:// locations, e.g. http://127.0.0.1:9000 (overrides AWS_ENDPOINT_URL; "
                  "path-style)")
      ->type_name("URL");
  cmd->add_option("-d,--db", o.plan.db, "database to restore into (with a directory: that directory is one database)");
  cmd->add_option("-c,--collection", o.plan.collection, "collection to restore into (with a .bson file)");
  cmd->add_option("--nsInclude", o.plan.ns_include, "namespaces to restore (wildcards, repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--nsExclude", o.plan.ns_exclude, "namespaces to skip (wildcards, repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--excludeCollection", flags->exclude_collections,
                  "deprecated (use --nsExclude): collection to skip in every database (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--excludeCollectionsWithPrefix", flags->exclude_prefixes,
                  "deprecated (use --nsExclude): skip collections with this prefix (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--nsFrom", o.plan.ns_from, "rename namespaces matching this pattern ($var$ captures, repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--nsTo", o.plan.ns_to, "... to this pattern (paired with --nsFrom)")->allow_extra_args(false);
  cmd->add_flag("--gzip", o.gzip, "the input is gzip-compressed (also detected from .gz names and the magic)");
  cmd->add_flag("--drop", o.drop, "drop each collection before restoring it");
  cmd->add_flag("--dryRun", o.dry_run, "read and check everything, write nothing");
  cmd->add_flag("--noIndexRestore", o.no_index_restore, "do not create indexes");
  cmd->add_flag("--noOptionsRestore", o.no_options_restore, "create collections without their options");
  cmd->add_flag("--keepIndexVersion", o.index.keep_index_version, "keep the index version of the dump");
  cmd->add_flag("--convertLegacyIndexes", o.index.convert_legacy_indexes,
                "rewrite legacy index key values and drop invalid index options");
  cmd->add_option("-j,--numParallelCollections", o.num_parallel_collections, "collections restored at once")
      ->capture_default_str();
  cmd->add_option("--numInsertionWorkersPerCollection", o.insertion_workers,
                  "insertion workers (connections) per collection; 4 is a good start")
      ->capture_default_str();
  cmd->add_option("--batchSize", o.batch_size, "documents per insert (0 = the server's maxWriteBatchSize)");
  cmd->add_option("--rate-limit", o.rate_limit_mbps, "most MB/s of raw BSON inserted, all workers together (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--stopOnError", o.stop_on_error, "stop at the first write error (duplicates included)");
  cmd->add_option("--retries", o.retries,
                  "send a batch again after a network error or a primary change, up to N times in a row (default 5)");
  cmd->add_flag("--maintainInsertionOrder", o.maintain_insertion_order, "insert in file order (ordered, one worker)");
  cmd->add_option("--writeConcern", o.write_concern, "write concern: majority, <n> or a JSON document");
  cmd->add_flag("--bypassDocumentValidation", o.bypass_document_validation, "skip the collections' validators");
  cmd->add_flag("--preserveUUID", o.preserve_uuid, "keep the collections' UUIDs (requires --drop)");
  cmd->add_flag("--objcheck", o.objcheck, "fully validate every document (UTF-8 included) before inserting it");
  cmd->add_flag("--require-empty", o.require_empty,
                "refuse, writing nothing, if any target collection holds documents");
  cmd->add_flag("--swap", o.swap,
                "load into a temporary collection, build its indexes, then rename it over the live one");
  cmd->add_flag("--oplogReplay", o.plan.oplog_replay,
                "after all data and indexes, apply the dump's oplog.bson (or the archive's oplog) with applyOps");
  cmd->add_option("--oplogLimit", o.oplog_limit,
                  "with --oplogReplay: apply only entries before this timestamp, <seconds>[:ordinal]");
  cmd->add_flag("--resume", o.resume,
                "continue an interrupted restore from its journal (or start a journaled one): journaled batches "
                "are skipped, the rest re-sent with duplicate-key errors on _id taken as already inserted. Exactly "
                "once holds for documents with an _id; documents without one get a new _id on every attempt. Give "
                "the same dump and options; not for standard input or --swap");
  cmd->add_option("--journal", o.journal,
                  "restore journal path (default: <dump>/.bsonpipe-restore-journal, <archive>.journal); given, the "
                  "run is journaled");
  cmd->add_flag("--restoreDbUsersAndRoles", o.plan.restore_users_and_roles,
                "restore the --db database's users and roles ($admin.system.users/roles of a dump made with "
                "--dumpDbUsersAndRoles)");
  add_catalog_options(*cmd, *flags);
  cmd->add_option("--progress", flags->progress, "auto, bar, plain, json or none")->capture_default_str();
  cmd->add_flag("-q,--quiet", flags->quiet, "only errors");
  cmd->add_flag("-v,--verbose", flags->verbose, "more messages");
  cmd->callback([flags, &exit_code] { exit_code = run(*flags); });
}

}  // namespace bsonpipe::tools
