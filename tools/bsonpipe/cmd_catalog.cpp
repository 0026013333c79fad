// `bsonpipe catalog list|info|remove|prune ROOT ...`: the catalog of nightly dumps
// (pipeline/catalog/catalog.hpp). Tables go to standard output, errors to standard error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/location.hpp"

namespace bsonpipe::tools {

namespace {

using pipeline::CatalogEntry;

struct CatalogFlags {
  std::string root;
  std::string s3_endpoint;  // --s3-endpoint URL (for an s3://BUCKET/PREFIX root)
  DumpLocation location;    // the root opened (its storage and the path inside it)
  std::string id;
  bool json = false;
  bool dry_run = false;
  pipeline::PrunePolicy policy;
  CLI::Option* keep_last = nullptr;
  CLI::Option* keep_daily = nullptr;
  CLI::Option* keep_weekly = nullptr;
};

std::string iso_time(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// complete / verified / incomplete / writing
std::string status_word(const CatalogEntry& e) {
  if (e.verified) return "verified";
  return std::string(pipeline::catalog_state_name(e.state));
}

std::string source_of(const CatalogEntry& e) {
  return e.manifest ? e.manifest->source : "";
}

void append_entry(formats::Builder& b, const std::string& key, const CatalogEntry& e, bool details,
                  const DumpLocation& loc) {
  b.open_document(key)
      .append_string("id", e.id)
      .append_string("time", iso_time(e.time_ms))
      .append_int64("timeMs", e.time_ms)
      .append_string("status", status_word(e))
      .append_bool("complete", e.complete())
      .append_bool("verified", e.verified)
      .append_bool("beingWritten", e.state == pipeline::CatalogState::kWriting)
      .append_string("path", loc.display(e.dir.string()))
      .append_string("source", source_of(e))
      .append_int64("sizeBytes", static_cast<std::int64_t>(e.size))
      .append_int32("namespaces", static_cast<std::int32_t>(e.namespaces.size()));
  if (!e.problem.empty()) b.append_string("problem", e.problem);
  if (details && e.manifest) {
    const auto& m = *e.manifest;
    b.append_string("toolVersion", m.tool_version)
        .append_string("topology", m.topology)
        .append_string("serverVersion", m.server_version)
        .append_string("format", m.format)
        .append_string("compression", m.compression)
        .append_string("start", iso_time(m.start_ms))
        .append_string("end", iso_time(m.end_ms));
    b.open_array("namespaceDetails");
    for (const auto& ns : e.namespaces) {
      std::uint64_t docs = 0, raw = 0, stored = 0;
      for (const auto& f : m.files)
        if (f.ns == ns) {
          if (f.kind == "data") docs += f.documents;
          raw += f.raw_bytes;
          stored += f.stored_bytes;
        }
      b.open_document(b.next_array_key())
          .append_string("ns", ns)
          .append_int64("documents", static_cast<std::int64_t>(docs))
          .append_int64("rawBytes", static_cast<std::int64_t>(raw))
          .append_int64("storedBytes", static_cast<std::int64_t>(stored))
          .close();
    }
    b.close();
    if (!e.absent_namespaces.empty()) {
      b.open_array("absentNamespaces");
      for (const auto& ns : e.absent_namespaces) b.append_string(b.next_array_key(), ns);
      b.close();
    }
    std::uint64_t bundled_bytes = 0, bundled_files = 0;
    for (const auto& f : m.bundled)
      if (f.type == "file") {
        ++bundled_files;
        bundled_bytes += f.size;
      }
    b.append_int64("bundledFiles", static_cast<std::int64_t>(bundled_files))
        .append_int64("bundledBytes", static_cast<std::int64_t>(bundled_bytes));
  }
  b.close();
}

void print_json(formats::Builder& b) {
  formats::Bytes doc = b.finish();
  std::string out =
      formats::extjson::to_json(formats::DocView(doc), {.mode = formats::extjson::Mode::kRelaxed, .indent = 2});
  std::printf("%s\n", out.c_str());
}

int run_list(CatalogFlags& f) {
  auto entries = pipeline::list_catalog(f.location.path, f.location.storage());
  if (!entries) return fail("catalog list", entries.status().to_string());
  if (f.json) {
    formats::Builder b;
    b.append_string("root", f.root);
    b.open_array("entries");
    for (const auto& e : *entries) append_entry(b, b.next_array_key(), e, false, f.location);
    b.close();
    print_json(b);
    return 0;
  }
  std::printf("%-24s %-20s %-10s %10s %4s  %s\n", "ID", "TIME (UTC)", "STATUS", "SIZE", "NS", "SOURCE");
  for (const auto& e : *entries)
    std::printf("%-24s %-20s %-10s %10s %4zu  %s\n", e.id.c_str(), iso_time(e.time_ms).c_str(), status_word(e).c_str(),
                human_bytes(e.size).c_str(), e.namespaces.size(), source_of(e).c_str());
  if (entries->empty()) std::fprintf(stderr, "catalog %s holds no dumps\n", f.root.c_str());
  return 0;
}

int run_info(CatalogFlags& f) {
  auto e = pipeline::find_catalog_entry(f.location.path, f.id, f.location.storage());
  if (!e) return fail("catalog info", e.status().to_string());
  if (f.json) {
    formats::Builder b;
    append_entry(b, "entry", *e, true, f.location);
    print_json(b);
    return 0;
  }
  std::printf("id:          %s\n", e->id.c_str());
  std::printf("path:        %s\n", f.location.display(e->dir.string()).c_str());
  std::printf("status:      %s\n", status_word(*e).c_str());
  std::printf("size:        %s (%llu bytes)\n", human_bytes(e->size).c_str(), static_cast<unsigned long long>(e->size));
  if (!e->problem.empty()) std::printf("problem:     %s\n", e->problem.c_str());
  if (!e->manifest) {
    std::printf("manifest:    none (the dump did not finish)\n");
    return 0;
  }
  const auto& m = *e->manifest;
  std::printf("source:      %s (%s, server %s)\n", m.source.c_str(), m.topology.c_str(), m.server_version.c_str());
  std::printf("tool:        %s %s\n", m.tool.c_str(), m.tool_version.c_str());
  std::printf("format:      %s, compression %s\n", m.format.c_str(), m.compression.c_str());
  std::printf("started:     %s\n", iso_time(m.start_ms).c_str());
  std::printf("finished:    %s (%.1f s)\n", iso_time(m.end_ms).c_str(),
              static_cast<double>(m.end_ms - m.start_ms) / 1000);
  std::printf("namespaces:  %zu\n", e->namespaces.size());
  for (const auto& ns : e->namespaces) {
    std::uint64_t docs = 0, stored = 0;
    for (const auto& file : m.files)
      if (file.ns == ns) {
        if (file.kind == "data") docs += file.documents;
        stored += file.stored_bytes;
      }
    std::printf("  %-40s %12llu documents %10s\n", ns.c_str(), static_cast<unsigned long long>(docs),
                human_bytes(stored).c_str());
  }
  if (!e->absent_namespaces.empty()) {
    std::printf(
        "absent:      %zu namespace(s) the target did not have when this backup was taken (restore\n"
        "             --drop of this dump drops them):\n",
        e->absent_namespaces.size());
    for (const auto& ns : e->absent_namespaces) std::printf("  %s\n", ns.c_str());
  }
  if (!m.bundled_roots.empty()) {
    std::uint64_t files = 0, bytes = 0;
    for (const auto& b : m.bundled)
      if (b.type == "file") {
        ++files;
        bytes += b.size;
      }
    std::printf("bundled:     %llu file(s), %s\n", static_cast<unsigned long long>(files), human_bytes(bytes).c_str());
    for (const auto& r : m.bundled_roots) std::printf("  %s <- %s\n", r.name.c_str(), r.source.c_str());
  }
  return 0;
}

int run_remove(CatalogFlags& f) {
  if (f.id == "latest") return fail("catalog remove", "give the id to remove ('latest' is not accepted here)");
  if (Status s = pipeline::remove_catalog_entry(f.location.path, f.id, f.location.storage()); !s)
    return fail("catalog remove", s.to_string());
  std::fprintf(stderr, "removed %s\n", f.id.c_str());
  return 0;
}

int run_prune(CatalogFlags& f) {
  if (f.keep_last->count() + f.keep_daily->count() + f.keep_weekly->count() == 0)
    return fail("catalog prune", "give at least one of --keep-last, --keep-daily, --keep-weekly");
  // The values are checked by prune_catalog (PrunePolicy::validate), before the catalog is listed.
  auto r = pipeline::prune_catalog(f.location.path, f.policy, f.dry_run, f.location.storage());
  if (!r) return fail("catalog prune", r.status().to_string());
  std::size_t removed = 0;
  const char* verb = f.dry_run ? "would remove" : "remove";
  for (const auto& d : *r) {
    std::printf("%-12s %-24s %-10s %s\n", d.keep ? "keep" : verb, d.entry.id.c_str(), status_word(d.entry).c_str(),
                d.reason.c_str());
    if (!d.keep) ++removed;
  }
  if (f.dry_run)
    std::fprintf(stderr, "dry run: %zu would be removed, %zu kept; nothing was removed\n", removed,
                 r->size() - removed);
  else
    std::fprintf(stderr, "%zu removed, %zu kept\n", removed, r->size() - removed);
  return 0;
}

// The root (a local directory or s3://BUCKET/PREFIX) opened into f.location, then `run`.
int with_root(CatalogFlags& f, const char* what, int (*run)(CatalogFlags&)) {
  auto loc = open_location(f.root, f.s3_endpoint);
  if (!loc) return fail(what, loc.status().to_string());
  f.location = std::move(*loc);
  return run(f);
}

// --s3-endpoint on each subcommand (the root may be s3://BUCKET/PREFIX).
void add_s3_endpoint(CLI::App& cmd, CatalogFlags& f) {
  cmd.add_option("--s3-endpoint", f.s3_endpoint,
                 "S3 endpoint for an s3:// ROOT, e.g. http://127.0.0.1:9000 (overrides AWS_ENDPOINT_URL; path-style)")
      ->type_name("URL");
}

}  // namespace

void add_catalog_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("catalog", "List, inspect, remove and prune the dumps of a catalog (dump --catalog)");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  bsonpipe dump --uri mongodb://db1/ --gzip --catalog /backup/db1      # nightly: /backup/db1/<UTC time>/\n"
      "  bsonpipe catalog list /backup/db1 [--json]\n"
      "  bsonpipe catalog info /backup/db1 2026-11-22T01-00-00Z\n"
      "  bsonpipe catalog prune /backup/db1 --keep-last 3 --keep-daily 7 --keep-weekly 4 --dry-run\n"
      "  bsonpipe restore --uri mongodb://db1/ --catalog /backup/db1 --id latest --drop\n"
      "  bsonpipe verify --catalog /backup/db1 --id latest                    # shows as verified in list\n"
      "  bsonpipe catalog list s3://backups/db1 --s3-endpoint http://minio:9000 # a catalog on S3\n"
      "\n"
      "A restore --backup-first ROOT backup also lists, in its manifest (\"absentNamespaces\", shown by\n"
      "info), the namespaces the restore was about to create; restoring that backup with --drop (the\n"
      "undo) drops them again.");

  auto list = std::make_shared<CatalogFlags>();
  auto* l = cmd->add_subcommand("list", "list the dumps, newest first (id, time, status, size, namespaces, source)");
  l->add_option("root", list->root, "catalog directory or s3://BUCKET/PREFIX")->required();
  add_s3_endpoint(*l, *list);
  l->add_flag("--json", list->json, "one JSON document with an 'entries' array");
  l->callback([list, &exit_code] { exit_code = with_root(*list, "catalog list", run_list); });

  auto info = std::make_shared<CatalogFlags>();
  auto* i = cmd->add_subcommand("info", "show one dump's manifest summary and per-namespace counts");
  i->add_option("root", info->root, "catalog directory or s3://BUCKET/PREFIX")->required();
  add_s3_endpoint(*i, *info);
  i->add_option("id", info->id, "dump id, or 'latest' (the newest complete dump)")->required();
  i->add_flag("--json", info->json, "as JSON");
  i->callback([info, &exit_code] { exit_code = with_root(*info, "catalog info", run_info); });

  auto rm = std::make_shared<CatalogFlags>();
  auto* r = cmd->add_subcommand("remove", "remove one dump (refused while it is being written)");
  r->add_option("root", rm->root, "catalog directory or s3://BUCKET/PREFIX")->required();
  add_s3_endpoint(*r, *rm);
  r->add_option("id", rm->id, "dump id")->required();
  r->callback([rm, &exit_code] { exit_code = with_root(*rm, "catalog remove", run_remove); });

  auto pr = std::make_shared<CatalogFlags>();
  auto* p = cmd->add_subcommand(
      "prune", "remove the dumps no retention rule keeps; never the newest complete dump, never one being written");
  p->add_option("root", pr->root, "catalog directory or s3://BUCKET/PREFIX")->required();
  add_s3_endpoint(*p, *pr);
  pr->keep_last = p->add_option("--keep-last", pr->policy.keep_last, "keep the N newest complete dumps");
  pr->keep_daily = p->add_option("--keep-daily", pr->policy.keep_daily,
                                 "keep the newest dump of each of the D most recent days (UTC) that have one");
  pr->keep_weekly = p->add_option("--keep-weekly", pr->policy.keep_weekly,
                                  "keep the newest dump of each of the W most recent ISO weeks that have one");
  p->add_flag("--dry-run", pr->dry_run, "print what would be removed; remove nothing");
  p->footer(
      "Incomplete dumps (failed or interrupted runs) older than the newest complete dump are removed,\n"
      "unless still being written (the catalog lock names the dump being written).");
  p->callback([pr, &exit_code] { exit_code = with_root(*pr, "catalog prune", run_prune); });
}

}  // namespace bsonpipe::tools
