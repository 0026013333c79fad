// The set-up of a restore run (Restorer, pipeline/ops/restore_run.hpp): the options' values, the
// restore journal (path, identity, open or resume), the archive's oplog spool and the oplog replay.
#include <chrono>
#include <filesystem>

#include "pipeline/ops/restore_outcome.hpp"
#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

namespace fs = std::filesystem;
using formats::Builder;
using formats::DocView;

namespace {

// Part of a journal's identity. Storage has no modification times: only a local file has one
// here, other storage relies on the path and size.
std::int64_t modification_time(io::Storage& storage, const fs::path& p) {
  if (&storage != &io::local_storage()) return -1;
  std::error_code ec;
  auto mtime = fs::last_write_time(p, ec);
  return ec ? -1 : static_cast<std::int64_t>(mtime.time_since_epoch().count());
}

}  // namespace

void Restorer::namespace_failed(std::size_t k, Status s) {
  bool recorded;
  {
    NsState& st = *states_[k];
    std::lock_guard lock(st.mu);
    recorded = !st.error.empty();
  }
  if (stop_on_error_ || !recorded || s.code() == ErrorCode::kNetwork || s.code() == ErrorCode::kCancelled ||
      errors_.cancelled()) {
    fail(std::move(s));
    return;
  }
  log(LogLevel::kVerbose, "carrying on with the other namespaces after: " + s.message());
}

// The options' values for the run (RestoreOptions::validate has checked them).
Status Restorer::parse_options() {
  if (!o_.oplog_limit.empty()) {
    auto lim = parse_oplog_limit(o_.oplog_limit);
    if (!lim) return lim.status();
    oplog_limit_ = *lim;
  }
  auto wc = parse_write_concern(o_.write_concern);
  if (!wc) return wc.status();
  write_concern_ = std::move(*wc);
  return {};
}

std::filesystem::path Restorer::journal_path() const {
  if (!o_.journal.empty()) return o_.journal;
  if (o_.archive) return o_.archive_path + ".journal";
  if (auto dir = storage_.is_directory(o_.input); dir && *dir) return o_.input / ".bsonpipe-restore-journal";
  std::filesystem::path p = o_.input;
  p += ".journal";
  return p;
}

// Everything that decides which documents go where in which batches: a resumed run must match.
Bytes Restorer::journal_identity() const {
  namespace fs = std::filesystem;
  // A local path made absolute; an object-storage key is relative to the storage's prefix already.
  auto normal = [this](const fs::path& p) {
    return (&storage_ == &io::local_storage() ? fs::absolute(p) : p).lexically_normal().string();
  };
  auto file_key = [this, &normal](Builder& b, const fs::path& p) {
    if (auto dir = storage_.is_directory(p); dir && *dir) {
      // Its own mtime changes with the journal inside it: the files below identify the dump.
      b.append_string("path", normal(p));
      return;
    }
    auto size = storage_.size(p);
    b.append_string("path", normal(p));
    b.append_int64("size", size ? static_cast<std::int64_t>(*size) : -1);
    b.append_int64("mtime", modification_time(storage_, p));
  };
  auto strings = [](Builder& b, std::string_view key, const std::vector<std::string>& v) {
    b.open_array(key);
    for (auto& x : v) b.append_string(b.next_array_key(), x);
    b.close();
  };
  BatchLimits lim = limits();
  Builder b;
  b.append_int32("version", 1);
  b.append_string("db", o_.plan.db);
  b.append_string("collection", o_.plan.collection);
  strings(b, "nsInclude", o_.plan.ns_include);
  strings(b, "nsExclude", o_.plan.ns_exclude);
  strings(b, "nsFrom", o_.plan.ns_from);
  strings(b, "nsTo", o_.plan.ns_to);
  b.append_int64("batchDocuments", static_cast<std::int64_t>(lim.max_documents));
  b.append_int64("batchBytes", static_cast<std::int64_t>(lim.max_bytes));
  b.append_int64("archiveBatchBytes",
                 o_.archive ? static_cast<std::int64_t>(std::min<std::size_t>(o_.batch_bytes, 4 * 1024 * 1024)) : 0);
  b.append_bool("drop", o_.drop);
  b.append_bool("noIndexRestore", o_.no_index_restore);
  b.append_bool("noOptionsRestore", o_.no_options_restore);
  b.append_bool("maintainInsertionOrder", o_.maintain_insertion_order);
  b.append_bool("oplogReplay", o_.plan.oplog_replay);
  b.append_string("oplogLimit", o_.oplog_limit);
  b.append_bool("archive", o_.archive);
  b.open_document("input");
  file_key(b, o_.archive ? fs::path(o_.archive_path) : o_.input);
  b.close();
  b.open_array("files");
  for (auto& t : plan_.targets) {
    b.open_document(b.next_array_key());
    b.append_string("ns", t.source_ns() + " -> " + t.ns());
    if (!t.data_file.empty()) file_key(b, t.data_file);
    b.close();
  }
  b.close();
  return b.finish();
}

Status Restorer::open_journal() {
  namespace fs = std::filesystem;
  if (o_.archive && (o_.archive_path.empty() || o_.archive_path == "-")) return {};
  fs::path path = journal_path();
  auto there = storage_.exists(path);
  if (!there) return there.status();
  bool exists = *there;
  if (!o_.resume && o_.journal.empty() && !exists) return {};  // not asked for: no journal
  // A batch is journaled once the server acknowledged it: unacknowledged writes prove nothing.
  if (!write_concern_.empty()) {
    auto w = DocView(write_concern_).find("w");
    if (w.valid() && w.type() == formats::BsonType::kInt32 && w.as_int32() == 0)
      return {ErrorCode::kInvalidArgument,
              "--resume/--journal need acknowledged writes: not with --writeConcern w:0 (use w:1 or more)"};
  }
  const bool local = &storage_ == &io::local_storage();
  archive_source_ = !o_.archive ? std::string() : local ? fs::absolute(o_.archive_path).string() : o_.archive_path;
  Bytes identity = journal_identity();
  if (o_.resume && exists) return open_existing_journal(path, identity);
  if (o_.resume)
    log(LogLevel::kInfo, "no restore journal at " + path.string() + ": starting a new (journaled) restore");
  auto j = RestoreJournal::create(path, DocView(identity), storage_);
  if (!j) return j.status();
  journal_ = std::move(*j);
  return {};
}

Status Restorer::open_existing_journal(const std::filesystem::path& path, const Bytes& identity) {
  auto j = RestoreJournal::resume(path, DocView(identity), storage_);
  if (!j) return j.status();
  journal_ = std::move(*j);
  prior_ = journal_->state();
  resuming_ = true;
  if (prior_.complete) {
    already_complete_ = true;
    return {};
  }
  std::uint64_t batches = 0;
  for (auto& [ns, set] : prior_.batches) batches += set.size();
  log(LogLevel::kInfo, "resuming from " + path.string() + ": " + std::to_string(prior_.done.size()) +
                           " namespace(s) done, " + std::to_string(batches) + " batch(es) journaled" +
                           (prior_.torn_tail ? " (a torn last record was ignored)" : ""));
  return {};
}

Status Restorer::open_oplog_spool() {
  oplog_spool_ = std::make_unique<OplogSpool>();
  // A scratch file read back and removed by this run: always local (a temporary file in a bucket
  // would cost two transfers and could outlive a crash there).
  oplog_spool_->storage = &io::local_storage();
  oplog_spool_->path = std::filesystem::temp_directory_path() / ("bsonpipe-oplog-" + random_suffix() + ".bson");
  auto out = oplog_spool_->storage->create(oplog_spool_->path);
  if (!out) return {ErrorCode::kIo, "cannot create " + oplog_spool_->path.string() + ": " + out.status().message()};
  oplog_spool_->out = std::move(*out);
  return {};
}

Status Restorer::replay_oplog_now(io::Connection& conn) {
  auto mapper = NamespaceMapper::create(o_.plan);
  if (!mapper) return mapper.status();
  OplogReplayOptions ro;
  ro.storage = oplog_spool_ ? oplog_spool_->storage : &storage_;
  if (oplog_spool_) {
    if (oplog_spool_->out) {
      // Read back and removed: no need to make it durable.
      auto s = oplog_spool_->out->commit(false);
      oplog_spool_->out.reset();
      if (!s) return {s.code(), "writing " + oplog_spool_->path.string() + ": " + s.message()};
      oplog_spool_->committed = true;
    }
    ro.file = oplog_spool_->path;
    ro.name = "the archive's oplog";
  } else {
    ro.file = plan_.oplog_file;
  }
  ro.limit = oplog_limit_;
  ro.mapper = &*mapper;
  ro.plan = o_.plan;
  ro.preserve_uuid = o_.preserve_uuid;
  ro.bypass_document_validation = o_.bypass_document_validation;
  ro.max_ops = std::min<std::size_t>(server_.max_write_batch_size, 1000);
  if (resuming_) {
    ro.already_applied = [this](std::int64_t b, std::int64_t e) { return prior_.oplog_batch_done(b, e); };
    ro.tolerate_reapplied_commands = true;
  }
  if (journal_)
    ro.applied = [this](std::int64_t b, std::int64_t e, std::uint64_t n) {
      return journal_->record_oplog_batch(b, e, n);
    };
  ro.cancelled = [this] { return errors_.cancelled(); };
  log(LogLevel::kInfo, "replaying the oplog from " + (ro.name.empty() ? ro.file.string() : ro.name));
  auto r = replay_oplog(conn, ro);
  if (!r) return r.status();
  oplog_stats_ = *r;
  oplog_replayed_ = true;
  log(LogLevel::kInfo,
      "oplog replay: " + std::to_string(r->applied) + " entr(ies) applied, " + std::to_string(r->skipped_noop) +
          " no-op(s) and " + std::to_string(r->skipped_filtered) + " entr(ies) of other namespaces skipped" +
          (oplog_limit_ ? ", " + std::to_string(r->after_limit) + " at or after --oplogLimit" : "") +
          (r->skipped_resumed ? ", " + std::to_string(r->skipped_resumed) + " applied before (journal)" : ""));
  return {};
}

Status Restorer::check_require_empty(io::Connection& conn) {
  std::vector<std::string> busy;
  for (auto& t : plan_.targets) {
    if (t.kind == TargetKind::kView) continue;
    auto n = io::count(conn, t.db, t.data_collection);
    if (!n) {
      if (n.error().code() == 26) continue;  // NamespaceNotFound
      return Status{ErrorCode::kServer, "counting " + t.ns() + ": " + n.error().to_string()};
    }
    if (*n > 0) busy.push_back(t.ns() + " (" + std::to_string(*n) + " documents)");
  }
  if (busy.empty()) return {};
  std::string msg = "--require-empty: target namespaces already hold documents, nothing was written: ";
  for (std::size_t i = 0; i < busy.size(); ++i) msg += (i ? ", " : "") + busy[i];
  return {ErrorCode::kInvalidArgument, msg};
}

}  // namespace bsonpipe::pipeline::restore_detail
