#include "pipeline/verify.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "formats/extjson.hpp"
#include "formats/hash.hpp"
#include "formats/manifest.hpp"
#include "io/commands.hpp"
#include "io/compress.hpp"
#include "io/file.hpp"
#include "io/uri.hpp"
#include "pipeline/catalog.hpp"
#include "pipeline/restore_source.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

namespace {

constexpr std::size_t kReadChunk = 1024 * 1024;
// As mongorestore: 16 MiB + 16 KiB; anything longer is a corrupt length prefix.
constexpr std::size_t kMaxDocumentSize = 16 * 1024 * 1024 + 16 * 1024;

// Validates concatenated documents fed in arbitrary chunks (a decompressed .bson stream), counting
// and digesting them. Stops at the first fault: after that, feed() ignores its input.
class DocumentChecker {
 public:
  explicit DocumentChecker(bool check_utf8) {
    vo_.check_utf8 = check_utf8;
    vo_.max_size = kMaxDocumentSize;
  }

  Status feed(ByteSpan data) {
    if (failed_) return {};
    if (pos_ > 0) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos_));
      base_ += static_cast<std::int64_t>(pos_);
      pos_ = 0;
    }
    pending_.insert(pending_.end(), data.begin(), data.end());
    while (pending_.size() - pos_ >= 4) {
      ByteSpan avail(pending_.data() + pos_, pending_.size() - pos_);
      std::int64_t len = formats::peek_doc_length(avail);
      std::int64_t at = base_ + static_cast<std::int64_t>(pos_);
      if (len < 5 || static_cast<std::uint64_t>(len) > kMaxDocumentSize)
        return fail({ErrorCode::kInvalidBson, "invalid document length " + std::to_string(len), at});
      if (avail.size() < static_cast<std::size_t>(len)) break;
      ByteSpan doc = avail.first(static_cast<std::size_t>(len));
      if (Status s = formats::validate(doc, vo_, at); !s) return fail(std::move(s));
      digest_.add(doc);
      ++documents_;
      raw_bytes_ += doc.size();
      pos_ += static_cast<std::size_t>(len);
    }
    return {};
  }

  // At end of input: bytes left over are a document cut short.
  Status finish() {
    if (failed_ || pos_ == pending_.size()) return {};
    std::size_t left = pending_.size() - pos_;
    return fail({ErrorCode::kInvalidBson,
                 "the file ends inside a document (" + std::to_string(left) + " trailing bytes): truncated",
                 base_ + static_cast<std::int64_t>(pos_)});
  }

  bool failed() const { return failed_; }
  std::uint64_t documents() const { return documents_; }
  std::uint64_t raw_bytes() const { return raw_bytes_; }
  const formats::MultisetDigest& digest() const { return digest_; }

 private:
  Status fail(Status s) {
    failed_ = true;
    return s;
  }
  formats::ValidateOptions vo_;
  Bytes pending_;
  std::size_t pos_ = 0;
  std::int64_t base_ = 0;
  bool failed_ = false;
  std::uint64_t documents_ = 0;
  std::uint64_t raw_bytes_ = 0;
  formats::MultisetDigest digest_;
};

io::Codec codec_of(formats::Compression c) {
  switch (c) {
    case formats::Compression::kGzip: return io::Codec::kGzip;
    case formats::Compression::kZstd: return io::Codec::kZstd;
    case formats::Compression::kNone: break;
  }
  return io::Codec::kNone;
}

// What reading one file found.
struct FileScan {
  bool readable = false;
  std::uint64_t stored_bytes = 0;
  std::string xxh3;
  bool documents_ok = false;  // every byte decompressed and formed whole valid documents
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;
  formats::MultisetDigest digest;
  Bytes content;  // the decompressed bytes, kept only for small files (metadata, prelude)
};

// Collects problems, at most `cap` per file.
class Problems {
 public:
  Problems(VerifyReport& r, std::size_t cap) : r_(r), cap_(cap) {}
  // Thread-safe: files are scanned in parallel.
  void add(std::string file, std::string ns, std::string message, std::int64_t offset = -1) {
    std::lock_guard lock(mu_);
    if (cap_ && ++per_file_[file] > cap_) {
      ++r_.suppressed;
      return;
    }
    r_.problems.push_back({std::move(file), std::move(ns), offset, std::move(message)});
  }
  void add(const std::string& file, const std::string& ns, const Status& s) { add(file, ns, s.message(), s.offset()); }

 private:
  VerifyReport& r_;
  std::size_t cap_;
  std::mutex mu_;
  std::map<std::string, std::size_t> per_file_;
};

struct Context {
  const VerifyOptions& opts;
  VerifyReport& report;
  Problems problems;
  std::mutex mu;  // guards report's counters while files are scanned in parallel

  bool interrupted() const { return opts.interrupt && opts.interrupt->load(); }
};

enum class Content : std::uint8_t { kHashOnly, kDocuments, kText };

// Reads a file once: size and XXH3-128 of the stored bytes; for kDocuments, decompresses and
// validates every document; for kText, decompresses and keeps the text.
FileScan scan_file(Context& ctx, const fs::path& path, const std::string& rel, const std::string& ns, io::Codec codec,
                   Content what) {
  FileScan out;
  auto f = io::FileReader::open(path);
  if (!f) {
    ctx.problems.add(rel, ns, "cannot open: " + f.status().to_string());
    return out;
  }
  formats::Xxh3Hasher hash;
  std::unique_ptr<io::StreamDecompressor> dec;
  if (what != Content::kHashOnly && codec != io::Codec::kNone) dec = io::StreamDecompressor::create(codec);
  DocumentChecker docs(ctx.opts.check_utf8);
  bool decode_ok = true;
  Bytes buf(kReadChunk);
  Bytes plain;
  while (true) {
    if (ctx.interrupted()) return out;
    auto n = f->read(buf.data(), buf.size());
    if (!n) {
      ctx.problems.add(rel, ns, "read failed: " + n.status().to_string());
      return out;
    }
    if (*n == 0) break;
    ByteSpan chunk(buf.data(), *n);
    hash.update(chunk);
    out.stored_bytes += *n;
    if (what == Content::kHashOnly || !decode_ok) continue;
    ByteSpan data = chunk;
    if (dec) {
      plain.clear();
      if (Status s = dec->feed(chunk, plain); !s) {
        ctx.problems.add(rel, ns, "cannot decompress (" + std::string(io::codec_name(codec)) + "): " + s.to_string());
        decode_ok = false;
        continue;
      }
      data = plain;
    }
    if (what == Content::kText) {
      out.content.insert(out.content.end(), data.begin(), data.end());
    } else if (Status s = docs.feed(data); !s) {
      ctx.problems.add(rel, ns, "invalid BSON: " + s.message() + (dec ? " (offset in the decompressed data)" : ""),
                       s.offset());
      decode_ok = false;
    }
  }
  out.readable = true;
  out.xxh3 = hash.hex_digest();
  if (what == Content::kHashOnly) return out;
  if (decode_ok && dec) {
    if (Status s = dec->finish(); !s) {
      ctx.problems.add(rel, ns, "compressed stream is truncated: " + s.to_string());
      decode_ok = false;
    }
  }
  if (decode_ok && what == Content::kDocuments) {
    if (Status s = docs.finish(); !s) {
      ctx.problems.add(rel, ns, s.message() + (dec ? " (offset in the decompressed data)" : ""), s.offset());
      decode_ok = false;
    }
  }
  out.documents_ok = decode_ok;
  out.documents = docs.documents();
  out.raw_bytes = what == Content::kText ? out.content.size() : docs.raw_bytes();
  out.digest = docs.digest();
  std::lock_guard lock(ctx.mu);
  ctx.report.stored_bytes += out.stored_bytes;
  ctx.report.raw_bytes += out.raw_bytes;
  ctx.report.documents += out.documents;
  ++ctx.report.files_checked;
  return out;
}

// Index specs that restore could not use: no key document, an empty key, a key value that is
// neither a number nor a string, no name, a name used twice.
void check_indexes(Context& ctx, const std::string& rel, const std::string& ns, const formats::CollectionMetadata& m) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < m.indexes.size(); ++i) {
    DocView spec(m.indexes[i]);
    std::string label = "index #" + std::to_string(i);
    auto name = spec.find("name");
    if (!name.valid() || name.type() != formats::BsonType::kString || name.as_string().empty()) {
      ctx.problems.add(rel, ns, label + " has no name");
    } else {
      label = "index " + std::string(name.as_string());
      if (!names.insert(std::string(name.as_string())).second) ctx.problems.add(rel, ns, label + " appears twice");
    }
    auto key = spec.find("key");
    if (!key.valid() || key.type() != formats::BsonType::kDocument) {
      ctx.problems.add(rel, ns, label + " has no key document");
      continue;
    }
    DocView k = key.as_document();
    if (k.count() == 0) ctx.problems.add(rel, ns, label + " has an empty key");
    for (auto e : k) {
      auto t = e.type();
      bool number = t == formats::BsonType::kDouble || t == formats::BsonType::kInt32 ||
                    t == formats::BsonType::kInt64 || t == formats::BsonType::kDecimal128;
      // Old servers accepted other values (true, {}, ...); restore converts them with
      // --convertLegacyIndexes, so they are noted, not counted as damage.
      if (!number && t != formats::BsonType::kString)
        ctx.report.notices.push_back(rel + ": " + label + ": key field " + std::string(e.key()) + " has type " +
                                     std::string(formats::type_name(t)) +
                                     " (a legacy spec: restore it with --convertLegacyIndexes)");
    }
  }
}

std::optional<formats::CollectionMetadata> check_metadata_text(Context& ctx, const std::string& rel,
                                                               const std::string& ns, std::string_view text) {
  auto m = formats::parse_collection_metadata(text);
  if (!m) {
    ctx.problems.add(rel, ns, "metadata does not parse: " + m.status().message(), m.status().offset());
    return std::nullopt;
  }
  check_indexes(ctx, rel, ns, *m);
  return std::move(*m);
}

// ---- directory dumps --------------------------------------------------------------------------

struct DirEntry {
  std::string rel;  // '/'-separated, relative to the root
  fs::path path;
};

struct MetaInfo {
  std::string rel;
  std::optional<formats::CollectionMetadata> metadata;
  bool used = false;
};

// Runs fn(0) ... fn(n - 1) on up to `jobs` threads (the caller's among them). fn must not throw.
void parallel_for(std::size_t n, int jobs, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, jobs)));
  std::vector<std::thread> pool;
  for (std::size_t k = 1; k < threads; ++k) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

std::string rel_string(const fs::path& p) {
  return p.generic_string();
}

struct BundleEntry {
  fs::path path;
  std::string type;  // "file", "dir", "symlink", "other"
};

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
    if (e.type == "symlink") {
      std::error_code ec;
      auto target = fs::read_symlink(e.path, ec);
      if (ec || target.string() != b.target)
        ctx.problems.add(rel, "", "symlink points to " + target.string() + ", the manifest says " + b.target);
    } else if (e.type == "file") {
      FileScan s = scan_file(ctx, e.path, rel, "", io::Codec::kNone, Content::kHashOnly);
      if (!s.readable) continue;
      ++ctx.report.files_checked;
      ctx.report.stored_bytes += s.stored_bytes;
      if (s.stored_bytes != b.size)
        ctx.problems.add(
            rel, "",
            "size " + std::to_string(s.stored_bytes) + " differs from the manifest's " + std::to_string(b.size));
      else if (s.xxh3 != b.xxh3_128)
        ctx.problems.add(rel, "", "checksum mismatch: XXH3-128 " + s.xxh3 + ", manifest says " + b.xxh3_128);
    }
  }
  for (const auto& [rel, b] : listed)
    if (!present.count(rel)) ctx.problems.add(rel, "", "missing file: listed in manifest.json but not in the dump");
}

void verify_directory(Context& ctx) {
  auto& r = ctx.report;
  const fs::path root = ctx.opts.input;
  r.format = "directory";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    r.error = {ErrorCode::kIo, root.string() + ": not a directory (use --archive FILE for an archive)"};
    return;
  }

  std::vector<DirEntry> files;
  std::map<std::string, BundleEntry> bundle;  // everything under bsonpipe_files/
  const std::string bundle_prefix = std::string(formats::kBundleDir) + "/";
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string rel = rel_string(it->path().lexically_relative(root));
    if (rel.starts_with(bundle_prefix)) {
      auto st = it->symlink_status();
      std::string type = fs::is_symlink(st)        ? "symlink"
                         : fs::is_directory(st)    ? "dir"
                         : fs::is_regular_file(st) ? "file"
                                                   : "other";
      bundle[rel] = {it->path(), type};
      continue;
    }
    if (it->is_directory()) continue;
    if (!it->is_regular_file()) {
      ctx.problems.add(rel, "", "not a regular file");
      continue;
    }
    files.push_back({rel, it->path()});
  }
  if (ec) {
    r.error = {ErrorCode::kIo, "cannot list " + root.string() + ": " + ec.message()};
    return;
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });

  // The manifest, when there is one.
  std::optional<formats::Manifest> manifest;
  std::map<std::string, const formats::ManifestFile*> listed;
  fs::path manifest_path = root / formats::kManifestName;
  if (!fs::exists(manifest_path, ec) && fs::exists(root / kCatalogLockName, ec)) {
    r.error = {ErrorCode::kInvalidArgument,
               root.string() +
                   " is a catalog root, not a dump: give one of its entries, ROOT/<id> (see bsonpipe "
                   "catalog list)"};
    return;
  }
  if (fs::exists(manifest_path, ec)) {
    r.has_manifest = true;
    std::string rel(formats::kManifestName);
    FileScan ms = scan_file(ctx, manifest_path, rel, "", io::Codec::kNone, Content::kText);
    if (ms.readable) {
      auto m = formats::manifest_from_json(
          std::string_view(reinterpret_cast<const char*>(ms.content.data()), ms.content.size()));
      if (!m) {
        ctx.problems.add(rel, "", "does not parse: " + m.status().message(), m.status().offset());
      } else {
        manifest = std::move(*m);
        r.manifest_complete = manifest->complete;
        if (!manifest->complete)
          ctx.problems.add(rel, "", "the manifest says the dump is not complete (complete: false)");
        for (const auto& f : manifest->files) {
          if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
            ctx.problems.add(rel, f.ns, "lists an unsafe path: " + f.path);
            continue;
          }
          if (!listed.emplace(f.path, &f).second) ctx.problems.add(rel, f.ns, "lists a file twice: " + f.path);
        }
      }
    }
  }
  check_bundle(ctx, bundle, manifest ? &*manifest : nullptr);
  if (!manifest)
    r.notices.push_back(
        "no usable manifest.json (a stock mongodump dump?): file sizes, checksums and document counts could not be "
        "checked against what was dumped; only the structure of each file was checked");

  // Metadata first: a truncated file stem needs the collectionName of its metadata.
  std::map<std::string, MetaInfo> metas;  // "<db>/<stem>" -> metadata
  std::set<std::string> seen;
  for (const auto& f : files) {
    if (ctx.interrupted()) return;
    auto slash = f.rel.find('/');
    if (slash == std::string::npos || f.rel.find('/', slash + 1) != std::string::npos) continue;
    auto name = formats::split_dump_file_name(f.rel.substr(slash + 1));
    if (!name || name->kind != formats::DumpFileKind::kMetadata) continue;
    std::string db = f.rel.substr(0, slash);
    std::string ns_guess = db + "." + name->stem;
    FileScan s = scan_file(ctx, f.path, f.rel, ns_guess, codec_of(name->compression), Content::kText);
    seen.insert(f.rel);
    if (manifest && !listed.count(f.rel)) ctx.problems.add(f.rel, ns_guess, "extra file: not listed in manifest.json");
    MetaInfo info{f.rel, std::nullopt, false};
    if (s.documents_ok) {
      std::string_view text(reinterpret_cast<const char*>(s.content.data()), s.content.size());
      info.metadata = check_metadata_text(ctx, f.rel, ns_guess, text);
    }
    if (auto it = listed.find(f.rel); it != listed.end() && s.readable) {
      const auto& mf = *it->second;
      if (mf.stored_bytes != s.stored_bytes)
        ctx.problems.add(f.rel, mf.ns,
                         "size " + std::to_string(s.stored_bytes) + " differs from the manifest's " +
                             std::to_string(mf.stored_bytes));
      else if (mf.xxh3_128 != s.xxh3)
        ctx.problems.add(f.rel, mf.ns, "checksum mismatch: XXH3-128 " + s.xxh3 + ", manifest says " + mf.xxh3_128);
    }
    metas.emplace(db + "/" + name->stem, std::move(info));
  }

  struct ScanTask {
    const DirEntry* file;
    const formats::ManifestFile* mf;
    std::string ns;
    io::Codec codec;
    Content what;
    bool documents;
    FileScan scan;
  };
  std::vector<ScanTask> tasks;
  for (const auto& f : files) {
    if (ctx.interrupted()) return;
    if (seen.count(f.rel)) continue;
    const formats::ManifestFile* mf = nullptr;
    if (auto it = listed.find(f.rel); it != listed.end()) mf = it->second;
    std::string ns = mf ? mf->ns : "";
    io::Codec codec = io::Codec::kNone;
    Content what = Content::kHashOnly;
    bool documents = false;

    auto slash = f.rel.find('/');
    bool at_root = slash == std::string::npos;
    bool in_db_dir = !at_root && f.rel.find('/', slash + 1) == std::string::npos;
    std::string base = at_root ? f.rel : f.rel.substr(slash + 1);
    if (f.rel == formats::kManifestName) continue;
    if (base.size() > io::kPartialSuffix.size() && base.ends_with(io::kPartialSuffix)) {
      ctx.problems.add(f.rel, ns, "a partially written file (a dump was interrupted here)");
      if (!mf) continue;
    }
    if (at_root &&
        (f.rel == formats::prelude_file_name() || f.rel == formats::prelude_file_name(formats::Compression::kGzip))) {
      codec = f.rel.ends_with(".gz") ? io::Codec::kGzip : io::Codec::kNone;
      what = Content::kText;
    } else if (at_root && f.rel.starts_with("oplog.bson")) {
      auto name = formats::split_dump_file_name(f.rel);
      if (name && name->kind == formats::DumpFileKind::kBson) {
        codec = codec_of(name->compression);
        what = Content::kDocuments;
        documents = true;
      }
    } else if (in_db_dir) {
      auto name = formats::split_dump_file_name(base);
      if (name && name->kind == formats::DumpFileKind::kBson) {
        std::string db = f.rel.substr(0, slash);
        std::string meta_name;
        if (auto it = metas.find(db + "/" + name->stem); it != metas.end()) {
          it->second.used = true;
          if (it->second.metadata) meta_name = it->second.metadata->collection_name;
        }
        auto coll = formats::collection_from_stem(name->stem, meta_name);
        if (!coll) {
          ctx.problems.add(f.rel, "", "no collection name: " + coll.status().to_string());
        } else {
          ns = db + "." + *coll;
          if (Status s = formats::archive::validate_namespace(db, *coll); !s)
            ctx.problems.add(f.rel, ns, "not a namespace a server accepts (restore skips it): " + s.to_string());
        }
        codec = codec_of(name->compression);
        what = Content::kDocuments;
        documents = true;
      }
    }
    if (what == Content::kHashOnly && !mf) {
      // Neither a dump file nor listed: restore ignores it.
      if (manifest)
        ctx.problems.add(f.rel, "", "extra file: not listed in manifest.json");
      else
        r.notices.push_back("skipped " + f.rel + ": not a dump file (restore ignores it)");
      continue;
    }
    if (manifest && !mf) ctx.problems.add(f.rel, ns, "extra file: not listed in manifest.json");
    tasks.push_back({&f, mf, ns, codec, what, documents, {}});
  }

  // The expensive part (read, hash, decompress, validate) runs for several files at once.
  parallel_for(tasks.size(), ctx.opts.jobs, [&](std::size_t i) {
    auto& t = tasks[i];
    t.scan = scan_file(ctx, t.file->path, t.file->rel, t.ns, t.codec, t.what);
  });
  if (ctx.interrupted()) return;

  for (auto& t : tasks) {
    const DirEntry& f = *t.file;
    const formats::ManifestFile* mf = t.mf;
    const std::string& ns = t.ns;
    const Content what = t.what;
    const bool documents = t.documents;
    const FileScan& s = t.scan;
    VerifyNamespace* nsinfo = nullptr;
    if (!s.readable) continue;
    if (what == Content::kText && s.documents_ok) {
      auto p = formats::parse_prelude_json(
          std::string_view(reinterpret_cast<const char*>(s.content.data()), s.content.size()));
      if (!p) ctx.problems.add(f.rel, "", "does not parse: " + p.status().message(), p.status().offset());
    }
    if (documents && f.rel.find('/') != std::string::npos) {
      r.namespaces.push_back({ns, f.rel, s.documents, s.digest.hex()});
      nsinfo = &r.namespaces.back();
      if (!s.documents_ok) nsinfo->digest.clear();
    }
    if (!mf) continue;
    if (mf->stored_bytes != s.stored_bytes) {
      ctx.problems.add(f.rel, ns,
                       "size " + std::to_string(s.stored_bytes) + " differs from the manifest's " +
                           std::to_string(mf->stored_bytes) +
                           (s.stored_bytes < mf->stored_bytes ? " (truncated)" : ""));
    } else if (mf->xxh3_128 != s.xxh3) {
      ctx.problems.add(f.rel, ns, "checksum mismatch: XXH3-128 " + s.xxh3 + ", manifest says " + mf->xxh3_128);
    }
    if (documents && s.documents_ok) {
      if (mf->documents != s.documents)
        ctx.problems.add(
            f.rel, ns,
            "holds " + std::to_string(s.documents) + " documents, the manifest says " + std::to_string(mf->documents));
      else if (mf->raw_bytes != s.raw_bytes)
        ctx.problems.add(
            f.rel, ns,
            "holds " + std::to_string(s.raw_bytes) + " BSON bytes, the manifest says " + std::to_string(mf->raw_bytes));
    }
  }

  // A directory holding no dump file at all is not a dump (a wrong path must not pass).
  if (r.namespaces.empty() && metas.empty() && !manifest)
    ctx.problems.add("", "",
                     "no dump files found in " + root.string() + " (no <db>/<collection>.bson or .metadata.json)");

  // Listed but absent.
  std::set<std::string> present;
  for (const auto& f : files) present.insert(f.rel);
  for (const auto& [path, mf] : listed)
    if (!present.count(path))
      ctx.problems.add(path, mf->ns, "missing file: listed in manifest.json but not in the dump");

  for (const auto& [key, info] : metas) {
    if (info.used || !info.metadata) continue;
    if (info.metadata->type == "view") continue;
    // Without a manifest a lost data file cannot be told from a metadata-only collection.
    if (!manifest) r.notices.push_back(info.rel + ": metadata without a data file (restored as an empty collection)");
  }
}

// ---- archives ---------------------------------------------------------------------------------

void verify_archive(Context& ctx) {
  auto& r = ctx.report;
  r.format = "archive";
  const std::string name = ctx.opts.input.string();
  std::error_code ec;
  if (name != "-" && !fs::is_regular_file(ctx.opts.input, ec)) {
    r.error = {ErrorCode::kIo, name + ": not a file"};
    return;
  }
  auto in = ArchiveInput::open(name, false);
  if (!in) {
    r.error = {in.status().code(), name + ": " + in.status().to_string()};
    return;
  }
  r.notices.push_back(
      "archive: no manifest, so no file checksum or dumped document counts to compare; each namespace's "
      "documents are checked against the archive's own CRC-64");
  formats::archive::ReaderOptions ro;
  ro.validate_documents = true;
  ro.max_document_size = kMaxDocumentSize;
  formats::archive::Reader reader((*in)->source(), ro);
  std::string decompressed = (*in)->codec() == io::Codec::kNone ? "" : " (offset in the decompressed stream)";
  auto prelude = reader.read_prelude();
  if (!prelude) {
    ctx.problems.add(name, "", prelude.status().message() + decompressed, prelude.status().offset());
    return;
  }
  for (const auto& e : (*prelude)->collections) {
    if (e.metadata.empty()) continue;
    auto m = check_metadata_text(ctx, name, e.ns(), e.metadata);
    (void)m;
  }
  std::map<std::string, formats::MultisetDigest> digests;
  formats::ValidateOptions vo;
  vo.check_utf8 = ctx.opts.check_utf8;
  while (true) {
    if (ctx.interrupted()) return;
    auto ev = reader.next();
    if (!ev) {
      ctx.problems.add(name, "", ev.status().message() + decompressed, ev.status().offset());
      break;
    }
    if (ev->kind == formats::archive::EventKind::kEnd) break;
    std::string ns = std::string(ev->db) + "." + std::string(ev->collection);
    if (ev->kind == formats::archive::EventKind::kDocuments) {
      auto& d = digests[ns];
      ByteSpan docs = ev->documents;
      std::size_t pos = 0;
      while (pos + 4 <= docs.size()) {
        auto len = static_cast<std::size_t>(formats::load_u32(docs.data() + pos));
        ByteSpan doc = docs.subspan(pos, len);
        if (ctx.opts.check_utf8)
          if (Status s = formats::validate(doc, vo, ev->offset + static_cast<std::int64_t>(pos)); !s)
            ctx.problems.add(name, ns, "invalid BSON: " + s.message() + decompressed, s.offset());
        d.add(doc);
        pos += len;
      }
      r.documents += ev->document_count;
    } else if (ev->kind == formats::archive::EventKind::kNamespaceEnd) {
      if (ev->entry && ev->entry->is_oplog()) continue;
      r.namespaces.push_back({ns, "", ev->total_documents, digests[ns].hex()});
      r.raw_bytes += ev->total_bytes;
    }
  }
  r.files_checked = 1;
  r.stored_bytes = fs::file_size(ctx.opts.input, ec);
}

// ---- --against --------------------------------------------------------------------------------

void compare_with_server(Context& ctx) {
  auto& r = ctx.report;
  auto uri = io::parse_uri(ctx.opts.against);
  if (!uri) {
    r.error = {ErrorCode::kInvalidArgument, "--against: " + uri.status().to_string()};
    return;
  }
  r.against = uri->redacted();
  auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
  if (!conn) {
    r.error = {ErrorCode::kNetwork, "cannot connect to " + r.against + ": " + conn.error().to_string()};
    return;
  }
  r.against_ran = true;
  std::set<std::string> dbs, dumped;
  for (auto& n : r.namespaces) {
    if (ctx.interrupted()) return;
    auto dot = n.ns.find('.');
    if (dot == std::string::npos || n.digest.empty()) continue;  // no name or unreadable data: nothing to compare
    std::string db = n.ns.substr(0, dot), coll = n.ns.substr(dot + 1);
    if (coll.starts_with("$")) {  // --dumpDbUsersAndRoles files ($admin.system.users): not a collection of db
      r.notices.push_back(n.ns + " is not a collection of " + db + " (users/roles): not compared");
      continue;
    }
    dbs.insert(db);
    dumped.insert(n.ns);
    formats::MultisetDigest d;
    auto cur = io::find(**conn, db, coll, {});
    if (!cur) {
      ctx.problems.add(n.file, n.ns, "cannot read from " + r.against + ": " + cur.error().to_string());
      continue;
    }
    bool read_ok = true;
    while (true) {
      for (ByteSpan doc : cur->batch()) d.add(doc);
      if (cur->exhausted()) break;
      auto more = cur->next_batch();
      if (!more) {
        ctx.problems.add(n.file, n.ns, "getMore failed on " + r.against + ": " + more.error().to_string());
        read_ok = false;
        break;
      }
      if (!*more) break;
    }
    if (!read_ok) continue;
    n.compared = true;
    n.server_documents = d.count();
    n.server_digest = d.hex();
    n.matches = n.server_documents == n.documents && n.server_digest == n.digest;
    if (n.server_documents != n.documents)
      ctx.problems.add(n.file, n.ns,
                       "differs from the server: the dump has " + std::to_string(n.documents) +
                           " documents, the server " + std::to_string(n.server_documents));
    else if (!n.matches)
      ctx.problems.add(n.file, n.ns,
                       "differs from the server: same count (" + std::to_string(n.documents) +
                           ") but different content (digest " + n.digest + " vs " + n.server_digest + ")");
  }
  // Collections the server has in the dumped databases but the dump lacks: the dump may have been
  // filtered, so they are noted, not counted as problems.
  for (const auto& db : dbs) {
    auto colls = io::list_collections(**conn, db);
    if (!colls) continue;
    for (const auto& c : *colls) {
      if (c.type == "view" || c.name.starts_with("system.")) continue;
      if (!dumped.count(db + "." + c.name))
        r.notices.push_back(db + "." + c.name + " is on the server but not in the dump (not compared)");
    }
  }
}

}  // namespace

std::string VerifyProblem::to_string() const {
  std::string out = file.empty() ? ns : file;
  if (!file.empty() && !ns.empty()) out += " [" + ns + "]";
  out += ": " + message;
  if (offset >= 0) out += " (at offset " + std::to_string(offset) + ")";
  return out;
}

VerifyReport run_verify(const VerifyOptions& opts) {
  VerifyReport r;
  r.input = opts.input.string();
  Context ctx{opts, r, Problems(r, opts.max_problems_per_file)};
  std::error_code ec;
  bool archive = opts.archive || (opts.input != "-" && fs::is_regular_file(opts.input, ec));
  if (archive)
    verify_archive(ctx);
  else
    verify_directory(ctx);
  if (r.error.is_ok() && !opts.against.empty() && !ctx.interrupted()) compare_with_server(ctx);
  // Grouped by file, whatever order the parallel scans finished in.
  std::stable_sort(r.problems.begin(), r.problems.end(),
                   [](const VerifyProblem& a, const VerifyProblem& b) { return a.file < b.file; });
  if (ctx.interrupted() && r.error.is_ok()) r.error = {ErrorCode::kCancelled, "interrupted"};
  return r;
}

Result<std::string> record_catalog_verification(const VerifyOptions& opts, const VerifyReport& r) {
  if (r.format != "directory" || !r.error.is_ok()) return std::string();
  std::error_code ec;
  fs::path dir = fs::absolute(opts.input, ec).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  fs::path root = dir.parent_path();
  if (ec || !fs::is_regular_file(root / kCatalogLockName, ec)) return std::string();
  fs::path record = root / kCatalogVerifiedDir / (dir.filename().string() + ".json");
  if (!r.ok()) {
    fs::remove(record, ec);
    if (ec) return Status{ErrorCode::kIo, "cannot remove " + record.string() + ": " + ec.message()};
    return record.string();
  }
  fs::create_directories(record.parent_path(), ec);
  if (ec) return Status{ErrorCode::kIo, "cannot create " + record.parent_path().string() + ": " + ec.message()};
  std::string json = verify_report_json(r) + "\n";
  auto w = io::AtomicFileWriter::create(record);
  if (!w) return w.status();
  if (Status s = w->write(ByteSpan(reinterpret_cast<const std::uint8_t*>(json.data()), json.size())); !s) return s;
  if (Status s = w->commit(); !s) return s;
  return record.string();
}

std::string verify_report_json(const VerifyReport& r) {
  Builder b;
  b.append_string("input", r.input);
  b.append_string("format", r.format);
  b.append_bool("ok", r.ok());
  b.append_bool("manifest", r.has_manifest);
  b.append_bool("manifestComplete", r.manifest_complete);
  b.append_int64("filesChecked", static_cast<std::int64_t>(r.files_checked));
  b.append_int64("documents", static_cast<std::int64_t>(r.documents));
  b.append_int64("rawBytes", static_cast<std::int64_t>(r.raw_bytes));
  b.append_int64("storedBytes", static_cast<std::int64_t>(r.stored_bytes));
  if (!r.error.is_ok()) b.append_string("error", r.error.to_string());
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
