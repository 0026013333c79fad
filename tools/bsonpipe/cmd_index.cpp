// bsonpipe index rebuild: create the indexes a dump describes that a live database lacks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "pipeline/ops/index_rebuild.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/connection_flags.hpp"
#include "tools/bsonpipe/location.hpp"

namespace bsonpipe::tools {

namespace {

struct IndexFlags {
  ConnectionFlags conn;
  pipeline::IndexRebuildOptions opts;
  std::string from;
  std::string s3_endpoint;  // --s3-endpoint URL (for an s3:// --from)
  DumpLocation location;    // --from opened (kept open for the run)
};

int run_rebuild(IndexFlags& f) {
  auto& o = f.opts;
  if (Status s = o.validate(); !s) return usage_error("index rebuild", s.to_string());
  auto uri = f.conn.resolve();
  if (!uri) return fail("index rebuild", uri.status().to_string());
  o.uri = *uri;
  auto loc = open_location(f.from, f.s3_endpoint);
  if (!loc) return fail("index rebuild", loc.status().to_string());
  f.location = std::move(*loc);
  o.from = f.location.path;
  o.storage = f.location.storage();
  o.interrupt = interrupt_token();
  pipeline::IndexRebuildReport partial;  // a stopped run's entries, printed all the same
  auto res = pipeline::run_index_rebuild(o, &partial);
  const pipeline::IndexRebuildReport& rep = res ? *res : partial;
  for (const auto& s : rep.skipped) std::fprintf(stderr, "%s\n", s.c_str());
  std::size_t todo = 0, failed = 0, differs = 0;
  for (const auto& e : rep.entries) {
    std::string verb(pipeline::index_action_name(e.action));
    if (o.plan_only && e.action == pipeline::IndexAction::kCreate) verb = "would-create";
    std::printf("%-18s %s%s%s  %s\n", verb.c_str(), e.ns.c_str(), e.name.empty() ? "" : " ", e.name.c_str(),
                e.detail.c_str());
    if (e.action == pipeline::IndexAction::kCreate || e.action == pipeline::IndexAction::kCreated) ++todo;
    if (e.action == pipeline::IndexAction::kFailed) ++failed;
    if (e.action == pipeline::IndexAction::kDiffers) ++differs;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%zu index(es) %s, %zu differ from the dump (left as they are), %zu failed%s\n", todo,
               o.plan_only ? "to create" : "created", differs, failed, o.plan_only ? " (--plan: nothing changed)" : "");
  if (!res) {
    if (res.status().code() == ErrorCode::kCancelled) return fail("index rebuild", "interrupted");
    return fail("index rebuild", res.status().to_string());
  }
  if (!rep.ok()) return fail("index rebuild", "some indexes could not be created");
  return 0;
}

}  // namespace

void add_index_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("index", "index maintenance from a dump's metadata");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<IndexFlags>();
  auto& o = flags->opts;
  CLI::App* rebuild = cmd->add_subcommand("rebuild", "create every index of the dump's metadata that is missing");
  flags->conn.add_to(*rebuild);
  rebuild->add_option("--from", flags->from, "dump directory or archive file (or s3://BUCKET/KEY)")->required();
  rebuild
      ->add_option("--s3-endpoint", flags->s3_endpoint,
                   "S3 endpoint for an s3:// --from, e.g. http://127.0.0.1:9000 (overrides AWS_ENDPOINT_URL; "
                   "path-style)")
      ->type_name("URL");
  rebuild->add_option("--nsInclude", o.plan.ns_include, "namespaces to consider (wildcards, repeatable)")
      ->allow_extra_args(false);
  rebuild->add_option("--nsExclude", o.plan.ns_exclude, "namespaces to leave out (wildcards, repeatable)")
      ->allow_extra_args(false);
  rebuild->add_option("--nsFrom", o.plan.ns_from, "the dump's namespaces live under another name: from")
      ->allow_extra_args(false);
  rebuild->add_option("--nsTo", o.plan.ns_to, "... to")->allow_extra_args(false);
  rebuild->add_flag("--keepIndexVersion", o.index.keep_index_version, "keep the index version of the dump");
  rebuild->add_flag("--convertLegacyIndexes", o.index.convert_legacy_indexes, "rewrite legacy index key values");
  rebuild->add_option("-j,--numParallelCollections", o.num_parallel_collections, "collections at once")
      ->capture_default_str();
  rebuild->add_flag("--plan", o.plan_only, "print what would be done, change nothing");
  rebuild->callback([flags, &exit_code] { exit_code = run_rebuild(*flags); });
}

}  // namespace bsonpipe::tools
