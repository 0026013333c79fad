// Writing into the catalog: catalog dumps (run_catalog_dump) and `restore --backup-first`
// backups with their absent namespaces, and the undo's drop of those (drop_absent_namespaces).
// The catalog's files (lock, ids, the manifest rewrite, removal) go through io::Storage.
#include <algorithm>
#include <functional>
#include <set>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "io/file.hpp"
#include "io/uri.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/catalog/catalog_internal.hpp"
#include "pipeline/core/namespaces.hpp"
#include "pipeline/ops/restore_plan.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using catalog_detail::storage_or_local;

namespace {

// A fresh id for a dump starting now: neither ROOT/<id> nor ROOT/<id>.partial exists (the
// caller holds the lock, so no other writer can take it meanwhile).
Result<std::string> fresh_catalog_id(io::Storage& st, const fs::path& root) {
  std::string base = catalog_id_for(catalog_detail::now_utc_ms());
  std::string id = base;
  for (int n = 1;; ++n) {
    auto done = st.exists(root / id);
    if (!done) return done.status();
    auto staged = st.exists(root / (id + std::string(io::kPartialSuffix)));
    if (!staged) return staged.status();
    if (!*done && !*staged) return id;
    id = base + "-" + std::to_string(n);
  }
}

// run_catalog_dump, with `finish` run on the moved-into-place dump while the lock is still held
// (so no prune or remove can see it before it is finished). A failing `finish` removes the dump.
Result<CatalogDumpResult> catalog_dump(const fs::path& root, DumpOptions opts,
                                       const std::function<Status(CatalogDumpResult&)>& finish) {
  opts.target = DumpTarget::kDirectory;
  if (Status s = opts.validate(); !s) return s;  // before ROOT is created or locked
  io::Storage& st = storage_or_local(opts.storage);
  auto lock = CatalogLock::acquire(root, &st);
  if (!lock) return lock.status();
  auto id = fresh_catalog_id(st, root);
  if (!id) return id.status();
  if (Status s = lock->set_id(*id); !s) return s;
  opts.out = root / *id;
  auto sum = run_dump(opts);
  if (!sum)
    return Status(sum.status().code(), "catalog dump " + *id + ": " + sum.status().message(), sum.status().offset());
  CatalogDumpResult out{*id, root / *id, std::move(*sum), {}};
  if (finish) {
    if (Status s = finish(out); !s) {
      (void)st.remove_all(out.dir);  // best effort: the error below is the one to report
      return Status(s.code(), "catalog dump " + *id + ": " + s.message() + " (the dump was removed)");
    }
  }
  return out;
}

// The restore's target (--uri), its primary.
Result<std::unique_ptr<io::Connection>> connect_restore_target(const RestoreOptions& opts) {
  auto uri = io::parse_uri(opts.uri);
  if (!uri) return Status(uri.status().code(), "--uri: " + uri.status().to_string());
  auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
  if (!conn) return Status(ErrorCode::kNetwork, "connecting to " + uri->redacted() + ": " + conn.error().to_string());
  return std::move(*conn);
}

bool valid_namespace(std::string_view ns) {
  auto dot = ns.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < ns.size();
}

// Adds the absent namespaces to ROOT/<id>/manifest.json, before "complete" (which stays last),
// keeping everything else as it is; published by the storage's commit (a temporary name renamed
// locally). Edited as a document because formats::Manifest has no field for the list.
Status record_absent_namespaces(io::Storage& st, const fs::path& dir, const std::vector<std::string>& absent) {
  fs::path mp = dir / std::string(formats::kManifestName);
  auto bytes = st.read_all(mp);
  if (!bytes) return {ErrorCode::kIo, "cannot read " + mp.string()};
  auto parsed = formats::extjson::parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!parsed) return {parsed.status().code(), mp.string() + ": " + parsed.status().message()};
  formats::DocView doc(*parsed);
  formats::Builder b;
  for (auto e : doc)
    if (e.key() != "complete" && e.key() != kAbsentNamespacesKey) b.append_raw_element(e.raw());
  b.open_array(kAbsentNamespacesKey);
  for (const auto& ns : absent) b.append_string(b.next_array_key(), ns);
  b.close();
  auto complete = doc.find("complete");
  if (!complete.valid()) return {ErrorCode::kInvalidJson, mp.string() + ": no 'complete' field"};
  b.append_raw_element(complete.raw());
  formats::Bytes out_doc = b.finish();
  std::string text =
      formats::extjson::to_json(formats::DocView(out_doc), {.mode = formats::extjson::Mode::kRelaxed, .indent = 2});
  text.push_back('\n');
  // What is written must read back as the same manifest with this list.
  auto check = formats::manifest_from_json(text);
  auto check_absent = absent_namespaces_from_manifest(text);
  if (!check || !check_absent || *check_absent != absent)
    return {ErrorCode::kInternal, mp.string() + ": the manifest with absent namespaces does not read back"};
  // The file mode comes from the process umask (the CLI sets 077 around --backup-first), as the
  // dump's own manifest did.
  return st.write_all(mp, formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

Result<CatalogDumpResult> run_catalog_dump(const fs::path& root, DumpOptions opts) {
  return catalog_dump(root, std::move(opts), nullptr);
}

Result<std::vector<std::string>> restore_target_namespaces(const RestoreOptions& opts) {
  // The dump is planned where the restore reads it (opts.storage: local or object storage).
  io::Storage& st = storage_or_local(opts.storage);
  Plan plan;
  if (opts.archive) {
    if (opts.archive_path.empty() || opts.archive_path == "-")
      return Status(ErrorCode::kInvalidArgument,
                    "--backup-first cannot plan a restore from standard input (it would have to be read twice): "
                    "give --archive=FILE");
    auto in = ArchiveInput::open(opts.archive_path, opts.gzip, st);
    if (!in) return in.status();
    formats::archive::Reader reader((*in)->source(), formats::archive::ReaderOptions{});
    auto prelude = reader.read_prelude();
    if (!prelude) return Status(prelude.status().code(), (*in)->name() + ": " + prelude.status().message());
    auto p = plan_archive(**prelude, opts.plan);
    if (!p) return p.status();
    plan = std::move(*p);
  } else {
    auto p = plan_directory(opts.input, opts.plan, st);
    if (!p) return p.status();
    plan = std::move(*p);
  }
  std::set<std::string> out;
  for (const auto& t : plan.targets) out.insert(t.ns());
  return std::vector<std::string>(out.begin(), out.end());
}

Result<CatalogDumpResult> backup_restore_targets(const fs::path& root, const RestoreOptions& opts,
                                                 const std::vector<std::string>& namespaces, io::Storage* storage) {
  if (Status s = opts.validate(); !s) return s;
  if (namespaces.empty()) return Status(ErrorCode::kInvalidArgument, "no namespaces to back up");
  DumpOptions d;
  d.uri = opts.uri;
  // Patterns only: an empty include list would mean "everything".
  for (const auto& ns : namespaces) d.ns_include.push_back(exact_namespace_pattern(ns));
  d.progress.mode = ProgressMode::kNone;
  d.progress.quiet = true;
  d.interrupt = opts.interrupt;
  d.storage = storage;

  // What exists before the dump: a namespace created meanwhile is then in the dump, so it is
  // not taken as absent.
  auto conn = connect_restore_target(opts);
  if (!conn) return conn.status();
  std::set<std::string> dbs, existing;
  for (const auto& ns : namespaces) dbs.insert(std::string(split_namespace(ns).first));
  for (const auto& db : dbs) {
    auto colls = io::list_collections(**conn, db);
    if (!colls)
      return Status(colls.status().code(), "listing the collections of " + db + ": " + colls.status().message());
    for (const auto& c : *colls) existing.insert(db + "." + c.name);
  }
  std::vector<std::string> candidates;
  for (const auto& ns : namespaces)
    if (!existing.count(ns)) candidates.push_back(ns);
  conn->reset();

  return catalog_dump(root, std::move(d), [&](CatalogDumpResult& r) -> Status {
    std::set<std::string> dumped;
    for (const auto& n : r.summary.namespaces) dumped.insert(n.ns);
    std::set<std::string> absent;
    for (const auto& ns : candidates)
      if (!dumped.count(ns)) absent.insert(ns);
    r.absent_namespaces.assign(absent.begin(), absent.end());
    if (r.absent_namespaces.empty()) return {};
    return record_absent_namespaces(storage_or_local(storage), r.dir, r.absent_namespaces);
  });
}

Result<std::vector<std::string>> absent_namespaces_from_manifest(std::string_view manifest_json) {
  auto parsed = formats::extjson::parse(manifest_json);
  if (!parsed) return Status(ErrorCode::kInvalidJson, "manifest.json: " + parsed.status().message());
  formats::DocView doc(*parsed);
  auto list = doc.find(kAbsentNamespacesKey);
  std::vector<std::string> out;
  if (!list.valid()) return out;
  const std::string bad = "manifest.json: field '" + std::string(kAbsentNamespacesKey) + "' ";
  if (list.type() != formats::BsonType::kArray)
    return Status(ErrorCode::kInvalidJson, bad + "is not an array of namespaces");
  for (auto e : list.as_document()) {
    if (e.type() != formats::BsonType::kString)
      return Status(ErrorCode::kInvalidJson, bad + "holds a value that is not a string");
    std::string ns(e.as_string());
    if (!valid_namespace(ns)) return Status(ErrorCode::kInvalidJson, bad + "holds '" + ns + "', not db.collection");
    out.push_back(std::move(ns));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status drop_absent_namespaces(const RestoreOptions& opts, const CatalogEntry& backup) {
  const auto& absent = backup.absent_namespaces;
  if (absent.empty()) return {};
  auto log = [&](const std::string& msg) {
    if (opts.log) opts.log(LogLevel::kInfo, msg);
  };
  std::string list;
  for (const auto& ns : absent) list += (list.empty() ? "" : ", ") + ns;
  const std::string what = "catalog dump " + backup.id + " records " + std::to_string(absent.size()) +
                           " namespace(s) absent from the target when it was taken (" + list + ")";
  if (!opts.drop) {
    log(what + ": not dropped (only a restore with --drop, the undo, drops them)");
    return {};
  }
  const auto& p = opts.plan;
  if (!p.db.empty() || !p.collection.empty() || !p.ns_from.empty() || !p.ns_to.empty()) {
    log(what + ": not dropped (with --db, --collection or --nsFrom/--nsTo they are not this restore's targets)");
    return {};
  }
  NsFilter filter;
  for (const auto& pat : p.ns_include)
    if (Status s = filter.include(pat); !s) return s;
  for (const auto& pat : p.ns_exclude)
    if (Status s = filter.exclude(pat); !s) return s;
  std::vector<std::string> selected;
  for (const auto& ns : absent)
    if (filter.allows(ns)) selected.push_back(ns);
  if (selected.empty()) return {};
  if (opts.dry_run) {
    for (const auto& ns : selected)
      log("dry run: would drop " + ns + " (absent from the target when catalog dump " + backup.id + " was taken)");
    return {};
  }
  auto conn = connect_restore_target(opts);
  if (!conn) return conn.status();
  for (const auto& ns : selected) {
    auto [db, coll] = split_namespace(ns);
    auto e = io::drop_collection(**conn, db, coll, false);
    if (!e) {
      if (io::is_namespace_not_found(e)) {
        log("not dropping " + ns + ": absent from the target when catalog dump " + backup.id +
            " was taken, and absent now");
        continue;
      }
      return Status(e.status().code(),
                    "dropping " + ns + " (absent when catalog dump " + backup.id + " was taken): " + e.to_string());
    }
    log("dropped " + ns + ": it did not exist on the target when catalog dump " + backup.id + " was taken");
  }
  return {};
}

std::string exact_namespace_pattern(std::string_view ns) {
  std::string out;
  for (char c : ns) {
    if (c == '*' || c == '$' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace bsonpipe::pipeline
