// bsonpipe verify: checks a dump (directory or archive) against its manifest, validates every
// BSON document and metadata file, and optionally compares per-namespace counts and content
// digests with a live database. Reports every problem found instead of stopping at the first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "formats/status.hpp"
#include "io/storage.hpp"

namespace bsonpipe::pipeline {

struct VerifyOptions {
  // A dump directory (bsonpipe's or mongodump's), or an archive file when `archive` is set.
  std::filesystem::path input;
  // Read `input` as a mongodump archive (gzip/zstd detected from its first bytes). Default: off,
  // but a regular file given as `input` is read as an archive anyway.
  bool archive = false;
  // A MongoDB URI: compare each dumped namespace's count and content digest with this server.
  // Default "": no comparison.
  std::string against;
  // Check that strings and keys hold well-formed UTF-8 (as mongorestore --objcheck). Default: on.
  bool check_utf8 = true;
  // At most this many problems are reported per file (a corrupt file would otherwise flood the
  // report); the rest are counted in `VerifyReport::suppressed`. Default 20.
  std::size_t max_problems_per_file = 20;
  // Files read, decompressed and validated at once. Default 4.
  int jobs = 4;
  // SIGINT/SIGTERM (a stop request); stops the run with an "interrupted" error. Default: none.
  std::stop_token interrupt;
  // Where the dump (its listing, files, manifest, archive) is read and the catalog's verify
  // record written. Default null: io::local_storage(). Must outlive the run.
  io::Storage* storage = nullptr;
  // The input is known to be a catalog entry, ROOT/<id> (verify --catalog ROOT --id): its outcome
  // is recorded even where the catalog's lock object is gone (object storage drops it when
  // released). Default: off, the entry is recognized by ROOT/.lock (or, on object storage, by its
  // id-shaped name beside other catalog entries or records).
  bool catalog_entry = false;

  // The checks no run could pass: jobs at least 1. The message names the flag. run_verify calls
  // it first.
  [[nodiscard]] Status validate() const;
};

// One thing wrong with the dump. `file` is relative to the dump root (the archive's path for an
// archive; "" when the problem is not about one file).
struct VerifyProblem {
  std::string file;
  std::string ns;            // "db.collection" when known
  std::int64_t offset = -1;  // byte offset of a BSON/archive fault (decompressed stream for .gz/.zst)
  std::string message;
  // "file: message (at offset N)" — the one-line form printed by the command.
  std::string to_string() const;
};

// Per data namespace: what the dump holds, and with --against, what the server holds.
struct VerifyNamespace {
  std::string ns;
  std::string file;  // its data file (directory dumps) or "" (archives)
  std::uint64_t documents = 0;
  std::string digest;     // formats::MultisetDigest hex of the dump's documents
  bool compared = false;  // --against ran for this namespace
  std::uint64_t server_documents = 0;
  std::string server_digest;
  bool matches = false;  // compared and equal count and digest
};

// What a run found. A fatal error that stopped the run (cannot read the input, cannot connect,
// interrupted) is run_verify's Status, not a field here.
struct VerifyReport {
  std::string input;
  std::string format;  // "directory" or "archive"
  bool has_manifest = false;
  bool manifest_complete = false;
  // What could not be checked (no manifest: no checksums or counts...), and skipped files.
  std::vector<std::string> notices;
  std::vector<VerifyProblem> problems;
  std::size_t suppressed = 0;  // problems not listed (over max_problems_per_file)
  std::vector<VerifyNamespace> namespaces;
  std::uint64_t files_checked = 0;
  std::uint64_t documents = 0;  // documents validated
  std::uint64_t raw_bytes = 0;  // BSON bytes validated (after decompression)
  std::uint64_t stored_bytes = 0;
  bool against_ran = false;
  std::string against;  // the redacted URI

  bool ok() const { return problems.empty() && suppressed == 0; }  // nothing wrong found
};

// Validates the options, then runs every check. Success: the report, every problem found in it.
// Failure: the fatal error that stopped the run (kCancelled "interrupted"; an exception in a file
// scan, say from a storage backend, is kInternal); `partial`, when given, then receives what was
// found before it stopped. Never throws. Blocking; files are read on up to opts.jobs worker
// threads.
[[nodiscard]] Result<VerifyReport> run_verify(const VerifyOptions& opts, VerifyReport* partial = nullptr);

// When the verified directory is a catalog entry (ROOT/<id>/ beside ROOT/.lock, see
// pipeline/catalog/catalog.hpp), records the outcome of a run that finished (run_verify
// succeeded) for `catalog list`: a passing report is written to ROOT/.verified/<id>.json, a
// failing one removes that file. Returns the record's path, or "" when the input is not a
// catalog entry.
Result<std::string> record_catalog_verification(const VerifyOptions& opts, const VerifyReport& r);

// The report as pretty relaxed Extended JSON (for --json); `error`: the run's error when it
// stopped (then "ok" is false and "error" holds its text).
std::string verify_report_json(const VerifyReport& r, const Status& error = Status());

}  // namespace bsonpipe::pipeline
