// The dump's output through the storage seam: the staging directory with metadata, prelude and
// bundled files, the move of finished files into the output directory with the manifest last,
// and the archive stream (a file, standard output, or the copy's document sink).
#include <algorithm>
#include <chrono>

#include "formats/hash.hpp"
#include "io/file.hpp"
#include "pipeline/ops/dump_internal.hpp"
#include "pipeline/core/version.hpp"

namespace bsonpipe::pipeline::dump_detail {

namespace {

std::string hex(ByteSpan b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

}  // namespace

std::int64_t now_utc_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status BlockGatherer::write(ByteSpan b) {
  buf_.insert(buf_.end(), b.begin(), b.end());
  if (buf_.size() >= block_) return flush();
  return {};
}

Status BlockGatherer::flush() {
  if (buf_.empty()) return {};
  Bytes out;
  out.reserve(block_ + block_ / 4);
  out.swap(buf_);
  return w_->add(std::move(out));
}

std::string Dumper::metadata_json(const CollectionJob& c) const {
  formats::CollectionMetadata m;
  m.options = c.options.empty() ? formats::Builder().finish() : c.options;
  m.options_present = true;
  m.indexes = c.indexes;
  m.uuid = c.uuid.size() == 16 ? hex(c.uuid) : "";
  m.collection_name = c.name;
  m.type = c.type;
  return formats::write_collection_metadata(m);
}

// Writes a whole small file (metadata, prelude, users and roles) compressed with the dump's codec.
Status Dumper::write_small_file(const std::string& rel, ByteSpan content, const std::string& ns,
                                const std::string& kind, std::uint64_t documents) {
  Bytes stored;
  if (opts_.codec == io::Codec::kNone || kind == "prelude") {
    stored.assign(content.begin(), content.end());
  } else {
    auto comp = io::BlockCompressor::create(opts_.codec, opts_.level ? opts_.level : io::default_level(opts_.codec));
    if (Status s = comp->compress(content, stored); !s) return s;
  }
  if (Status s = storage_.write_all(staging_ / rel, stored); !s) return s;
  std::lock_guard lock(manifest_mu_);
  files_.push_back({rel, ns, kind, documents, content.size(), stored.size(), formats::xxh3_128_hex(stored)});
  return {};
}

Status Dumper::write_metadata_files() {
  for (auto& c : colls_) {
    std::string json = metadata_json(*c);
    auto rel = formats::dump_file_path(c->db, c->name, formats::DumpFileKind::kMetadata, opts_.codec);
    if (!rel) return rel.status();
    if (Status s = write_small_file(*rel, text_bytes(json), c->ns(), "metadata"); !s) return s;
  }
  return {};
}

// A fresh "<out>.partial" with everything but the collections' data: metadata, users and roles,
// prelude.json and the bundled files.
Status Dumper::start_directory() {
  staging_ = opts_.out;
  staging_ += ".partial";
  (void)storage_.remove_all(staging_);  // a leftover of a failed run; making it anew reports a failure
  if (Status s = storage_.make_directories(staging_); !s) return s;
  if (Status s = write_metadata_files(); !s) return s;
  for (auto& p : authz_) {  // --- --dumpDbUsersAndRoles: <db>/$admin.system.users.bson, ... ---
    auto rel = db_authz_file_path(opts_.db, p.collection, opts_.codec);
    if (!rel) return rel.status();
    if (Status s = write_small_file(*rel, p.documents, opts_.db + "." + p.collection, "data", p.count); !s) return s;
  }
  formats::PreludeJson p{server_version_, std::string(tool_version())};
  std::string json = formats::write_prelude_json(p);
  if (Status s = write_small_file(formats::prelude_file_name(), text_bytes(json), "", "prelude"); !s) return s;
  // --- bundled files (pipeline/catalog/bundle.hpp): copied into the staging directory ---
  if (!opts_.bundle.include_paths.empty()) {
    BundleOptions bundle = opts_.bundle;
    bundle.storage = &storage_;  // move_bundle moves them through the same storage
    auto b = copy_bundle(staging_, bundle);
    if (!b) return b.status();
    bundle_ = std::move(*b);
  }
  return {};
}

// The archive's byte path: multiplexer -> block gatherer -> ordered (compressing) writer -> the
// archive file in the storage, or standard output.
Status Dumper::open_archive() {
  fs::path out = opts_.out;
  if (!out.empty() && out != "-") {
    auto f = storage_.create(out);
    if (!f) return f.status();
    archive_file_ = std::move(*f);
  }
  archive_writer_ = std::make_unique<OrderedBlockWriter>(
      &pool_, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(2 * pool_.threads() + 2)},
      [this](ByteSpan b) -> Status {
        if (archive_file_) return archive_file_->write(b);
        return io::write_all(1, b, "standard output");
      });
  archive_gather_ = std::make_unique<BlockGatherer>(archive_writer_.get(), opts_.block_bytes);
  mux_ = std::make_unique<formats::archive::Multiplexer>([this](ByteSpan b) { return archive_gather_->write(b); });
  return {};
}

Status Dumper::write_archive_prelude() {
  formats::archive::Prelude prelude;
  prelude.header.concurrent_collections = opts_.parallel_collections;
  prelude.header.server_version = server_version_;
  prelude.header.tool_version = std::string(tool_version());
  for (auto& c : colls_) prelude.collections.push_back({c->db, c->name, metadata_json(*c), c->size, c->type});
  if (opts_.oplog) prelude.collections.push_back({"", "oplog", "", 0, ""});
  for (auto& p : authz_) prelude.collections.push_back({opts_.db, p.collection, "", 0, ""});
  if (opts_.document_sink) {
    if (Status s = opts_.document_sink->start(prelude); !s) return s;
  } else {
    if (Status s = open_archive(); !s) return s;
    if (Status s = mux_->write_prelude(prelude); !s) return s;
  }
  for (auto& c : colls_)
    if (!c->has_data)
      if (Status s = emit_end(c->db, c->name); !s) return s;
  for (auto& p : authz_) {  // --dumpDbUsersAndRoles: right after the prelude, as mongodump
    if (!p.documents.empty()) {
      Bytes docs = p.documents;
      if (Status s = emit_documents(opts_.db, p.collection, docs, p.count); !s) return s;
    }
    if (Status s = emit_end(opts_.db, p.collection); !s) return s;
  }
  return {};
}

// The archive's terminator, the last blocks, and the file put in place under its name.
Status Dumper::finish_archive() {
  if (Status s = mux_->finish(); !s) return s;
  if (Status s = archive_gather_->flush(); !s) return s;
  if (Status s = archive_writer_->finish(); !s) return s;
  if (archive_file_) return archive_file_->commit();
  return {};
}

Status Dumper::emit_documents(std::string_view db, std::string_view coll, Bytes& block, std::size_t count) {
  if (opts_.document_sink) return opts_.document_sink->documents(db, coll, std::exchange(block, Bytes()), count);
  return mux_->write_documents(db, coll, block);
}

Status Dumper::emit_end(std::string_view db, std::string_view coll) {
  if (opts_.document_sink) return opts_.document_sink->end_namespace(db, coll);
  return mux_->end_namespace(db, coll);
}

// Moves every staged file into the output directory, then writes the manifest last.
Status Dumper::finalize_directory() {
  fs::path out = opts_.out;
  if (Status s = storage_.make_directories(out); !s) return s;
  // A manifest from an earlier dump in the same place must not vouch for this one's files.
  if (Status s = storage_.remove(out / formats::kManifestName); !s) return s;
  if (Status s = move_staged_files(out); !s) return s;
  if (Status s = move_bundle(staging_, out, bundle_); !s) return s;  // --- bundled files ---
  (void)storage_.remove_all(staging_);                               // only emptied directories are left in it
  return write_manifest(out);
}

Status Dumper::move_staged_files(const fs::path& out) {
  std::sort(files_.begin(), files_.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  for (auto& f : files_) {
    fs::path dst = out / f.path;
    if (Status s = storage_.make_directories(dst.parent_path()); !s) return s;
    if (Status s = storage_.rename(staging_ / f.path, dst); !s) return s;
  }
  // Renames are durable once their directories are synced (the local file system only: other
  // storages have no directories to sync, and a failure here loses no data of this run).
  if (&storage_ != &io::local_storage()) return {};  // keys, not local paths: nothing to sync
  auto entries = storage_.list(out);
  if (entries)
    for (auto& e : *entries)
      if (e.directory) (void)io::sync_directory(out / e.name);
  return {};
}

// The manifest is what makes the output a finished dump (`complete` is true only here).
Status Dumper::write_manifest(const fs::path& out) {
  formats::Manifest m;
  m.tool_version = std::string(tool_version());
  m.source = uri_.redacted();
  m.topology = topology_;
  m.server_version = server_version_;
  m.format = "directory";
  m.compression = std::string(io::codec_name(opts_.codec));
  m.start_ms = start_ms_;
  m.end_ms = now_utc_ms();
  m.files = files_;
  m.bundled_roots = bundle_.roots;  // --- bundled files ---
  m.bundled = bundle_.files;
  m.complete = true;
  std::string json = formats::manifest_to_json(m);
  return storage_.write_all(out / formats::kManifestName, text_bytes(json));
}

}  // namespace bsonpipe::pipeline::dump_detail
