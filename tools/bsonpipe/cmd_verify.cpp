// bsonpipe verify: check a dump (manifest checksums and counts, every BSON document, metadata),
// optionally against a live database. Exit 0 = all good, 1 = problems or error, 2 = usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "pipeline/catalog/catalog.hpp"
#include "pipeline/ops/verify.hpp"
#include "tools/bsonpipe/cli.hpp"
#include "tools/bsonpipe/location.hpp"

namespace bsonpipe::tools {

namespace {

struct VerifyFlags {
  std::string dump;
  std::string archive;
  std::string catalog, catalog_id;  // --catalog ROOT --id ID|latest: verify ROOT/<id>
  std::string against;
  bool json = false;
  bool no_utf8 = false;
  std::size_t max_per_file = 20;
  int jobs = 4;
  std::string s3_endpoint;  // --s3-endpoint URL (for s3:// dumps, archives and catalogs)
  DumpLocation location;    // the dump, archive or catalog opened (kept open for the run)
};

// `where` (a dump, archive or catalog root; local or s3://BUCKET/KEY) opened into f.location,
// `where` becoming the path inside its storage. 0 when the run may go on.
int open_verify_location(VerifyFlags& f, std::string& where) {
  auto loc = open_location(where, f.s3_endpoint);
  if (!loc) return fail("verify", loc.status().to_string());
  f.location = std::move(*loc);
  where = f.location.path;
  return 0;
}

// An s3:// input's report names the object as the user gave it (s3://BUCKET/KEY), not its key.
void name_remote_input(const DumpLocation& loc, pipeline::VerifyReport& r) {
  if (!loc.remote()) return;
  for (auto& p : r.problems)
    if (p.file == r.input) p.file = loc.display(p.file);
  r.input = loc.display(r.input);
}

constexpr const char* kFooter = R"(Checks:
  manifest.json (bsonpipe dumps): complete flag, every listed file present with its size and
    XXH3-128, per-file document counts; files not listed ("extra file") and listed files that
    are missing are named
  every .bson / .bson.gz / .bson.zst: decompressed, every document validated (offset of the
    first fault), counted
  every .metadata.json(.gz): parses, index specs are usable
  stock mongodump dumps (no manifest): the same structure checks, and a notice saying that no
    checksums or counts could be compared
  archives: structure, every document, each namespace's CRC-64
  --against URI: per namespace, document count and an order-independent content digest

Catalog dumps (bsonpipe dump --catalog ROOT): --catalog ROOT --id ID is the same as verifying
ROOT/ID; --id latest is the newest complete dump (as for restore --catalog). An unknown id or
an incomplete dump is refused in one line (give its directory to inspect it anyway). A passing
run shows as "verified" in `bsonpipe catalog list`.

Examples:
  bsonpipe verify dump/
  bsonpipe verify --archive=nightly.archive.gz
  bsonpipe verify dump/ --against mongodb://db1:27017/ --json
  bsonpipe verify --catalog /backup/db1 --id latest
  bsonpipe verify --catalog /backup/db1 --id 2026-11-22T01-00-00Z --against mongodb://db1:27017/
  bsonpipe verify --catalog s3://backups/db1 --id latest --s3-endpoint http://minio:9000

Exit codes: 0 all good, 1 problems found (or an error), 2 usage error.)";

// `finished`: the run was not stopped by an error (its line is printed by the caller).
void print_text(const pipeline::VerifyReport& r, bool finished) {
  for (const auto& p : r.problems) std::printf("%s\n", p.to_string().c_str());
  if (r.suppressed) std::printf("... and %zu more problem(s) not listed\n", r.suppressed);
  for (const auto& n : r.notices) std::printf("note: %s\n", n.c_str());
  if (r.against_ran) {
    std::size_t compared = 0, equal = 0;
    for (const auto& n : r.namespaces) {
      if (!n.compared) continue;
      ++compared;
      if (n.matches) ++equal;
    }
    std::printf("against %s: %zu namespace(s) compared, %zu equal, %zu differ\n", r.against.c_str(), compared, equal,
                compared - equal);
  }
  std::printf("%s %s: %s; %llu file(s), %llu document(s), %llu bytes (decompressed) checked; %s\n", r.format.c_str(),
              r.input.c_str(),
              r.has_manifest ? (r.manifest_complete ? "manifest complete" : "manifest NOT complete") : "no manifest",
              static_cast<unsigned long long>(r.files_checked), static_cast<unsigned long long>(r.documents),
              static_cast<unsigned long long>(r.raw_bytes),
              finished && r.ok() ? "OK" : (std::to_string(r.problems.size() + r.suppressed) + " problem(s)").c_str());
}

int run_verify_command(VerifyFlags& f) {
  if (!f.catalog_id.empty() && f.catalog.empty()) {
    std::fprintf(stderr, "bsonpipe verify: --id needs --catalog ROOT\n");
    return 2;
  }
  if (!f.catalog.empty()) {
    if (f.catalog_id.empty()) {
      std::fprintf(stderr, "bsonpipe verify: --catalog needs --id ID (or --id latest)\n");
      return 2;
    }
    if (!f.dump.empty() || !f.archive.empty()) {
      std::fprintf(stderr, "bsonpipe verify: --catalog names the dump: give no dump directory or --archive\n");
      return 2;
    }
    if (int rc = open_verify_location(f, f.catalog); rc != 0) return rc;
    auto e = pipeline::resolve_catalog_dump(f.catalog, f.catalog_id, "verify", f.location.storage());
    if (!e) return fail("verify", e.status().to_string());
    f.dump = e->dir.string();
  } else if (!f.dump.empty()) {
    if (int rc = open_verify_location(f, f.dump); rc != 0) return rc;
  } else if (!f.archive.empty()) {
    if (int rc = open_verify_location(f, f.archive); rc != 0) return rc;
  }
  if (f.dump.empty() == f.archive.empty()) {
    std::fprintf(stderr,
                 "bsonpipe verify: give a dump directory, --archive FILE or --catalog ROOT --id ID (one of them; "
                 "see --help)\n");
    return 2;
  }
  pipeline::VerifyOptions o;
  o.input = f.archive.empty() ? f.dump : f.archive;
  o.archive = !f.archive.empty();
  o.against = f.against;
  o.check_utf8 = !f.no_utf8;
  o.max_problems_per_file = f.max_per_file;
  o.jobs = f.jobs;
  o.interrupt = interrupt_token();
  o.storage = f.location.storage();
  o.catalog_entry = !f.catalog.empty();
  pipeline::VerifyReport partial;  // what a stopped run found, printed all the same
  auto res = pipeline::run_verify(o, &partial);
  pipeline::VerifyReport& r = res ? *res : partial;
  // Only a run that finished is recorded (a stopped one leaves the catalog's record as it was).
  Result<std::string> record = res ? pipeline::record_catalog_verification(o, r) : Result<std::string>(std::string());
  name_remote_input(f.location, r);
  if (f.json) {
    std::printf("%s\n", pipeline::verify_report_json(r, res.status()).c_str());
  } else {
    print_text(r, res.is_ok());
  }
  std::fflush(stdout);
  if (!res) return fail("verify", res.status().to_string());
  if (!record) return fail("verify", "catalog record: " + record.status().to_string());
  if (!record->empty() && !f.json && r.ok())
    std::fprintf(stderr, "recorded as verified: %s\n", f.location.display(*record).c_str());
  return r.ok() ? 0 : 1;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand("verify", "check a dump: manifest checksums and counts, BSON, metadata");
  cmd->footer(kFooter);
  cmd->add_option("dump", flags->dump, "dump directory (bsonpipe or mongodump) or s3://BUCKET/PREFIX");
  cmd->add_option("--archive", flags->archive, "an archive file or s3://BUCKET/KEY instead (gzip/zstd detected)");
  cmd->add_option("--s3-endpoint", flags->s3_endpoint,
                  "S3 endpoint for s3:// locations, e.g. http://127.0.0.1:9000 (overrides AWS_ENDPOINT_URL; "
                  "path-style)")
      ->type_name("URL");
  cmd->add_option("--catalog", flags->catalog, "verify a dump of this catalog (see --id)")->type_name("ROOT");
  cmd->add_option("--id", flags->catalog_id, "with --catalog: the dump's id, or 'latest' (the newest complete one)");
  cmd->add_option("--against", flags->against, "compare counts and content digests with this MongoDB URI");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->add_flag("--noUTF8Check", flags->no_utf8, "do not check that strings are valid UTF-8");
  cmd->add_option("-j,--jobs", flags->jobs, "files checked at once")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--maxProblemsPerFile", flags->max_per_file, "problems listed per file (0 = all)")
      ->capture_default_str();
  cmd->callback([flags, &exit_code] { exit_code = run_verify_command(*flags); });
}

}  // namespace bsonpipe::tools
