// The dump's three output kinds behind DumpSink: the directory layout (one compressed .bson per
// collection, staged and moved in place with the manifest last), the archive multiplexer (a
// file, standard output or the copy's document sink), and standard output as plain .bson.
#include "io/file.hpp"
#include "pipeline/ops/dump_internal.hpp"

namespace bsonpipe::pipeline::dump_detail {

Status DumpSink::write_block(std::string_view, std::string_view, formats::Bytes&, std::size_t) {
  return Status(ErrorCode::kInternal, "dump: this output takes no document blocks");
}

Status DumpSink::open_oplog(StreamOutput&) {
  return Status(ErrorCode::kInternal, "dump: this output takes no oplog");
}

Status DumpSink::finish_oplog(StreamOutput&, std::uint64_t, std::uint64_t, std::uint64_t) {
  return {};
}

// Directory mode: every file is staged under "<out>.partial" and moved to <out> at the end.
class DirectorySink final : public DumpSink {
 public:
  explicit DirectorySink(Dumper& d) : d_(d) {}
  Status start() override { return d_.start_directory(); }
  bool joins_ranges() const override { return true; }
  // The collection's file, hashed for the manifest as it is written (a split collection's ranges
  // reach it through the collection's RangeJoin, which opens it once).
  Status open_range(CollectionJob& c, std::size_t, bool, StreamOutput& out) override {
    auto rel = formats::dump_file_path(c.db, c.data_name, formats::DumpFileKind::kBson, d_.opts_.codec);
    if (!rel) return rel.status();
    out.hash = std::make_unique<formats::Xxh3Hasher>();
    return open_file(d_.staging_ / *rel, out);
  }
  Status finish_collection(CollectionJob& c) override {
    auto rel = formats::dump_file_path(c.db, c.data_name, formats::DumpFileKind::kBson, d_.opts_.codec);
    if (!rel) return rel.status();
    std::lock_guard lock(d_.manifest_mu_);
    d_.files_.push_back({*rel, c.ns(), "data", c.documents, c.raw_bytes, c.stored_bytes, c.data_hash});
    return {};
  }
  Status open_oplog(StreamOutput& out) override {
    out.hash = std::make_unique<formats::Xxh3Hasher>();
    return open_file(d_.staging_ / formats::oplog_file_name(d_.opts_.codec), out);
  }
  Status finish_oplog(StreamOutput& out, std::uint64_t n, std::uint64_t raw, std::uint64_t stored) override {
    if (Status s = out.file->commit(); !s) return s;
    std::lock_guard lock(d_.manifest_mu_);
    d_.files_.push_back(
        {formats::oplog_file_name(d_.opts_.codec), "", "oplog", n, raw, stored, out.hash->hex_digest()});
    return {};
  }
  Status finalize() override { return d_.finalize_directory(); }
  void abort() override {
    if (!d_.staging_.empty()) (void)d_.storage_.remove_all(d_.staging_);
  }

 private:
  Status open_file(const fs::path& path, StreamOutput& out) {
    auto f = d_.storage_.create(path);
    if (!f) return f.status();
    out.file = std::move(*f);
    out.bytes = [&out](ByteSpan b) -> Status {
      if (out.hash) out.hash->update(b);
      return out.file->write(b);
    };
    return {};
  }

  Dumper& d_;
};

// Archive mode: the prelude first, then every namespace's blocks and ends through the
// multiplexer (or the copy's document sink, which then owns the stream's end).
class ArchiveSink final : public DumpSink {
 public:
  explicit ArchiveSink(Dumper& d) : d_(d) {}
  Status start() override { return d_.write_archive_prelude(); }
  Status open_range(CollectionJob&, std::size_t, bool, StreamOutput&) override { return {}; }
  Status write_block(std::string_view db, std::string_view coll, formats::Bytes& block, std::size_t count) override {
    return d_.emit_documents(db, coll, block, count);
  }
  Status finish_collection(CollectionJob& c) override { return d_.emit_end(c.db, c.data_name); }
  Status open_oplog(StreamOutput&) override { return {}; }
  Status finish_oplog(StreamOutput&, std::uint64_t, std::uint64_t, std::uint64_t) override {
    return d_.emit_end("", "oplog");
  }
  Status finalize() override {
    if (d_.opts_.document_sink) return {};
    return d_.finish_archive();
  }
  void abort() override {
    if (d_.archive_file_) d_.archive_file_->abort();
  }

 private:
  Dumper& d_;
};

// --out -: one collection's documents, in order, as plain .bson on standard output.
class StdoutBsonSink final : public DumpSink {
 public:
  bool splits_collections() const override { return false; }
  Status start() override { return {}; }
  Status open_range(CollectionJob&, std::size_t, bool, StreamOutput& out) override {
    out.bytes = [](ByteSpan b) { return io::write_all(1, b, "standard output"); };
    return {};
  }
  Status finish_collection(CollectionJob&) override { return {}; }
  Status finalize() override { return {}; }
  void abort() override {}
};

std::unique_ptr<DumpSink> make_directory_sink(Dumper& d) {
  return std::make_unique<DirectorySink>(d);
}
std::unique_ptr<DumpSink> make_archive_sink(Dumper& d) {
  return std::make_unique<ArchiveSink>(d);
}
std::unique_ptr<DumpSink> make_stdout_bson_sink() {
  return std::make_unique<StdoutBsonSink>();
}

}  // namespace bsonpipe::pipeline::dump_detail
