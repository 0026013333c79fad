// bsonpipe copy: dump's filters and restore's options over pipeline::run_copy (no disk).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "pipeline/core/namespaces.hpp"
#include "pipeline/ops/copy.hpp"
#include "pipeline/ops/follow_apply.hpp"
#include "pipeline/ops/follow_run.hpp"
#include "pipeline/ops/follow_state.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/connection_flags.hpp"

namespace bsonpipe::tools {

namespace {

struct CopyFlags {
  ConnectionFlags from;
  ConnectionFlags to;
  pipeline::CopyOptions opts;
  std::string query, query_file, read_preference, progress = "none";
  bool follow = false, follow_resume = false;
  std::string until, cutover_file;
  bool quiet = false;
  int verbose = 0;
};

void print_namespace_errors(const pipeline::RestoreReport& rep, const Status& status) {
  for (const auto& n : rep.namespaces) {
    if (!n.error.empty() && status.message().find(n.error) == std::string::npos)
      std::fprintf(stderr, "bsonpipe copy: %s: %s\n", n.target_ns.c_str(), n.error.c_str());
    if (n.failed > 0) {
      std::fprintf(stderr, "bsonpipe copy: %s: %llu document(s) failed to copy\n", n.target_ns.c_str(),
                   static_cast<unsigned long long>(n.failed));
      for (const auto& r : n.failure_reasons) std::fprintf(stderr, "  reason: %s\n", r.c_str());
    }
  }
}

// --follow: notes the source's newest oplog entry before the copy, then tails from it after the
// copy until cutover (pipeline/ops/follow_run.hpp). Returns an exit code (0: go on).
int setup_follow(CopyFlags& f, pipeline::FollowOptions& fo) {
  auto& o = f.opts;
  if (!f.follow) {
    if (f.follow_resume || !f.until.empty() || !f.cutover_file.empty())
      return fail("copy", "--resume, --until and --cutover-file need --follow");
    return 0;
  }
  auto from = io::parse_uri(o.dump.uri);
  auto to = io::parse_uri(o.restore.uri);
  if (!from || !to) return 0;  // run_copy reports it
  fo.from = std::move(*from);
  fo.to = std::move(*to);
  fo.plan = pipeline::follow_plan(o);
  fo.interrupt = interrupt_token();
  fo.cutover_file = f.cutover_file;
  if (!f.until.empty())
    if (Status s = pipeline::parse_until(f.until, fo); !s) return fail("copy", s.message());
  bool quiet = f.quiet;
  fo.log = [quiet](const std::string& msg) {
    if (!quiet) std::fprintf(stderr, "%s\n", msg.c_str());
  };
  o.skip_copy = f.follow_resume;
  if (!f.follow_resume) {
    o.before_copy = [&fo]() -> Status {
      auto src = io::connect_selected(fo.from, io::ReadPreferenceMode::kPrimary);
      if (!src) return {ErrorCode::kNetwork, "follow: cannot connect to the source: " + src.error().to_string()};
      auto newest = pipeline::oplog_edge(**src, true);
      if (!newest) return newest.status();
      fo.start = newest->value_or(formats::Timestamp{});
      return {};
    };
  }
  o.after_copy = [&fo]() -> Status {
    auto rep = pipeline::run_follow(fo);
    if (!rep) return rep.status();
    // The line a cutover script waits for; on stdout, alone.
    std::printf("cutover at %s\n", pipeline::format_ts(rep->cutover).c_str());
    std::fflush(stdout);
    return {};
  };
  return 0;
}

// The source's filter: --query or --queryFile, Extended JSON. Returns an exit code (0: go on).
int read_query(CopyFlags& f) {
  auto& o = f.opts;
  if (!f.query.empty() && !f.query_file.empty()) return fail("copy", "--query and --queryFile cannot be combined");
  std::string qtext = f.query;
  if (!f.query_file.empty()) {
    // Read directly, not through io::Storage: the user's own input file, not a dump location.
    std::ifstream in(f.query_file);
    if (!in) return fail("copy", "cannot read --queryFile " + f.query_file);
    std::stringstream ss;
    ss << in.rdbuf();
    qtext = ss.str();
  }
  if (!qtext.empty()) {
    if (o.dump.collection.empty() || o.dump.db.empty()) return fail("copy", "--query needs --db and --collection");
    auto q = formats::extjson::parse(qtext);
    if (!q) return fail("copy", "--query is not valid Extended JSON: " + q.status().to_string());
    o.dump.query = std::move(*q);
  }
  return 0;
}

// Checks the flags and fills the copy options from them, before anything connects. Returns an exit
// code (0: go on).
int check_flags(CopyFlags& f) {
  auto& o = f.opts;
  // A bad namespace pattern is a command-line error, reported before anything connects.
  if (Status s = pipeline::check_namespace_flags(
          {o.dump.ns_include, o.dump.ns_exclude, o.restore.plan.ns_from, o.restore.plan.ns_to});
      !s)
    return usage_error("copy", s.message());
  if (f.from.uri.empty()) return fail("copy", "--from is required (the source's connection string)");
  if (f.to.uri.empty()) return fail("copy", "--to is required (the target's connection string)");
  auto from = f.from.resolve();
  if (!from) return fail("copy", "--from: " + from.status().to_string());
  auto to = f.to.resolve();
  if (!to) return fail("copy", "--to: " + to.status().to_string());
  o.dump.uri = *from;
  o.restore.uri = *to;

  if (int rc = read_query(f); rc != 0) return rc;
  if (Status s = o.validate(); !s) return fail("copy", s.message());
  o.dump.read_preference = f.read_preference;
  o.restore.num_parallel_collections = o.dump.parallel_collections;
  if (o.restore.maintain_insertion_order) o.restore.insertion_workers = 1;

  if (!pipeline::parse_progress_mode(f.progress, o.restore.progress.mode))
    return fail("copy", "--progress must be auto, bar, plain, json or none");
  return 0;
}

// Progress, log lines (per namespace with -v, none with --quiet) and the interrupt flag.
void setup_reporting(CopyFlags& f) {
  auto& o = f.opts;
  if (o.restore.progress.mode == pipeline::ProgressMode::kAuto && !::isatty(2))
    o.restore.progress.mode = pipeline::ProgressMode::kNone;
  o.restore.progress.quiet = f.quiet;
  o.restore.progress.verbosity = f.verbose;
  bool quiet = f.quiet;
  int verbose = f.verbose;
  o.restore.log = [quiet, verbose](pipeline::LogLevel level, const std::string& msg) {
    if (quiet || verbose == 0) return;  // per-namespace lines with -v
    (void)level;
    std::fprintf(stderr, "%s\n", msg.c_str());
  };
  o.log = [quiet](const std::string& msg) {
    if (!quiet) std::fprintf(stderr, "%s\n", msg.c_str());
  };
  o.interrupt = interrupt_token();
}

// The closing line: documents, namespaces, throughput, duplicates, and the verification's time.
void print_summary(const pipeline::CopyReport& rep) {
  char verify_secs[32];
  std::snprintf(verify_secs, sizeof verify_secs, "%.2f", rep.seconds - rep.copy_seconds);
  std::string verified =
      rep.verified ? std::string("; verified: every namespace matches (in ") + verify_secs + "s)" : std::string();
  double mb = static_cast<double>(rep.dump.raw_bytes) / 1e6;
  std::fprintf(stderr,
               "copied %llu document(s) in %zu namespace(s), %.1f MB in %.2fs (%.1f MB/s); %llu duplicate key "
               "error(s)%s\n",
               static_cast<unsigned long long>(rep.restore.inserted), rep.restore.namespaces.size(), mb,
               rep.copy_seconds, rep.copy_seconds > 0 ? mb / rep.copy_seconds : 0.0,
               static_cast<unsigned long long>(rep.restore.duplicates), verified.c_str());
}

int run(CopyFlags& f) {
  if (int rc = check_flags(f); rc != 0) return rc;
  setup_reporting(f);
  pipeline::FollowOptions fo;
  if (int rc = setup_follow(f, fo); rc != 0) return rc;
  pipeline::CopyReport partial;
  auto res = pipeline::run_copy(f.opts, &partial);
  const pipeline::CopyReport& rep = res ? *res : partial;
  const Status status = res ? Status{} : res.status();
  print_namespace_errors(rep.restore, status);
  if (!status.is_ok()) {
    if (status.code() == ErrorCode::kCancelled && interrupted())
      return fail("copy", "interrupted: stopped before completion (the target holds a partial copy)");
    return fail("copy", status.to_string());
  }
  if (!rep.ok()) return fail("copy", "copy incomplete: see the errors above");
  if (!f.quiet) print_summary(rep);
  return 0;
}

// --follow and its cutover and resume flags.
void add_follow_flags(CLI::App& cmd, CopyFlags& f) {
  cmd.add_flag("--follow", f.follow,
               "after the copy, tail the source's oplog and apply it to the target until cutover (SIGINT/SIGTERM, "
               "--until, --cutover-file); prints 'cutover at <seconds>:<ordinal>' and exits 0");
  cmd.add_option("--until", f.until, "--follow: cut over at this oplog point (<seconds>[:ordinal]) or 'now'");
  cmd.add_option("--cutover-file", f.cutover_file, "--follow: cut over once this file exists");
  cmd.add_flag("--resume", f.follow_resume,
               "--follow: skip the copy and continue after the point recorded on the target "
               "(bsonpipe_follow.state)");
}

}  // namespace

void add_copy_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<CopyFlags>();
  auto& o = f->opts;
  CLI::App* cmd = app.add_subcommand(
      "copy",
      "copy collections from one server to another, streaming (no disk): dump's filters, restore's options\n"
      "examples:\n"
      "  bsonpipe copy --from mongodb://old:27017/ --to mongodb://new:27017/ --drop --verify\n"
      "  bsonpipe copy --from URI --to URI --db shop --nsFrom 'shop.$c$' --nsTo 'shop_copy.$c$'\n"
      "  bsonpipe copy --from 'mongodb://old/?replicaSet=rs0' --to URI --oplog --drop   # point in time");
  f->from.add_to(*cmd, "--from");
  f->to.add_to(*cmd, "--to");
  // The source side (dump).
  cmd->add_option("-d,--db", o.dump.db, "database to copy (default: all but local and config)");
  cmd->add_option("-c,--collection", o.dump.collection, "collection to copy (needs --db)");
  cmd->add_option("-q,--query", f->query, "Extended JSON filter on the source (needs --db and --collection)");
  cmd->add_option("--queryFile", f->query_file, "file holding the --query filter");
  cmd->add_option("--nsInclude", o.dump.ns_include, "source namespaces to copy (wildcards, repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--nsExclude", o.dump.ns_exclude, "source namespaces to skip (wildcards, repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--excludeCollection", o.dump.exclude_collections, "collection to leave out (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--excludeCollectionsWithPrefix", o.dump.exclude_collection_prefixes,
                  "leave out collections with this prefix (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-j,--numParallelCollections", o.dump.parallel_collections, "collections read and written at once")
      ->capture_default_str();
  cmd->add_option("--readers", o.dump.readers, "parallel cursors (by _id range) per large source collection")
      ->capture_default_str();
  cmd->add_option("--rate-limit", o.dump.rate_limit_mbps, "most MB/s of raw BSON read from the source (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--split-threshold", o.dump.split_min_bytes,
                  "source collections of at least this many bytes are read in _id ranges")
      ->capture_default_str();
  cmd->add_option("--readPreference", f->read_preference, "source read preference: primary, secondary, ...");
  cmd->add_option("--segment-bytes", o.segment_bytes,
                  "largest archive segment between the two sides (short segments keep collections loading in "
                  "parallel)")
      ->capture_default_str();
  cmd->add_flag("--viewsAsCollections", o.dump.views_as_collections, "copy views' documents as collections");
  cmd->add_option("--readBatchSize", o.dump.batch_size,
                  "documents per find/getMore batch on the source (default: ~1 MiB of documents)");
  cmd->add_flag("--oplog", o.dump.oplog,
                "point in time: capture the source's oplog while it is read (replica sets, whole instance) and "
                "replay it on the target at the end");
  add_follow_flags(*cmd, *f);
  // The target side (restore).
  cmd->add_option("--nsFrom", o.restore.plan.ns_from, "rename namespaces matching this pattern ($var$ captures)")
      ->allow_extra_args(false);
  cmd->add_option("--nsTo", o.restore.plan.ns_to, "... to this pattern (paired with --nsFrom)")
      ->allow_extra_args(false);
  cmd->add_flag("--drop", o.restore.drop, "drop each target collection before copying into it");
  cmd->add_flag("--swap", o.restore.swap,
                "load into a temporary collection, build its indexes, then rename it over the live one");
  cmd->add_option("--numInsertionWorkersPerCollection", o.restore.insertion_workers,
                  "insertion workers (connections) per collection")
      ->capture_default_str();
  cmd->add_option("--batchSize", o.restore.batch_size, "documents per insert (0 = the target's maxWriteBatchSize)");
  cmd->add_flag("--noIndexRestore", o.restore.no_index_restore, "do not create indexes on the target");
  cmd->add_flag("--noOptionsRestore", o.restore.no_options_restore, "create collections without their options");
  cmd->add_flag("--stopOnError", o.restore.stop_on_error, "stop at the first write error (duplicates included)");
  cmd->add_flag("--maintainInsertionOrder", o.restore.maintain_insertion_order,
                "insert in source order (ordered, one worker)");
  cmd->add_option("--writeConcern", o.restore.write_concern, "write concern: majority, <n> or a JSON document");
  cmd->add_flag("--bypassDocumentValidation", o.restore.bypass_document_validation,
                "skip the target collections' validators");
  cmd->add_flag("--preserveUUID", o.restore.preserve_uuid, "keep the collections' UUIDs (requires --drop)");
  cmd->add_flag("--require-empty", o.restore.require_empty,
                "refuse, writing nothing, if any target collection holds documents");
  cmd->add_flag("--verify", o.verify,
                "at the end, compare every copied collection's document count and content digest, and every "
                "view's definition, on both sides; exit 1 naming any that differs");
  cmd->add_option("--progress", f->progress, "auto, bar, plain, json or none (target side)")->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "only errors");
  cmd->add_flag("-v,--verbose", f->verbose, "per-namespace messages");
  cmd->callback([f, &exit_code] { exit_code = run(*f); });
}

}  // namespace bsonpipe::tools
