// bsonpipe verify, the entry points: picks the directory or archive checks (verify_directory.cpp,
// verify_archive.cpp), records a catalog entry's outcome, and renders the report as JSON.
#include "pipeline/ops/verify.hpp"

#include <algorithm>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/ops/verify_scan.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

std::string VerifyProblem::to_string() const {
  std::string out = file.empty() ? ns : file;
  if (!file.empty() && !ns.empty()) out += " [" + ns + "]";
  out += ": " + message;
  if (offset >= 0) out += " (at offset " + std::to_string(offset) + ")";
  return out;
}

Status VerifyOptions::validate() const {
  if (jobs < 1) return {ErrorCode::kInvalidArgument, "--jobs must be at least 1"};
  return {};
}

Result<VerifyReport> run_verify(const VerifyOptions& opts, VerifyReport* partial) {
  using namespace verify_detail;
  VerifyReport r;
  r.input = opts.input.string();
  if (Status s = opts.validate(); !s) {
    if (partial) *partial = std::move(r);
    return s;
  }
  io::Storage& storage = opts.storage ? *opts.storage : io::local_storage();
  Context ctx{opts, storage, r, Problems(r, opts.max_problems_per_file)};
  if (opts.archive || (opts.input != "-" && is_regular_file(storage, opts.input)))
    verify_archive(ctx);
  else
    verify_directory(ctx);
  if (ctx.error.is_ok() && !opts.against.empty() && !ctx.interrupted()) compare_with_server(ctx);
  // Grouped by file, whatever order the parallel scans finished in.
  std::stable_sort(r.problems.begin(), r.problems.end(),
                   [](const VerifyProblem& a, const VerifyProblem& b) { return a.file < b.file; });
  if (ctx.interrupted() && ctx.error.is_ok()) ctx.error = {ErrorCode::kCancelled, "interrupted"};
  if (ctx.error.is_ok()) return r;
  if (partial) *partial = std::move(r);
  return ctx.error;
}

namespace {

// ROOT/<id> on object storage: <id> is a catalog id and ROOT holds other catalog entries, its
// records or its lock; a plain dump that happens to be named like an id records nothing.
bool is_remote_catalog_entry(io::Storage& storage, const fs::path& root, const fs::path& dir) {
  if (!parse_catalog_id(dir.filename().string())) return false;
  auto entries = storage.list(root);
  if (!entries) return false;
  for (const auto& e : *entries) {
    if (e.name == kCatalogLockName || e.name == kCatalogVerifiedDir) return true;
    if (e.directory && e.name != dir.filename().string() && parse_catalog_id(e.name)) return true;
  }
  return false;
}

}  // namespace

Result<std::string> record_catalog_verification(const VerifyOptions& opts, const VerifyReport& r) {
  if (r.format != "directory") return std::string();
  io::Storage& storage = opts.storage ? *opts.storage : io::local_storage();
  const bool local = &storage == &io::local_storage();
  std::error_code ec;
  // Object storage keys are relative to the storage's prefix: no working directory to add.
  fs::path dir = local ? fs::absolute(opts.input, ec).lexically_normal() : opts.input.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  fs::path root = dir.parent_path();
  if (ec) return std::string();
  // A local catalog keeps its lock file; an object-storage lock exists only while held, so there
  // a catalog entry is known by its name (a catalog id) and its sibling records directory or lock.
  if (!opts.catalog_entry && (local ? !verify_detail::is_regular_file(storage, root / kCatalogLockName)
                                    : !is_remote_catalog_entry(storage, root, dir)))
    return std::string();
  fs::path record = root / kCatalogVerifiedDir / (dir.filename().string() + ".json");
  if (!r.ok()) {
    if (Status s = storage.remove(record); !s) return s;
    return record.string();
  }
  if (Status s = storage.make_directories(record.parent_path()); !s) return s;
  std::string json = verify_report_json(r) + "\n";
  auto w = storage.create(record);
  if (!w) return w.status();
  if (Status s = (*w)->write(ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size())); !s) return s;
  if (Status s = (*w)->commit(); !s) return s;
  return record.string();
}

std::string verify_report_json(const VerifyReport& r, const Status& error) {
  Builder b;
  b.append_string("input", r.input);
  b.append_string("format", r.format);
  b.append_bool("ok", error.is_ok() && r.ok());
  b.append_bool("manifest", r.has_manifest);
  b.append_bool("manifestComplete", r.manifest_complete);
  b.append_int64("filesChecked", static_cast<std::int64_t>(r.files_checked));
  b.append_int64("documents", static_cast<std::int64_t>(r.documents));
  b.append_int64("rawBytes", static_cast<std::int64_t>(r.raw_bytes));
  b.append_int64("storedBytes", static_cast<std::int64_t>(r.stored_bytes));
  if (!error.is_ok()) b.append_string("error", error.to_string());
  b.open_array("problems");
  for (const auto& p : r.problems) {
    b.open_document(b.next_array_key());
    b.append_string("file", p.file);
    b.append_string("ns", p.ns);
    if (p.offset >= 0) b.append_int64("offset", p.offset);
    b.append_string("message", p.message);
    b.close();
  }
  b.close();
  b.append_int64("problemsNotListed", static_cast<std::int64_t>(r.suppressed));
  b.open_array("notices");
  for (const auto& n : r.notices) b.append_string(b.next_array_key(), n);
  b.close();
  b.open_array("namespaces");
  for (const auto& n : r.namespaces) {
    b.open_document(b.next_array_key());
    b.append_string("ns", n.ns);
    if (!n.file.empty()) b.append_string("file", n.file);
    b.append_int64("documents", static_cast<std::int64_t>(n.documents));
    b.append_string("digest", n.digest);
    if (n.compared) {
      b.append_int64("serverDocuments", static_cast<std::int64_t>(n.server_documents));
      b.append_string("serverDigest", n.server_digest);
      b.append_bool("matches", n.matches);
    }
    b.close();
  }
  b.close();
  if (r.against_ran) b.append_string("against", r.against);
  Bytes doc = b.finish();
  formats::extjson::WriteOptions wo;
  wo.mode = formats::extjson::Mode::kRelaxed;
  wo.indent = 2;
  return formats::extjson::to_json(DocView(doc), wo);
}

}  // namespace bsonpipe::pipeline
