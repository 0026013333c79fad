// bsonpipe verify, directory dumps: lists the dump through the storage seam, reads its manifest,
// checks metadata first (a truncated file stem needs its collectionName), then reads, hashes and
// validates the data files in parallel and compares what it found with the manifest.
#include <algorithm>
#include <map>
#include <set>
#include <system_error>
#include <vector>

#include "formats/archive.hpp"
#include "io/file.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/core/executor.hpp"
#include "pipeline/ops/verify_scan.hpp"

namespace bsonpipe::pipeline::verify_detail {

namespace fs = std::filesystem;

namespace {

struct DirEntry {
  std::string rel;  // '/'-separated, relative to the root
  fs::path path;
};

struct BundleEntry {
  fs::path path;
  std::string type;  // "file", "dir", "symlink", "other"
};

// Everything below the root: dump files, and the bundled files under bsonpipe_files/.
struct Listing {
  std::vector<DirEntry> files;
  std::map<std::string, BundleEntry> bundle;
};

struct MetaInfo {
  std::string rel;
  std::optional<formats::CollectionMetadata> metadata;
  bool used = false;
};

struct ManifestState {
  std::optional<formats::Manifest> manifest;
  std::map<std::string, const formats::ManifestFile*> listed;
};

struct ScanTask {
  const DirEntry* file;
  const formats::ManifestFile* mf;
  std::string ns;
  io::Codec codec = io::Codec::kNone;
  Content what = Content::kHashOnly;
  bool documents = false;
  FileScan scan;
};

std::string bundle_type(io::Storage& storage, const fs::path& path, const io::StorageEntry& e) {
  switch (local_kind(storage, path)) {
    case LocalKind::kSymlink: return "symlink";
    case LocalKind::kSpecial: return "other";
    case LocalKind::kPlain: break;
  }
  return e.directory ? "dir" : "file";
}

// Walks `dir` (below `root`) through the storage seam. Links to directories are not followed.
Status list_tree(Context& ctx, const fs::path& root, const fs::path& dir, Listing& out) {
  const std::string bundle_prefix = std::string(formats::kBundleDir) + "/";
  auto entries = ctx.storage.list(dir);
  if (!entries) return entries.status();
  for (const auto& e : *entries) {
    fs::path path = dir / e.name;
    std::string rel = path.lexically_relative(root).generic_string();
    bool link = local_kind(ctx.storage, path) == LocalKind::kSymlink;
    if (rel.starts_with(bundle_prefix)) {
      out.bundle[rel] = {path, bundle_type(ctx.storage, path, e)};
    } else if (!e.directory && !is_regular_file(ctx.storage, path)) {
      ctx.problems.add(rel, "", "not a regular file");
      continue;
    } else if (!e.directory) {
      out.files.push_back({rel, path});
      continue;
    }
    if (e.directory && !link)
      if (Status s = list_tree(ctx, root, path, out); !s) return s;
  }
  return {};
}

// The target of a bundled symlink; only local storage has links.
std::string link_target(io::Storage& storage, const fs::path& path, bool& ok) {
  ok = false;
  if (&storage != &io::local_storage()) return "";
  std::error_code ec;
  auto target = fs::read_symlink(path, ec);
  ok = !ec;
  return target.string();
}

// One bundled file or symlink against its manifest entry (same type already checked).
void check_bundled_entry(Context& ctx, const std::string& rel, const BundleEntry& e, const formats::BundledFile& b) {
  if (e.type == "symlink") {
    bool ok = false;
    std::string target = link_target(ctx.storage, e.path, ok);
    if (!ok || target != b.target)
      ctx.problems.add(rel, "", "symlink points to " + target + ", the manifest says " + b.target);
  } else if (e.type == "file") {
    FileScan s = scan_file(ctx, e.path, rel, "", io::Codec::kNone, Content::kHashOnly);
    if (!s.readable) return;
    ++ctx.report.files_checked;
    ctx.report.stored_bytes += s.stored_bytes;
    if (s.stored_bytes != b.size)
      ctx.problems.add(
          rel, "", "size " + std::to_string(s.stored_bytes) + " differs from the manifest's " + std::to_string(b.size));
    else if (s.xxh3 != b.xxh3_128)
      ctx.problems.add(rel, "", "checksum mismatch: XXH3-128 " + s.xxh3 + ", manifest says " + b.xxh3_128);
  }
}

// Bundled files (dump --include-path): every entry the manifest's "bundled" section lists must be
// there with its type, and files with their size and XXH3-128, symlinks with their target.
void check_bundle(Context& ctx, const std::map<std::string, BundleEntry>& present, const formats::Manifest* m) {
  std::map<std::string, const formats::BundledFile*> listed;
  if (m)
    for (const auto& b : m->bundled) listed.emplace(b.path, &b);
  for (const auto& [rel, e] : present) {
    auto it = listed.find(rel);
    if (it == listed.end()) {
      if (e.type == "dir") continue;  // a directory holding only listed entries is fine
      if (m)
        ctx.problems.add(rel, "", "extra file: not listed in manifest.json");
      else
        ctx.report.notices.push_back("skipped " + rel + ": bundled file without a manifest to check it against");
      continue;
    }
    const formats::BundledFile& b = *it->second;
    if (b.type != e.type) {
      ctx.problems.add(rel, "", "is a " + e.type + ", the manifest lists a " + b.type);
      continue;
    }
    check_bundled_entry(ctx, rel, e, b);
  }
  // Object storage has no directories of their own: an empty bundled directory has no key there.
  const bool has_dirs = &ctx.storage == &io::local_storage();
  for (const auto& [rel, b] : listed)
    if (!present.count(rel) && (has_dirs || b->type != "dir"))
      ctx.problems.add(rel, "", "missing file: listed in manifest.json but not in the dump");
}

// Reads and checks manifest.json when there is one. False when the root is a catalog root, not a
// dump (ctx.error is set).
bool read_manifest(Context& ctx, const fs::path& root, ManifestState& st) {
  auto& r = ctx.report;
  fs::path manifest_path = root / formats::kManifestName;
  auto has = ctx.storage.exists(manifest_path);
  bool exists = has && *has;
  if (!exists) {
    auto lock = ctx.storage.exists(root / kCatalogLockName);
    if (lock && *lock) {
      ctx.error = {ErrorCode::kInvalidArgument,
                   root.string() +
                       " is a catalog root, not a dump: give one of its entries, ROOT/<id> (see bsonpipe "
                       "catalog list)"};
      return false;
    }
    return true;
  }
  r.has_manifest = true;
  std::string rel(formats::kManifestName);
  FileScan ms = scan_file(ctx, manifest_path, rel, "", io::Codec::kNone, Content::kText);
  if (!ms.readable) return true;
  auto m = formats::manifest_from_json(
      std::string_view(reinterpret_cast<const char*>(ms.content.data()), ms.content.size()));
  if (!m) {
    ctx.problems.add(rel, "", "does not parse: " + m.status().message(), m.status().offset());
    return true;
  }
  st.manifest = std::move(*m);
  r.manifest_complete = st.manifest->complete;
  if (!st.manifest->complete) ctx.problems.add(rel, "", "the manifest says the dump is not complete (complete: false)");
  for (const auto& f : st.manifest->files) {
    if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
      ctx.problems.add(rel, f.ns, "lists an unsafe path: " + f.path);
      continue;
    }
    if (!st.listed.emplace(f.path, &f).second) ctx.problems.add(rel, f.ns, "lists a file twice: " + f.path);
  }
  return true;
}

// A stored file's size and checksum against its manifest entry.
void compare_stored(Context& ctx, const std::string& rel, const std::string& ns, const FileScan& s,
                    const formats::ManifestFile& mf, bool say_truncated) {
  if (mf.stored_bytes != s.stored_bytes) {
    ctx.problems.add(rel, ns,
                     "size " + std::to_string(s.stored_bytes) + " differs from the manifest's " +
                         std::to_string(mf.stored_bytes) +
                         (say_truncated && s.stored_bytes < mf.stored_bytes ? " (truncated)" : ""));
  } else if (mf.xxh3_128 != s.xxh3) {
    ctx.problems.add(rel, ns, "checksum mismatch: XXH3-128 " + s.xxh3 + ", manifest says " + mf.xxh3_128);
  }
}

// Every <db>/<name>.metadata.json, keyed "<db>/<stem>"; their rels go to `seen`. False when
// interrupted.
bool check_metadata_files(Context& ctx, const std::vector<DirEntry>& files, const ManifestState& st,
                          std::map<std::string, MetaInfo>& metas, std::set<std::string>& seen) {
  for (const auto& f : files) {
    if (ctx.interrupted()) return false;
    auto slash = f.rel.find('/');
    if (slash == std::string::npos || f.rel.find('/', slash + 1) != std::string::npos) continue;
    auto name = formats::split_dump_file_name(f.rel.substr(slash + 1));
    if (!name || name->kind != formats::DumpFileKind::kMetadata) continue;
    std::string db = f.rel.substr(0, slash);
    std::string ns_guess = db + "." + name->stem;
    FileScan s = scan_file(ctx, f.path, f.rel, ns_guess, name->compression, Content::kText);
    seen.insert(f.rel);
    if (st.manifest && !st.listed.count(f.rel))
      ctx.problems.add(f.rel, ns_guess, "extra file: not listed in manifest.json");
    MetaInfo info{f.rel, std::nullopt, false};
    if (s.documents_ok) {
      std::string_view text(reinterpret_cast<const char*>(s.content.data()), s.content.size());
      info.metadata = check_metadata_text(ctx, f.rel, ns_guess, text);
    }
    if (auto it = st.listed.find(f.rel); it != st.listed.end() && s.readable)
      compare_stored(ctx, f.rel, it->second->ns, s, *it->second, false);
    metas.emplace(db + "/" + name->stem, std::move(info));
  }
  return true;
}

// A <db>/<name>.bson file: its namespace (from its metadata when the stem was truncated).
void classify_bson(Context& ctx, const DirEntry& f, const formats::DumpFileName& name,
                   std::map<std::string, MetaInfo>& metas, ScanTask& t) {
  std::string db = f.rel.substr(0, f.rel.find('/'));
  std::string meta_name;
  if (auto it = metas.find(db + "/" + name.stem); it != metas.end()) {
    it->second.used = true;
    if (it->second.metadata) meta_name = it->second.metadata->collection_name;
  }
  auto coll = formats::collection_from_stem(name.stem, meta_name);
  if (!coll) {
    ctx.problems.add(f.rel, "", "no collection name: " + coll.status().to_string());
  } else {
    t.ns = db + "." + *coll;
    if (Status s = formats::archive::validate_namespace(db, *coll); !s)
      ctx.problems.add(f.rel, t.ns, "not a namespace a server accepts (restore skips it): " + s.to_string());
  }
  t.codec = name.compression;
  t.what = Content::kDocuments;
  t.documents = true;
}

// What to read in `f` (a file that is not metadata). False: skip it.
bool classify(Context& ctx, const DirEntry& f, std::map<std::string, MetaInfo>& metas, ScanTask& t) {
  auto slash = f.rel.find('/');
  bool at_root = slash == std::string::npos;
  bool in_db_dir = !at_root && f.rel.find('/', slash + 1) == std::string::npos;
  std::string base = at_root ? f.rel : f.rel.substr(slash + 1);
  if (f.rel == formats::kManifestName) return false;
  if (base.size() > io::kPartialSuffix.size() && base.ends_with(io::kPartialSuffix)) {
    ctx.problems.add(f.rel, t.ns, "a partially written file (a dump was interrupted here)");
    if (!t.mf) return false;
  }
  if (at_root &&
      (f.rel == formats::prelude_file_name() || f.rel == formats::prelude_file_name(formats::Compression::kGzip))) {
    t.codec = f.rel.ends_with(".gz") ? io::Codec::kGzip : io::Codec::kNone;
    t.what = Content::kText;
  } else if (at_root && f.rel.starts_with("oplog.bson")) {
    auto name = formats::split_dump_file_name(f.rel);
    if (name && name->kind == formats::DumpFileKind::kBson) {
      t.codec = name->compression;
      t.what = Content::kDocuments;
      t.documents = true;
    }
  } else if (in_db_dir) {
    auto name = formats::split_dump_file_name(base);
    if (name && name->kind == formats::DumpFileKind::kBson) classify_bson(ctx, f, *name, metas, t);
  }
  return true;
}

// The data files to read (everything but metadata), with what each should hold. False when
// interrupted.
bool plan_scans(Context& ctx, const std::vector<DirEntry>& files, const ManifestState& st,
                std::map<std::string, MetaInfo>& metas, const std::set<std::string>& seen,
                std::vector<ScanTask>& tasks) {
  for (const auto& f : files) {
    if (ctx.interrupted()) return false;
    if (seen.count(f.rel)) continue;
    ScanTask t{&f, nullptr, "", io::Codec::kNone, Content::kHashOnly, false, {}};
    if (auto it = st.listed.find(f.rel); it != st.listed.end()) t.mf = it->second;
    t.ns = t.mf ? t.mf->ns : "";
    if (!classify(ctx, f, metas, t)) continue;
    if (t.what == Content::kHashOnly && !t.mf) {
      // Neither a dump file nor listed: restore ignores it.
      if (st.manifest)
        ctx.problems.add(f.rel, "", "extra file: not listed in manifest.json");
      else
        ctx.report.notices.push_back("skipped " + f.rel + ": not a dump file (restore ignores it)");
      continue;
    }
    if (st.manifest && !t.mf) ctx.problems.add(f.rel, t.ns, "extra file: not listed in manifest.json");
    tasks.push_back(std::move(t));
  }
  return true;
}

// The expensive part (read, hash, decompress, validate) for up to opts.jobs files at once. An
// exception in a scan (a storage backend that throws) becomes the run's error.
void scan_all(Context& ctx, std::vector<ScanTask>& tasks) {
  std::size_t n = static_cast<std::size_t>(ctx.opts.jobs);  // validated: >= 1
  Executor ex;
  ex.for_each(tasks.size(), n, "verify: reading files", [&](std::size_t, std::size_t i) -> Status {
    auto& t = tasks[i];
    t.scan = scan_file(ctx, t.file->path, t.file->rel, t.ns, t.codec, t.what);
    return {};
  });
  if (Status s = ex.status(); !s) ctx.error = std::move(s);
}

// One scanned file's findings: its namespace entry, and its size, checksum and counts against
// the manifest.
void record_scan(Context& ctx, const ScanTask& t) {
  auto& r = ctx.report;
  const DirEntry& f = *t.file;
  const FileScan& s = t.scan;
  if (!s.readable) return;
  if (t.what == Content::kText && s.documents_ok) {
    auto p = formats::parse_prelude_json(
        std::string_view(reinterpret_cast<const char*>(s.content.data()), s.content.size()));
    if (!p) ctx.problems.add(f.rel, "", "does not parse: " + p.status().message(), p.status().offset());
  }
  if (t.documents && f.rel.find('/') != std::string::npos) {
    r.namespaces.push_back({t.ns, f.rel, s.documents, s.digest.hex()});
    if (!s.documents_ok) r.namespaces.back().digest.clear();
  }
  if (!t.mf) return;
  const formats::ManifestFile& mf = *t.mf;
  compare_stored(ctx, f.rel, t.ns, s, mf, true);
  if (!t.documents || !s.documents_ok) return;
  if (mf.documents != s.documents)
    ctx.problems.add(
        f.rel, t.ns,
        "holds " + std::to_string(s.documents) + " documents, the manifest says " + std::to_string(mf.documents));
  else if (mf.raw_bytes != s.raw_bytes)
    ctx.problems.add(
        f.rel, t.ns,
        "holds " + std::to_string(s.raw_bytes) + " BSON bytes, the manifest says " + std::to_string(mf.raw_bytes));
}

// What the dump lacks: no dump file at all, files the manifest lists, data files of metadata.
void check_absent(Context& ctx, const fs::path& root, const std::vector<DirEntry>& files, const ManifestState& st,
                  const std::map<std::string, MetaInfo>& metas) {
  // A directory holding no dump file at all is not a dump (a wrong path must not pass).
  if (ctx.report.namespaces.empty() && metas.empty() && !st.manifest)
    ctx.problems.add("", "",
                     "no dump files found in " + root.string() + " (no <db>/<collection>.bson or .metadata.json)");
  std::set<std::string> present;
  for (const auto& f : files) present.insert(f.rel);
  for (const auto& [path, mf] : st.listed)
    if (!present.count(path))
      ctx.problems.add(path, mf->ns, "missing file: listed in manifest.json but not in the dump");
  for (const auto& [key, info] : metas) {
    if (info.used || !info.metadata) continue;
    if (info.metadata->type == "view") continue;
    // Without a manifest a lost data file cannot be told from a metadata-only collection.
    if (!st.manifest)
      ctx.report.notices.push_back(info.rel + ": metadata without a data file (restored as an empty collection)");
  }
}

}  // namespace

void verify_directory(Context& ctx) {
  auto& r = ctx.report;
  const fs::path root = ctx.opts.input;
  r.format = "directory";
  auto dir = ctx.storage.is_directory(root);
  if (!dir || !*dir) {
    ctx.error = {ErrorCode::kIo, root.string() + ": not a directory (use --archive FILE for an archive)"};
    return;
  }
  Listing listing;
  if (Status s = list_tree(ctx, root, root, listing); !s) {
    ctx.error = std::move(s);
    return;
  }
  auto& files = listing.files;
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });

  ManifestState st;
  if (!read_manifest(ctx, root, st)) return;
  check_bundle(ctx, listing.bundle, st.manifest ? &*st.manifest : nullptr);
  if (!st.manifest)
    r.notices.push_back(
        "no usable manifest.json (a stock mongodump dump?): file sizes, checksums and document counts could not be "
        "checked against what was dumped; only the structure of each file was checked");

  // Metadata first: a truncated file stem needs the collectionName of its metadata.
  std::map<std::string, MetaInfo> metas;  // "<db>/<stem>" -> metadata
  std::set<std::string> seen;
  if (!check_metadata_files(ctx, files, st, metas, seen)) return;
  std::vector<ScanTask> tasks;
  if (!plan_scans(ctx, files, st, metas, seen, tasks)) return;
  scan_all(ctx, tasks);
  if (ctx.interrupted() || !ctx.error.is_ok()) return;
  for (const auto& t : tasks) record_scan(ctx, t);
  check_absent(ctx, root, files, st, metas);
}

}  // namespace bsonpipe::pipeline::verify_detail
