// `bsonpipe dump`: mongodump's command line on top of pipeline::run_dump.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "formats/extjson.hpp"
#include "io/s3_storage.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/core/namespaces.hpp"
#include "pipeline/ops/dump.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/connection_flags.hpp"
#include "tools/bsonpipe/file_mode.hpp"
#include "tools/bsonpipe/location.hpp"

namespace bsonpipe::tools {

namespace {

struct DumpFlags {
  ConnectionFlags conn;
  FileModeFlag file_mode;  // --file-mode: owner-only output by default
  pipeline::DumpOptions opts;
  std::string query, query_file, out, archive, progress = "auto", read_preference, zstd_level;
  bool gzip = false, zstd = false, quiet = false, table_scan = false;
  int verbosity = 0;
  bool archive_given = false;
  std::string catalog;      // --catalog ROOT (pipeline/catalog/catalog.hpp)
  std::string s3_endpoint;  // --s3-endpoint URL (for s3:// locations)
  DumpLocation location;    // --out / --archive: the storage written (kept open for the run)
};

// --archive / --out into the dump's target, path and storage (an s3://BUCKET/KEY location is
// opened here and kept in f.location for the run). 0 when the dump may go on.
int choose_output(DumpFlags& f) {
  auto& o = f.opts;
  if (f.archive_given) {
    if (!f.out.empty()) return fail("dump", "--archive and --out cannot be combined");
    o.target = pipeline::DumpTarget::kArchive;
    o.out = f.archive.empty() ? "-" : f.archive;
  } else if (f.out == "-") {
    o.target = pipeline::DumpTarget::kStdoutBson;
    if (o.codec != io::Codec::kNone) return fail("dump", "--out - writes raw BSON; it cannot be compressed");
  } else {
    o.out = f.out.empty() ? "dump" : f.out;
  }
  if (o.target != pipeline::DumpTarget::kStdoutBson && o.out != "-") {
    // s3://BUCKET/KEY: the dump is written through the S3 storage, KEY being its path there.
    auto loc = open_location(o.out.string(), f.s3_endpoint);
    if (!loc) return fail("dump", loc.status().to_string());
    f.location = std::move(*loc);
    o.out = f.location.path;
    o.storage = f.location.storage();
    o.bundle.links = !f.location.remote();  // object storage has no symbolic links
  }
  // --archive=DIR writes DIR/archive (DIR/archive.gz with --gzip), as mongodump's getArchiveOut.
  if (o.target == pipeline::DumpTarget::kArchive && o.out != "-") {
    io::Storage& st = o.storage ? *o.storage : io::local_storage();
    if (auto dir = st.is_directory(o.out); dir && *dir)
      o.out /= o.codec == io::Codec::kGzip ? "archive.gz" : o.codec == io::Codec::kZstd ? "archive.zst" : "archive";
  }
  return 0;
}

// mongodump's ValidateOptions checks on collections and namespaces, in its order and words.
int check_namespace_options(const DumpFlags& f) {
  const auto& o = f.opts;
  if (!f.query.empty() && f.table_scan) return fail("dump", "cannot use --forceTableScan when specifying --query");
  if (o.collection.rfind("system.buckets.", 0) == 0)
    return fail("dump",
                "cannot specify a system.buckets collection in --collection. Specifying the timeseries collection "
                "will dump the system.buckets collection");
  if (!o.exclude_collections.empty() && !o.collection.empty())
    return fail("dump", "--collection is not allowed when --excludeCollection is specified");
  if (!o.exclude_collection_prefixes.empty() && !o.collection.empty())
    return fail("dump", "--collection is not allowed when --excludeCollectionsWithPrefix is specified");
  if (!o.exclude_collections.empty() && o.db.empty())
    return fail("dump", "--db is required when --excludeCollection is specified");
  if (!o.exclude_collection_prefixes.empty() && o.db.empty())
    return fail("dump", "--db is required when --excludeCollectionsWithPrefix is specified");
  return 0;
}

int run(DumpFlags& f) {
  auto& o = f.opts;
  // A bad namespace pattern is a command-line error, reported before anything connects.
  if (Status s = pipeline::check_namespace_flags({o.ns_include, o.ns_exclude, {}, {}}); !s)
    return usage_error("dump", s.message());
  if (Status s = f.file_mode.apply(); !s) return fail("dump", s.to_string());
  // The URI's database is --db, as in mongodump (a different --db is an error).
  auto uri = f.conn.resolve(&o.db);
  if (!uri) return fail("dump", uri.status().to_string());
  o.uri = *uri;
  // mongodump's ValidateOptions.
  if (f.out == "-" && o.collection.empty())
    return fail("dump", "bad option: can only dump a single collection to stdout");
  if (int rc = check_namespace_options(f); rc != 0) return rc;
  o.table_scan = f.table_scan;
  if (f.gzip && f.zstd) return fail("dump", "--gzip and --zstd cannot be combined");
  if (f.gzip) o.codec = io::Codec::kGzip;
  if (f.zstd) {
    o.codec = io::Codec::kZstd;
    if (!f.zstd_level.empty()) {
      try {
        o.level = std::stoi(f.zstd_level);
      } catch (...) {
        return fail("dump", "--zstd level '" + f.zstd_level + "' is not a number");
      }
      if (o.level < 1 || o.level > 19) return fail("dump", "--zstd level must be 1..19");
    }
  }
  if (!f.query.empty() && !f.query_file.empty()) return fail("dump", "--query and --queryFile cannot be combined");
  std::string qtext = f.query;
  if (!f.query_file.empty()) {
    // Read directly, not through io::Storage: the user's own input file, not a dump location.
    std::ifstream in(f.query_file);
    if (!in) return fail("dump", "cannot read --queryFile " + f.query_file);
    std::stringstream ss;
    ss << in.rdbuf();
    qtext = ss.str();
  }
  if (!qtext.empty()) {
    if (o.collection.empty()) return fail("dump", "--query needs --db and --collection");
    auto q = formats::extjson::parse(qtext);
    if (!q) return fail("dump", "--query is not valid Extended JSON: " + q.status().to_string());
    o.query = std::move(*q);
  }
  if (!f.catalog.empty() && (f.archive_given || !f.out.empty()))
    return fail("dump", "--catalog writes a directory dump under ROOT: it cannot be combined with --out or --archive");
  if (!o.bundle.include_paths.empty() && (f.archive_given || f.out == "-"))
    return fail("dump",
                "--include-path needs a directory dump (--out DIR or --catalog ROOT), not an archive or stdout");
  if (!o.bundle.excludes.empty() && o.bundle.include_paths.empty())
    return fail("dump", "--exclude applies to --include-path trees: give --include-path");
  o.bundle.interrupt = interrupt_token();
  if (int rc = choose_output(f); rc != 0) return rc;
  // The library's checks (pipeline/ops/dump.hpp), before the catalog is locked or anything connects.
  if (Status s = o.validate(); !s) return usage_error("dump", s.to_string());
  if (!pipeline::parse_progress_mode(f.progress, o.progress.mode))
    return fail("dump", "--progress must be auto, bar, plain, json or none");
  o.progress.quiet = f.quiet;
  o.progress.verbosity = f.verbosity;
  // Standard output carries data: progress must not mix into it.
  o.read_preference = f.read_preference;
  o.interrupt = interrupt_token();
  if (!f.catalog.empty()) {
    // ROOT may be s3://BUCKET/PREFIX: the catalog's lock, ids and dumps then live in the bucket.
    auto loc = open_location(f.catalog, f.s3_endpoint);
    if (!loc) return fail("dump", loc.status().to_string());
    f.location = std::move(*loc);
    o.storage = f.location.storage();
    o.bundle.links = !f.location.remote();
    auto c = pipeline::run_catalog_dump(f.location.path, o);
    if (!c) return fail("dump", c.status().to_string());
    std::printf("%s\n", c->id.c_str());  // the id, for scripts: id=$(bsonpipe dump --catalog ...)
    return 0;
  }
  auto r = pipeline::run_dump(o);
  if (!r) return fail("dump", r.status().to_string());
  return 0;
}

}  // namespace

void add_dump_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<DumpFlags>();
  auto* cmd = app.add_subcommand("dump", "Dump collections to mongodump's directory layout or archive format");
  f->conn.add_to(*cmd);
  auto& o = f->opts;
  cmd->add_option("--db,-d", o.db, "database to dump (default: all but local and config)");
  cmd->add_option("--collection,-c", o.collection, "collection to dump (needs --db)");
  cmd->add_option("--query,-q", f->query, "Extended JSON filter (needs --collection)");
  cmd->add_option("--queryFile", f->query_file, "file holding the --query filter");
  cmd->add_option("--out,-o", f->out,
                  "output directory or s3://BUCKET/PREFIX (default: dump; '-' = raw BSON on stdout)");
  auto* archive = cmd->add_option("--archive", f->archive,
                                  "write one archive stream to FILE or s3://BUCKET/KEY (no value or '-': stdout)")
                      ->expected(0, 1);
  cmd->add_option("--s3-endpoint", f->s3_endpoint,
                  "S3 endpoint for s3:// locations, e.g. http://127.0.0.1:9000 (overrides AWS_ENDPOINT_URL; "
                  "path-style)")
      ->type_name("URL");
  cmd->add_flag("--gzip", f->gzip, "compress output with gzip (parallel members)");
  auto* zstd =
      cmd->add_option("--zstd", f->zstd_level, "compress output with zstd (bsonpipe extension), optional level 1-19")
          ->expected(0, 1);
  cmd->add_option("--excludeCollection", o.exclude_collections, "collection to leave out (repeatable)");
  cmd->add_option("--excludeCollectionsWithPrefix", o.exclude_collection_prefixes,
                  "leave out collections with this prefix (repeatable)");
  cmd->add_option("--nsInclude", o.ns_include, "namespace pattern to dump, e.g. 'db.*' (repeatable)");
  cmd->add_option("--nsExclude", o.ns_exclude, "namespace pattern to leave out (repeatable)");
  cmd->add_option("--numParallelCollections,-j", o.parallel_collections, "cursors running at once (default 4)");
  cmd->add_option("--readers", o.readers, "parallel cursors (by _id range) per large collection (default 4)");
  cmd->add_option("--split-threshold", o.split_min_bytes,
                  "collections of at least this many bytes are split into _id ranges (default 64 MiB)");
  cmd->add_option("--compress-threads", o.compress_threads, "compression threads (default: hardware threads)");
  cmd->add_option("--rate-limit", o.rate_limit_mbps, "most MB/s of raw BSON read, all cursors together (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batchSize", o.batch_size, "documents per find/getMore batch (default: ~1 MiB of documents)");
  cmd->add_option("--retries", o.retries,
                  "after a network error or a primary change, resume a read from its last _id up to N times in a "
                  "row (default 5)");
  cmd->add_option("--readPreference", f->read_preference, "primary, secondary, secondaryPreferred, nearest...");
  cmd->add_flag("--dumpDbUsersAndRoles", o.dump_users_and_roles,
                "also dump the --db database's users and roles (as $admin.system.users/roles/version)");
  cmd->add_flag("--viewsAsCollections", o.views_as_collections, "dump views' documents as collections");
  cmd->add_flag("--forceTableScan", f->table_scan,
                "read in natural order with one cursor per collection, without the _id index");
  cmd->add_flag("--oplog", o.oplog, "capture the oplog during the dump (replica sets)");
  cmd->add_option("--progress", f->progress, "auto, bar, plain, json or none");
  cmd->add_option("--catalog", f->catalog,
                  "dump into the catalog ROOT, as ROOT/<UTC time>/ (locked: one writer at a time); prints the id")
      ->type_name("ROOT");
  cmd->add_option("--include-path", o.bundle.include_paths,
                  "also copy this directory tree into the dump (bsonpipe_files/<n>/, repeatable)")
      ->type_name("DIR");
  cmd->add_option("--exclude", o.bundle.excludes,
                  "leave out --include-path entries matching this glob (relative path or name, repeatable)")
      ->type_name("GLOB");
  f->file_mode.add_to(*cmd);
  cmd->add_flag("--quiet", f->quiet, "errors only");
  cmd->add_flag("-v,--verbose", f->verbosity, "more detail (repeatable)");
  cmd->footer(
      "Examples:\n"
      "  bsonpipe dump --uri mongodb://host/ --out dump --gzip\n"
      "  bsonpipe dump --uri mongodb://host/ --db shop --archive=shop.archive.gz --gzip\n"
      "  bsonpipe dump --uri mongodb://host/ --gzip --catalog /backup/host --include-path /srv/app/uploads \\\n"
      "      --exclude '*.tmp'      # nightly: /backup/host/<UTC time>/, see 'bsonpipe catalog --help'");
  cmd->callback([f, archive, zstd, &exit_code] {
    // Options that may be given without a value: what counts is that they were given.
    f->archive_given = archive->count() > 0;
    f->zstd = zstd->count() > 0;
    exit_code = run(*f);
  });
}

}  // namespace bsonpipe::tools
