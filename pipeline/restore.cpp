#include "pipeline/restore.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "io/commands.hpp"
#include "io/uri.hpp"
#include "pipeline/bounded_queue.hpp"
#include "pipeline/error_holder.hpp"
#include "pipeline/oplog_replay.hpp"
#include "pipeline/rate_limiter.hpp"
#include "pipeline/restore_journal.hpp"
#include "pipeline/restore_outcome.hpp"
#include "pipeline/restore_source.hpp"
#include "pipeline/users_roles.hpp"

namespace bsonpipe::pipeline {

using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;
using formats::Timestamp;
namespace archive = formats::archive;

namespace {

constexpr std::size_t kMaxReasons = 10;

std::string random_suffix() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(hex[(v >> (i * 4)) & 0xF]);
  return s;
}

// Counters of one namespace, updated by its workers.
struct NsState {
  std::atomic<std::uint64_t> read{0};
  std::atomic<std::uint64_t> inserted{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> invalid{0};  // refused by the collection's validator (tolerated)
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> already{0};  // --resume: journaled, or found inserted on re-send
  std::atomic<std::uint64_t> present{0};  // ... found inserted on re-send
  std::atomic<std::uint64_t> bytes{0};
  std::mutex mu;
  std::vector<std::string> reasons;
  std::size_t indexes_created = 0;
  bool completed = false;
  // Inserts were sent straight into the target collection (not a --swap temporary one): if the
  // run stops before completed, the target may hold part of the data.
  std::atomic<bool> written{false};
  std::string error;

  void add_reason(const std::string& r) {
    std::lock_guard lock(mu);
    if (reasons.size() < kMaxReasons && std::find(reasons.begin(), reasons.end(), r) == reasons.end())
      reasons.push_back(r);
  }
  void set_error(const std::string& e) {
    std::lock_guard lock(mu);
    if (error.empty()) error = e;
  }
};

class Restorer;

// One collection being loaded: its connections, its queue and its insertion workers.
class CollectionJob {
 public:
  CollectionJob(Restorer& r, std::size_t target) : r_(r), target_(target) {}
  ~CollectionJob() { abort(); }

  // Connects, drops/creates the load collection, starts the workers. Runs on one thread.
  Status start();
  // Queues a batch; false once the run is cancelled.
  bool push(DocumentBatch& b) { return queue_ && queue_->push(b); }
  // No more data: waits for the workers, builds indexes, swaps. Runs on one thread.
  Status finish();
  // Stops workers, removes a temporary collection (best effort). Idempotent.
  void abort();
  // Any thread: wake every blocked call of this job.
  void cancel();

 private:
  struct InsertOutcome {
    bool complete = false;  // every document was sent and answered (not cancelled)
    std::uint64_t failed = 0;
  };
  void worker(std::size_t conn_index);
  // `count` documents in `docs` (0 = not known): a batch known to fit one insert is sent whole,
  // without walking its documents again.
  Status insert_all(std::size_t conn_index, ByteSpan docs, std::size_t count, InsertOutcome& out);
  // Replaces worker `i`'s connection after a retryable failure; false if cancelled meanwhile.
  io::Expected<bool> reconnect(std::size_t i);
  void join_workers();

  Restorer& r_;
  std::size_t target_;
  std::string load_collection_;  // where data goes (a temporary name with --swap)
  bool temp_created_ = false;
  bool finished_ = false;
  // Resuming a namespace an earlier run began: a batch not journaled may be in already.
  bool resent_ = false;
  std::unique_ptr<io::Connection> control_;
  std::vector<std::unique_ptr<io::Connection>> conns_;
  std::unique_ptr<BoundedQueue<DocumentBatch>> queue_;
  std::vector<std::thread> workers_;
  std::mutex cancel_mu_;
  std::size_t max_docs_ = 100'000;
  std::size_t max_bytes_ = 48 * 1024 * 1024;
};

class Restorer {
 public:
  explicit Restorer(const RestoreOptions& o)
      : o_(o), stop_on_error_(o.stop_on_error || o.maintain_insertion_order), errors_(o.interrupt) {}
  RestoreReport run();

  // ---- shared with jobs ----
  const RestoreOptions& o_;
  std::unique_ptr<RateLimiter> rate_{o_.rate_limit_mbps > 0 ? std::make_unique<RateLimiter>(o_.rate_limit_mbps * 1e6)
                                                            : nullptr};  // --rate-limit
  // --stopOnError, or --maintainInsertionOrder, which implies it (as mongorestore).
  const bool stop_on_error_;
  io::Uri uri_;
  std::string archive_name_;  // "archive PATH" (or "archive on standard input"), for stream errors
  ErrorHolder errors_;
  std::atomic<std::uint64_t> retries_{0};  // insert batches sent again after a retryable error
  Plan plan_;
  std::vector<std::unique_ptr<NsState>> states_;
  Bytes write_concern_;
  io::ServerInfo server_;
  // --resume / journal: what an earlier run did (empty for a fresh run), and the journal written.
  std::unique_ptr<RestoreJournal> journal_;
  JournalState prior_;
  bool resuming_ = false;
  bool already_complete_ = false;
  std::string archive_source_;  // the archive's path, for journal records
  std::optional<Timestamp> oplog_limit_;
  OplogReplayStats oplog_stats_;
  bool oplog_replayed_ = false;
  // Archive input with --oplogReplay: the oplog's documents, spooled to a file while reading.
  struct OplogSpool {
    std::filesystem::path path;
    std::ofstream out;
    std::int64_t size = 0;
    ~OplogSpool() {
      out.close();
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove(path, ec);
    }
  };
  std::unique_ptr<OplogSpool> oplog_spool_;
  std::unique_ptr<UsersRolesRestore> users_roles_;  // pipeline/users_roles.hpp

  bool started_before(const RestoreTarget& t) const { return resuming_ && prior_.started.count(t.ns()) > 0; }
  bool done_before(const RestoreTarget& t) const { return resuming_ && prior_.done.count(t.ns()) > 0; }
  // A batch an earlier run journaled: not sent again.
  bool journaled(const RestoreTarget& t, const DocumentBatch& b) const {
    return resuming_ && prior_.batch_done(t.ns(), b.offset, b.offset + static_cast<std::int64_t>(b.data.size()));
  }

  void log(LogLevel l, const std::string& m) {
    if (!o_.log) return;
    std::lock_guard lock(log_mu_);
    o_.log(l, m);
  }
  io::Expected<std::unique_ptr<io::Connection>> connect() {
    return io::connect_selected(uri_, io::ReadPreferenceMode::kPrimary);
  }
  // Records the first error and wakes every stage.
  void fail(Status s) {
    if (errors_.set_error(std::move(s))) cancel_all();
  }
  // Namespace k cannot be completed (its create, indexes or swap failed; the job recorded why in
  // its error). As mongorestore, which builds indexes only once all data is in, the other
  // namespaces still load: the run ends as a failure. --stopOnError stops everything at once.
  // Failures of the run itself (network, journal, cancellation) always stop it.
  void namespace_failed(std::size_t k, Status s) {
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
  std::string finished_line(std::size_t k) const;
  void cancel_all() {
    std::lock_guard lock(jobs_mu_);
    for (auto* j : live_jobs_) j->cancel();
  }
  void register_job(CollectionJob* j) {
    std::lock_guard lock(jobs_mu_);
    live_jobs_.push_back(j);
    if (errors_.cancelled()) j->cancel();
  }
  void unregister_job(CollectionJob* j) {
    std::lock_guard lock(jobs_mu_);
    std::erase(live_jobs_, j);
  }
  BatchLimits limits() const {
    BatchLimits l;
    l.max_documents = server_.max_write_batch_size;
    if (o_.batch_size > 0) l.max_documents = std::min<std::size_t>(l.max_documents, o_.batch_size);
    l.max_bytes = std::min(o_.batch_bytes, io::insert_payload_limit(server_));
    l.objcheck = o_.objcheck;
    return l;
  }

 private:
  Status check_options();
  Status open_journal();
  Bytes journal_identity() const;
  std::filesystem::path journal_path() const;
  Status replay_oplog_now(io::Connection& conn);
  Status check_require_empty(io::Connection& conn);
  Status run_dry(archive::EventSource* reader);
  // A reader error named with the archive it came from (one line: "archive PATH: what (at offset N)").
  Status in_archive(const Status& s) const {
    if (archive_name_.empty() || s.message().starts_with(archive_name_ + ":")) return s;
    return {s.code(), archive_name_ + ": " + s.message(), s.offset()};
  }
  void run_directory();
  void run_archive(archive::EventSource& reader);
  void run_one_file(std::size_t t);
  void create_views(io::Connection& conn);
  void watchdog_loop();
  RestoreReport report();

  std::mutex log_mu_;
  std::mutex jobs_mu_;
  std::vector<CollectionJob*> live_jobs_;
  std::mutex wd_mu_;
  std::condition_variable wd_cv_;
  bool wd_stop_ = false;
  std::uint64_t total_bytes_ = 0;

 public:
  std::unique_ptr<Progress> progress_;
  std::vector<NsProgress*> ns_progress_;  // per target, when progress_ is set
};

// ---- CollectionJob ------------------------------------------------------------------------------

Status CollectionJob::start() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  auto ctl = r_.connect();
  if (!ctl) return Status{ErrorCode::kNetwork, "connecting for " + t.ns() + ": " + ctl.error().to_string()};
  control_ = std::move(*ctl);
  max_docs_ = control_->server().max_write_batch_size;
  if (o.batch_size > 0) max_docs_ = std::min<std::size_t>(max_docs_, o.batch_size);
  max_bytes_ = io::insert_payload_limit(control_->server());

  auto ns_fail = [&](const std::string& what, const io::Error& e) {
    std::string msg = what + " " + t.ns() + ": " + e.to_string();
    st.set_error(msg);
    return Status{e.is_network() ? ErrorCode::kNetwork : ErrorCode::kServer, msg};
  };

  bool timeseries = t.kind == TargetKind::kTimeseries;
  load_collection_ = t.data_collection;
  Bytes options;
  if (!o.no_options_restore && t.has_metadata) options = prepare_create_options(t.metadata, o.preserve_uuid);
  if (o.swap && !timeseries) {
    load_collection_ = t.collection + ".bsonpipe_swap_" + random_suffix();
    r_.log(LogLevel::kVerbose, "loading " + t.ns() + " into " + t.db + "." + load_collection_ + " (--swap)");
    if (auto e =
            io::create_collection(*control_, t.db, load_collection_, options.empty() ? DocView{} : DocView(options));
        !e)
      return ns_fail("creating temporary collection for", e);
    temp_created_ = true;
  } else {
    if (o.drop && r_.started_before(t)) {
      r_.log(LogLevel::kVerbose,
             "not dropping " + t.ns() + " again: the journal says an earlier run began restoring it");
    } else if (o.drop) {
      r_.log(LogLevel::kVerbose, "dropping collection " + t.ns() + " before restoring");
      if (auto e = io::drop_collection(*control_, t.db, t.collection, true); !e) return ns_fail("dropping", e);
      // A server drops a timeseries collection's buckets with it; one that does not (minimongod)
      // would otherwise keep the old buckets.
      if (timeseries)
        if (auto e = io::drop_collection(*control_, t.db, t.data_collection, true); !e) return ns_fail("dropping", e);
    }
    Builder f;
    f.append_string("name", t.collection);
    Bytes filter = f.finish();
    auto existing = io::list_collections(*control_, t.db, DocView(filter));
    if (!existing) return ns_fail("listing", existing.error());
    if (existing->empty()) {
      if (auto e = io::create_collection(*control_, t.db, t.collection, options.empty() ? DocView{} : DocView(options));
          !e)
        return ns_fail("creating collection", e);
    } else {
      r_.log(LogLevel::kVerbose, "collection " + t.ns() + " exists: restoring into it without changing its options");
    }
  }

  resent_ = r_.started_before(t);
  if (r_.journal_ && !resent_)
    if (auto s = r_.journal_->record_started(t.ns()); !s) return s;

  int n = o.maintain_insertion_order ? 1 : std::max(1, o.insertion_workers);
  // An archive interleaves namespaces in one stream: its single reader blocks on whichever
  // namespace's queue is full while the others' workers wait, so queues there are deeper (each
  // batch is at most one segment, <= 4 MiB).
  std::size_t cap =
      o.queue_batches ? o.queue_batches : static_cast<std::size_t>(o.archive ? std::max(2 * n, 6) : 2 * n);
  queue_ = std::make_unique<BoundedQueue<DocumentBatch>>(cap);
  for (int i = 0; i < n; ++i) {
    auto c = r_.connect();
    if (!c) return Status{ErrorCode::kNetwork, "connecting for " + t.ns() + ": " + c.error().to_string()};
    conns_.push_back(std::move(*c));
  }
  r_.register_job(this);
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    workers_.emplace_back([this, i] {
      try {
        worker(i);
      } catch (const std::exception& e) {
        r_.fail({ErrorCode::kInternal, std::string("insertion worker: ") + e.what()});
      } catch (...) {
        r_.fail({ErrorCode::kInternal, "insertion worker: unknown exception"});
      }
    });
  }
  return {};
}

void CollectionJob::cancel() {
  std::lock_guard lock(cancel_mu_);
  if (queue_) queue_->cancel();
  for (auto& c : conns_) c->cancel();
  if (control_) control_->cancel();
}

void CollectionJob::join_workers() {
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
}

io::Expected<bool> CollectionJob::reconnect(std::size_t i) {
  auto c = r_.connect();
  if (!c) return c.error();
  std::lock_guard lock(cancel_mu_);
  if (r_.errors_.cancelled()) return false;
  conns_[i] = std::move(*c);
  return true;
}

void CollectionJob::worker(std::size_t conn_index) {
  const RestoreTarget& t = r_.plan_.targets[target_];
  const std::string& source = t.data_file.empty() ? r_.archive_source_ : t.data_file.string();
  while (auto b = queue_->pop()) {
    if (r_.errors_.cancelled()) return;
    InsertOutcome out;
    if (auto s = insert_all(conn_index, b->data, b->count, out); !s) {
      r_.fail(s);
      return;
    }
    if (!out.complete) return;
    // Journaled only once every document of the batch is in (acknowledged with the run's write
    // concern): a batch with failed documents is tried again by a resumed run.
    if (r_.journal_ && out.failed == 0)
      if (auto s = r_.journal_->record_batch(t.ns(), source, b->offset,
                                             b->offset + static_cast<std::int64_t>(b->data.size()), b->count);
          !s) {
        r_.fail(s);
        return;
      }
  }
}

Status CollectionJob::insert_all(std::size_t conn_index, ByteSpan docs, std::size_t known_count, InsertOutcome& out) {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  io::InsertOptions io_opts;
  io_opts.ordered = o.maintain_insertion_order;
  io_opts.bypass_document_validation = o.bypass_document_validation;
  if (!r_.write_concern_.empty() && DocView(r_.write_concern_).count() > 0)
    io_opts.write_concern = DocView(r_.write_concern_);
  std::string target_name = t.db + "." + t.data_collection;

  // A batch whose insert failed with a retryable error (network, primary change) is sent again
  // on a new connection; duplicate-key errors on _id in that re-send are documents the failed
  // attempt had already inserted. The budget bounds failures in a row.
  int retries_left = o.retries;
  RetryBackoff backoff(o.retry_backoff_ms);
  bool resending = false;
  bool whole = known_count > 0 && known_count <= max_docs_ && docs.size() <= max_bytes_;
  while (!docs.empty()) {
    if (r_.errors_.cancelled()) return {};
    std::size_t count = known_count;
    Result<ByteSpan> part = docs;
    if (!whole) part = io::next_insert_batch(docs, max_docs_, max_bytes_, &count);
    if (!part) return Status{part.status().code(), target_name + ": " + part.status().to_string()};
    if (!temp_created_) st.written = true;
    if (r_.rate_ && !r_.rate_->acquire(part->size(), &r_.errors_)) return {};  // cancelled meanwhile
    auto res = io::insert(*conns_[conn_index], t.db, load_collection_, *part, io_opts);
    if (!res && res.error().is_retryable() && retries_left > 0 && !r_.errors_.cancelled()) {
      --retries_left;
      r_.retries_.fetch_add(1, std::memory_order_relaxed);
      if (r_.o_.log)
        r_.o_.log(LogLevel::kInfo, "retrying a batch of " + target_name + " after: " + res.error().to_string());
      backoff.wait(r_.errors_);
      auto fresh = reconnect(conn_index);
      if (fresh && !*fresh) return {};  // cancelled
      resending = true;
      continue;  // the same batch again (a failed reconnect counts as a failed attempt)
    }
    if (!res) {
      io::Error e = res.error();
      if (r_.errors_.cancelled()) return {};
      if (e.is_retryable() && o.retries > 0)
        e = io::Error(Status(
            e.kind(), e.to_string() + " (gave up after " + std::to_string(o.retries) + " retries without progress)"));
      st.failed += count;
      out.failed += count;
      st.add_reason(e.to_string());
      if (e.is_network() || e.kind() == ErrorCode::kCancelled || r_.stop_on_error_)
        return Status{e.kind() == ErrorCode::kOk ? ErrorCode::kServer : e.kind(),
                      "inserting into " + target_name + ": " + e.to_string()};
      docs = docs.subspan(part->size());
      whole = false;
      continue;
    }
    const io::WriteResult& w = *res;
    if (w.write_concern_error)
      return Status{ErrorCode::kServer,
                    "inserting into " + target_name + ": write concern error: " + w.write_concern_error->errmsg};
    // As mongorestore (FilterError): duplicate keys and validation failures are counted and
    // tolerated unless --stopOnError; any other write error fails the document and the run.
    WriteErrorTally tally = tally_write_errors(w.write_errors, resent_ || resending);
    for (auto& r : tally.reasons) st.add_reason(r);
    st.duplicates += tally.duplicates;
    st.invalid += tally.invalid;
    st.already += tally.present;
    st.present += tally.present;
    st.failed += tally.others;
    out.failed += tally.others;
    if (!io_opts.ordered || w.write_errors.empty()) {
      st.inserted += count - tally.stopping() - tally.present;
      docs = docs.subspan(part->size());
      whole = false;
    } else {
      // Ordered: the server stopped at the first error; documents after it were not tried.
      std::size_t bad = static_cast<std::size_t>(std::max(0, w.write_errors.front().index));
      st.inserted += bad;
      std::size_t skip = 0;
      for (std::size_t i = 0; i <= bad && skip < part->size(); ++i) skip += formats::load_u32(part->data() + skip);
      docs = docs.subspan(std::min(skip, part->size()));
      whole = false;
    }
    if (r_.progress_) r_.ns_progress_[target_]->documents += count;
    resending = false;
    retries_left = o.retries;
    backoff.reset();
    if (r_.stop_on_error_ && tally.stopping() > 0) {
      const auto& we = w.write_errors.front();
      return Status{ErrorCode::kServer, "inserting into " + target_name + ": " + we.errmsg + " (code " +
                                            std::to_string(we.code) + "), stopping (--stopOnError)"};
    }
  }
  out.complete = true;
  return {};
}

Status CollectionJob::finish() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  if (queue_) queue_->finish();
  join_workers();
  if (r_.errors_.cancelled()) {
    abort();
    return r_.errors_.status();
  }
  if (!o.no_index_restore && t.has_metadata) {
    auto specs = prepare_index_specs(t.metadata.indexes, o.index);
    if (!specs) {
      st.set_error("indexes of " + t.ns() + ": " + specs.status().to_string());
      abort();
      return Status{specs.status().code(), "indexes of " + t.ns() + ": " + specs.status().message()};
    }
    if (!specs->empty()) {
      std::vector<DocView> views;
      for (auto& s : *specs) views.emplace_back(s);
      r_.log(LogLevel::kVerbose, "building " + std::to_string(views.size()) + " index(es) on " + t.ns());
      if (auto e = io::create_indexes(*control_, t.db, load_collection_, views); !e) {
        std::string msg = "creating indexes on " + t.ns() + ": " + e.to_string();
        st.set_error(msg);
        abort();
        return Status{ErrorCode::kServer, msg};
      }
      st.indexes_created = views.size();
    }
  }
  if (temp_created_) {
    if (auto e = io::rename_collection(*control_, t.db + "." + load_collection_, t.ns(), true); !e) {
      std::string msg = "swapping " + t.db + "." + load_collection_ + " over " + t.ns() + ": " + e.to_string();
      st.set_error(msg);
      abort();
      return Status{ErrorCode::kServer, msg};
    }
    temp_created_ = false;
    r_.log(LogLevel::kVerbose, "swapped the restored data in as " + t.ns());
  }
  if (r_.journal_)
    if (auto s = r_.journal_->record_done(t.ns()); !s) {
      abort();
      return s;
    }
  finished_ = true;
  if (r_.progress_) r_.ns_progress_[target_]->done = true;
  {
    std::lock_guard lock(st.mu);
    st.completed = true;
  }
  r_.unregister_job(this);
  return {};
}

void CollectionJob::abort() {
  if (queue_) queue_->cancel();
  join_workers();
  r_.unregister_job(this);
  if (temp_created_) {
    temp_created_ = false;
    const RestoreTarget& t = r_.plan_.targets[target_];
    // The job's connections may be cancelled (broken): clean up over a fresh one.
    auto c = r_.connect();
    if (c) {
      if (auto e = io::drop_collection(**c, t.db, load_collection_, true); !e)
        r_.log(LogLevel::kInfo,
               "could not remove temporary collection " + t.db + "." + load_collection_ + ": " + e.to_string());
      else
        r_.log(LogLevel::kVerbose,
               "removed temporary collection " + t.db + "." + load_collection_ + "; " + t.ns() + " is untouched");
    }
  }
}

// ---- Restorer -------------------------------------------------------------------------------------

Status Restorer::check_options() {
  if (o_.preserve_uuid && !o_.drop)
    return {ErrorCode::kInvalidArgument, "cannot specify --preserveUUID without --drop"};
  if (!o_.oplog_limit.empty()) {
    if (!o_.plan.oplog_replay) return {ErrorCode::kInvalidArgument, "--oplogLimit needs --oplogReplay"};
    auto lim = parse_oplog_limit(o_.oplog_limit);
    if (!lim) return lim.status();
    oplog_limit_ = *lim;
  }
  if (o_.resume && o_.swap)
    return {ErrorCode::kInvalidArgument,
            "--resume cannot continue a --swap restore (its temporary collections are removed on failure)"};
  if ((o_.resume || !o_.journal.empty()) && o_.archive && (o_.archive_path.empty() || o_.archive_path == "-"))
    return {ErrorCode::kInvalidArgument,
            "--resume/--journal need an archive file: an archive read from standard input cannot be resumed"};
  if (auto s = check_restore_users_and_roles(o_); !s) return s;  // pipeline/users_roles.hpp
  if (o_.swap && o_.drop)
    return {ErrorCode::kInvalidArgument, "--swap replaces each collection already: do not combine it with --drop"};
  if (o_.num_parallel_collections < 1)
    return {ErrorCode::kInvalidArgument, "--numParallelCollections must be at least 1"};
  if (o_.insertion_workers < 1)
    return {ErrorCode::kInvalidArgument, "--numInsertionWorkersPerCollection must be at least 1"};
  if (o_.retries < 0) return {ErrorCode::kInvalidArgument, "--retries must be 0 or more"};
  if (o_.batch_size < 0) return {ErrorCode::kInvalidArgument, "--batchSize must not be negative"};
  if (o_.archive && !o_.input.empty())
    return {ErrorCode::kInvalidArgument, "give either --archive or a dump path, not both"};
  auto wc = parse_write_concern(o_.write_concern);
  if (!wc) return wc.status();
  write_concern_ = std::move(*wc);
  return {};
}

std::filesystem::path Restorer::journal_path() const {
  if (!o_.journal.empty()) return o_.journal;
  if (o_.archive) return o_.archive_path + ".journal";
  if (std::filesystem::is_directory(o_.input)) return o_.input / ".bsonpipe-restore-journal";
  std::filesystem::path p = o_.input;
  p += ".journal";
  return p;
}

// Everything that decides which documents go where in which batches: a resumed run must match.
Bytes Restorer::journal_identity() const {
  namespace fs = std::filesystem;
  auto file_key = [](Builder& b, const fs::path& p) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      // Its own mtime changes with the journal inside it: the files below identify the dump.
      b.append_string("path", fs::absolute(p).lexically_normal().string());
      return;
    }
    auto size = fs::file_size(p, ec);
    auto mtime = fs::last_write_time(p, ec);
    b.append_string("path", fs::absolute(p).lexically_normal().string());
    b.append_int64("size", ec ? -1 : static_cast<std::int64_t>(size));
    b.append_int64("mtime", ec ? -1 : static_cast<std::int64_t>(mtime.time_since_epoch().count()));
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
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (!o_.resume && o_.journal.empty() && !exists) return {};  // not asked for: no journal
  // A batch is journaled once the server acknowledged it: unacknowledged writes prove nothing.
  if (!write_concern_.empty()) {
    auto w = DocView(write_concern_).find("w");
    if (w.valid() && w.type() == formats::BsonType::kInt32 && w.as_int32() == 0)
      return {ErrorCode::kInvalidArgument,
              "--resume/--journal need acknowledged writes: not with --writeConcern w:0 (use w:1 or more)"};
  }
  archive_source_ = o_.archive ? fs::absolute(o_.archive_path).string() : std::string();
  Bytes identity = journal_identity();
  if (o_.resume && exists) {
    auto j = RestoreJournal::resume(path, DocView(identity));
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
  if (o_.resume)
    log(LogLevel::kInfo, "no restore journal at " + path.string() + ": starting a new (journaled) restore");
  auto j = RestoreJournal::create(path, DocView(identity));
  if (!j) return j.status();
  journal_ = std::move(*j);
  return {};
}

Status Restorer::replay_oplog_now(io::Connection& conn) {
  auto mapper = NamespaceMapper::create(o_.plan);
  if (!mapper) return mapper.status();
  OplogReplayOptions ro;
  if (oplog_spool_) {
    oplog_spool_->out.flush();
    if (!oplog_spool_->out) return {ErrorCode::kIo, "writing " + oplog_spool_->path.string()};
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

void Restorer::watchdog_loop() {
  std::unique_lock lock(wd_mu_);
  bool cancelled_seen = false;
  while (!wd_stop_) {
    wd_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (wd_stop_) break;
    if (!cancelled_seen && errors_.cancelled()) {
      cancelled_seen = true;
      lock.unlock();
      cancel_all();
      lock.lock();
    }
  }
}

Status Restorer::run_dry(archive::EventSource* reader) {
  BatchLimits lim = limits();
  if (reader) {
    std::map<const archive::CollectionEntry*, std::size_t> by_entry;
    for (std::size_t i = 0; i < plan_.targets.size(); ++i)
      for (auto& e : reader->prelude().collections)
        if (e.db == plan_.targets[i].source_db && e.collection == plan_.targets[i].source_collection) by_entry[&e] = i;
    for (;;) {
      if (errors_.cancelled()) return errors_.status();
      auto ev = reader->next();
      if (!ev) return in_archive(ev.status());
      if (ev->kind == archive::EventKind::kEnd) break;
      if (ev->kind != archive::EventKind::kDocuments) continue;
      auto it = by_entry.find(ev->entry);
      if (it == by_entry.end()) continue;
      if (o_.objcheck)
        if (auto s = check_documents(ev->documents, ev->offset, lim); !s)
          return Status{s.code(), "archive: " + plan_.targets[it->second].source_ns() + ": " + s.message(), s.offset()};
      states_[it->second]->read += ev->document_count;
    }
  } else {
    for (std::size_t i = 0; i < plan_.targets.size(); ++i) {
      auto& t = plan_.targets[i];
      if (t.data_file.empty()) continue;
      auto f = BsonFileReader::open(t.data_file, t.compression, lim);
      if (!f) return f.status();
      DocumentBatch b;
      for (;;) {
        if (errors_.cancelled()) return errors_.status();
        auto r = f->next(b);
        if (!r) return r.status();
        if (*r == ReadResult::kEnd) break;
        states_[i]->read += b.count;
      }
    }
  }
  for (std::size_t i = 0; i < plan_.targets.size(); ++i) {
    auto& t = plan_.targets[i];
    std::string what = t.kind == TargetKind::kView ? "view" : "collection";
    std::string msg = "dry run: would restore " + what + " " + t.source_ns() + " -> " + t.ns();
    if (t.kind != TargetKind::kView) msg += " (" + std::to_string(states_[i]->read.load()) + " documents";
    if (t.kind != TargetKind::kView && !o_.no_index_restore && t.has_metadata) {
      auto specs = prepare_index_specs(t.metadata.indexes, o_.index);
      msg += ", " + std::to_string(specs ? specs->size() : 0) + " index(es)";
    }
    if (t.kind != TargetKind::kView) msg += ")";
    if (o_.drop) msg += ", dropping it first";
    if (o_.swap) msg += ", via a temporary collection swapped in";
    log(LogLevel::kInfo, msg);
    states_[i]->completed = true;
  }
  return {};
}

void Restorer::run_one_file(std::size_t i) {
  const RestoreTarget& t = plan_.targets[i];
  NsState& st = *states_[i];
  log(LogLevel::kVerbose,
      "restoring " + t.ns() + (t.data_file.empty() ? " (metadata only)" : " from " + t.data_file.string()));
  CollectionJob job(*this, i);
  if (auto s = job.start(); !s) {
    job.abort();
    namespace_failed(i, s);
    return;
  }
  if (!t.data_file.empty()) {
    auto f = BsonFileReader::open(t.data_file, t.compression, limits());
    if (!f) {
      job.abort();
      fail(f.status());
      return;
    }
    std::uint64_t last = 0;
    for (;;) {
      if (errors_.cancelled()) break;
      DocumentBatch b;
      auto r = f->next(b);
      if (!r) {
        job.abort();
        fail(r.status());
        return;
      }
      if (*r == ReadResult::kEnd) break;
      st.read += b.count;
      if (journaled(t, b)) {
        st.already += b.count;
        if (progress_) ns_progress_[i]->documents += b.count;
        continue;
      }
      std::uint64_t now = f->compressed_offset();
      st.bytes += now - last;
      if (progress_) ns_progress_[i]->bytes += now - last;
      last = now;
      if (!job.push(b)) break;
    }
  }
  if (auto s = job.finish(); !s) {
    namespace_failed(i, s);
    return;
  }
  log(LogLevel::kInfo, finished_line(i));
}

std::string Restorer::finished_line(std::size_t k) const {
  const NsState& st = *states_[k];
  return finished_restoring_line(plan_.targets[k].ns(), st.inserted.load(),
                                 st.duplicates.load() + st.invalid.load() + st.failed.load());
}

void Restorer::run_directory() {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < plan_.targets.size(); ++i)
    if (plan_.targets[i].kind != TargetKind::kView && !done_before(plan_.targets[i])) order.push_back(i);
  // Largest first, so the long tail is short.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plan_.targets[a].data_file_size > plan_.targets[b].data_file_size;
  });
  std::atomic<std::size_t> next{0};
  auto runner = [&] {
    try {
      for (;;) {
        if (errors_.cancelled()) return;
        std::size_t k = next.fetch_add(1);
        if (k >= order.size()) return;
        run_one_file(order[k]);
      }
    } catch (const std::exception& e) {
      fail({ErrorCode::kInternal, std::string("restore: ") + e.what()});
    } catch (...) {
      fail({ErrorCode::kInternal, "restore: unknown exception"});
    }
  };
  std::vector<std::thread> threads;
  std::size_t m = std::min<std::size_t>(static_cast<std::size_t>(o_.num_parallel_collections), order.size());
  for (std::size_t i = 0; i < m; ++i) threads.emplace_back(runner);
  for (auto& th : threads) th.join();
}

void Restorer::run_archive(archive::EventSource& reader) {
  // Namespaces interleave in an archive: every namespace with an open segment needs its job
  // running, whatever -j says (their count is bounded by the archive's own interleaving).
  std::map<std::string, std::size_t, std::less<>> by_source;
  for (std::size_t i = 0; i < plan_.targets.size(); ++i)
    if (plan_.targets[i].kind != TargetKind::kView && !done_before(plan_.targets[i]))
      by_source[plan_.targets[i].source_ns()] = i;
  std::vector<std::unique_ptr<CollectionJob>> jobs(plan_.targets.size());
  std::vector<bool> ended(plan_.targets.size(), false);

  // Finishers build indexes while the reader carries on with other namespaces.
  BoundedQueue<std::size_t> to_finish(plan_.targets.size() + 1);
  std::vector<std::thread> finishers;
  std::size_t m = static_cast<std::size_t>(std::max(1, o_.num_parallel_collections));
  for (std::size_t i = 0; i < m; ++i)
    finishers.emplace_back([&] {
      try {
        while (auto k = to_finish.pop()) {
          if (auto s = jobs[*k]->finish(); !s) {
            namespace_failed(*k, s);
            continue;
          }
          log(LogLevel::kInfo, finished_line(*k));
        }
      } catch (const std::exception& e) {
        fail({ErrorCode::kInternal, std::string("restore: ") + e.what()});
      } catch (...) {
        fail({ErrorCode::kInternal, "restore: unknown exception"});
      }
    });

  // Null when namespace k could not start (its events are then skipped) or the run stops.
  std::vector<bool> broken(plan_.targets.size(), false);
  auto job_for = [&](std::size_t k) -> CollectionJob* {
    if (broken[k]) return nullptr;
    if (!jobs[k]) {
      jobs[k] = std::make_unique<CollectionJob>(*this, k);
      if (auto s = jobs[k]->start(); !s) {
        jobs[k]->abort();
        broken[k] = true;
        namespace_failed(k, s);
        return nullptr;
      }
    }
    return jobs[k].get();
  };
  auto lookup = [&](const archive::Event& ev) -> std::optional<std::size_t> {
    if (!ev.entry || ev.entry->is_oplog()) return std::nullopt;
    auto it = by_source.find(ev.entry->ns());
    if (it == by_source.end()) return std::nullopt;
    return it->second;
  };

  // Each namespace's newest batch waits for the next one or for its EOF block: the CRC there
  // must check out before the last of its documents reach the server, so a namespace whose
  // documents all sit in one batch is never written from an archive that fails its CRC.
  std::vector<std::optional<DocumentBatch>> held(plan_.targets.size());
  auto hand_on = [&](std::size_t k, CollectionJob* job, DocumentBatch& b) {
    bool ok = true;
    if (held[k]) ok = job->push(*held[k]);
    held[k] = std::move(b);
    return ok;
  };
  auto release = [&](std::size_t k, CollectionJob* job) {
    bool ok = !held[k] || job->push(*held[k]);
    held[k].reset();
    return ok;
  };

  BatchLimits lim = limits();
  try {
    std::int64_t last = reader.offset();
    while (!errors_.cancelled()) {
      auto ev = reader.next();
      if (!ev) {
        fail(in_archive(ev.status()));
        break;
      }
      if (ev->kind == archive::EventKind::kEnd) break;
      if (oplog_spool_ && ev->entry && ev->entry->is_oplog() && ev->kind == archive::EventKind::kDocuments) {
        oplog_spool_->out.write(reinterpret_cast<const char*>(ev->documents.data()),
                                static_cast<std::streamsize>(ev->documents.size()));
        oplog_spool_->size += static_cast<std::int64_t>(ev->documents.size());
        if (!oplog_spool_->out) {
          fail({ErrorCode::kIo, "writing the archive's oplog to " + oplog_spool_->path.string()});
          break;
        }
        continue;
      }
      if (users_roles_) {  // --- users, roles, auth schema: kept for the end (pipeline/users_roles.hpp) ---
        auto took = users_roles_->capture(*ev);
        if (!took) {
          fail(took.status());
          break;
        }
        if (*took) continue;
      }
      auto k = lookup(*ev);
      if (!k) continue;
      if (ev->kind == archive::EventKind::kDocuments) {
        if (o_.objcheck)
          if (auto s = check_documents(ev->documents, ev->offset, lim); !s) {
            fail({s.code(), "archive: " + plan_.targets[*k].source_ns() + ": " + s.message(), s.offset()});
            break;
          }
        CollectionJob* job = job_for(*k);
        if (!job) {
          if (errors_.cancelled()) break;
          continue;
        }
        states_[*k]->bytes += static_cast<std::uint64_t>(reader.offset() - last);
        last = reader.offset();
        // An in-process batch that fits one insert is handed on as it is (bsonpipe copy).
        if (ev->owned != nullptr && !journal_ && ev->document_count > 0 && ev->document_count <= lim.max_documents &&
            ev->documents.size() <= lim.max_bytes) {
          DocumentBatch b;
          b.data = std::move(*ev->owned);
          b.count = ev->document_count;
          b.offset = ev->offset;
          states_[*k]->read += b.count;
          if (!hand_on(*k, job, b)) break;
          continue;
        }
        // Batches of at most the insert limits, cut from the segment's documents alone: the same
        // archive and options always give the same batches (the journal names them by offset).
        formats::ByteSpan rest = ev->documents;
        std::int64_t at = ev->offset;
        bool pushed = true;
        while (!rest.empty() && pushed) {
          std::size_t count = 0;
          auto part = io::next_insert_batch(rest, lim.max_documents, lim.max_bytes, &count);
          if (!part) {
            fail({part.status().code(), "archive: " + plan_.targets[*k].source_ns() + ": " + part.status().message(),
                  at});
            pushed = false;
            break;
          }
          DocumentBatch b;
          b.data.assign(part->begin(), part->end());
          b.count = count;
          b.offset = at;
          at += static_cast<std::int64_t>(part->size());
          rest = rest.subspan(part->size());
          states_[*k]->read += b.count;
          if (journaled(plan_.targets[*k], b)) {
            states_[*k]->already += b.count;
            continue;
          }
          pushed = hand_on(*k, job, b);
        }
        if (!pushed) break;
      } else if (ev->kind == archive::EventKind::kNamespaceEnd) {
        ended[*k] = true;
        if (CollectionJob* job = job_for(*k)) {
          if (!release(*k, job)) break;
          to_finish.push(*k);
        } else if (errors_.cancelled()) {
          break;
        }
      }
    }
    // Selected collections the archive never had data for still get created (and indexed).
    if (!errors_.cancelled())
      for (auto& [ns, k] : by_source)
        if (!ended[k]) {
          if (CollectionJob* job = job_for(k)) {
            if (!release(k, job)) break;
            to_finish.push(k);
          } else if (errors_.cancelled()) {
            break;
          }
        }
  } catch (const std::exception& e) {
    fail({ErrorCode::kInternal, std::string("restore: ") + e.what()});
  }
  if (errors_.cancelled()) {
    to_finish.cancel();
    cancel_all();
  } else {
    to_finish.finish();
  }
  for (auto& th : finishers) th.join();
  for (auto& j : jobs)
    if (j) j->abort();  // no-op for finished jobs
}

void Restorer::create_views(io::Connection& conn) {
  for (std::size_t i = 0; i < plan_.targets.size(); ++i) {
    if (errors_.cancelled()) return;
    auto& t = plan_.targets[i];
    if (t.kind != TargetKind::kView) continue;
    NsState& st = *states_[i];
    if (done_before(t)) continue;
    if (o_.drop || o_.swap) {
      if (auto e = io::drop_collection(conn, t.db, t.collection, true); !e) {
        st.set_error("dropping view " + t.ns() + ": " + e.to_string());
        continue;
      }
    }
    Bytes options = prepare_create_options(t.metadata, false);
    if (auto e = io::create_collection(conn, t.db, t.collection, DocView(options));
        !e && !(resuming_ && e.code() == 48)) {
      st.set_error("creating view " + t.ns() + ": " + e.to_string());
      if (stop_on_error_) fail({ErrorCode::kServer, st.error});
      continue;
    }
    if (journal_)
      if (auto s = journal_->record_done(t.ns()); !s) {
        fail(s);
        return;
      }
    st.completed = true;
    log(LogLevel::kInfo, "created view " + t.ns());
  }
}

RestoreReport Restorer::report() {
  RestoreReport rep;
  rep.status = errors_.status();
  rep.dry_run = o_.dry_run;
  rep.skipped = plan_.skipped;
  rep.already_complete = already_complete_;
  rep.journal = journal_ ? journal_->path().string() : std::string();
  rep.oplog_replayed = oplog_replayed_;
  rep.oplog_applied = oplog_stats_.applied;
  rep.retries = retries_.load();
  rep.oplog_skipped = oplog_stats_.skipped_noop + oplog_stats_.skipped_filtered;
  rep.oplog_after_limit = oplog_stats_.after_limit;
  for (std::size_t i = 0; i < plan_.targets.size() && i < states_.size(); ++i) {
    auto& t = plan_.targets[i];
    auto& s = *states_[i];
    NamespaceReport n;
    n.source_ns = t.source_ns();
    n.target_ns = t.ns();
    n.kind = t.kind;
    n.documents_read = s.read;
    n.inserted = s.inserted;
    n.duplicates = s.duplicates;
    n.rejected = s.invalid;
    n.failed = s.failed;
    n.already_restored = s.already;
    n.found_present = s.present;
    {
      std::lock_guard lock(s.mu);
      n.failure_reasons = s.reasons;
      n.completed = s.completed;
      n.error = s.error;
    }
    // A stopped run names what it leaves half-loaded in the target.
    if (!rep.status.is_ok() && s.written && !n.completed && n.error.empty())
      n.error = "left partial: the run stopped after " + std::to_string(n.inserted) + " of its documents were inserted";
    n.indexes_created = s.indexes_created;
    rep.inserted += n.inserted;
    rep.duplicates += n.duplicates;
    rep.rejected += n.rejected;
    rep.failed += n.failed;
    rep.already_restored += n.already_restored;
    rep.found_present += n.found_present;
    rep.namespaces.push_back(std::move(n));
  }
  // The run went on past failed namespaces: it failed all the same (a single failure is its own
  // message; several are each on their namespace's line, the status names them).
  if (rep.status.is_ok()) rep.status = failed_namespaces_status(rep.namespaces);
  return rep;
}

RestoreReport Restorer::run() {
  auto early = [&](Status s) {
    errors_.set_error(std::move(s));
    return report();
  };
  if (auto s = check_options(); !s) return early(s);
  auto uri = io::parse_uri(o_.uri);
  if (!uri) return early({uri.status().code(), "--uri: " + uri.status().to_string()});
  uri_ = std::move(*uri);
  if (o_.write_concern.empty() && !uri_.write_concern_w.empty()) {
    auto wc = parse_write_concern(uri_.write_concern_w);
    if (wc) write_concern_ = std::move(*wc);
  }

  // Plan from the input.
  std::unique_ptr<ArchiveInput> archive_in;
  std::unique_ptr<archive::Reader> archive_reader;
  archive::EventSource* reader = o_.archive_events;
  if (o_.archive) {
    std::string in_name = "copy stream";
    if (!reader) {
      auto in = ArchiveInput::open(o_.archive_path, o_.gzip);
      if (!in) return early(in.status());
      archive_in = std::move(*in);
      in_name = archive_in->name();
      archive::ReaderOptions ro;
      ro.batch_bytes = std::min<std::size_t>(o_.batch_bytes, 4 * 1024 * 1024);
      archive_reader = std::make_unique<archive::Reader>(archive_in->source(), ro);
      reader = archive_reader.get();
    }
    archive_name_ = in_name;
    auto prelude = reader->read_prelude();
    if (!prelude)
      return early({prelude.status().code(), in_name + ": " + prelude.status().message(), prelude.status().offset()});
    auto p = plan_archive(**prelude, o_.plan);
    if (!p) return early(p.status());
    plan_ = std::move(*p);
  } else {
    if (o_.input.empty())
      return early(
          {ErrorCode::kInvalidArgument, "nothing to restore: give a dump directory, a .bson file or --archive"});
    auto p = plan_directory(o_.input, o_.plan);
    if (!p) return early(p.status());
    plan_ = std::move(*p);
  }
  {  // --- users and roles leave the plan; restored after the collections (pipeline/users_roles.hpp) ---
    auto ur = UsersRolesRestore::prepare(o_, plan_);
    if (!ur) return early(ur.status());
    if (!o_.dry_run) users_roles_ = std::move(*ur);
  }
  if (plan_.has_oplog && !o_.plan.oplog_replay) plan_.skipped.push_back("not replaying the oplog (use --oplogReplay)");
  if (o_.plan.oplog_replay) {
    if (!plan_.has_oplog)
      return early({ErrorCode::kInvalidArgument,
                    "--oplogReplay: the dump has no oplog to replay (oplog.bson; dump with --oplog)"});
    // A truncated or malformed oplog fails here, before anything is written.
    if (!o_.archive)
      if (auto n = check_oplog_file(plan_.oplog_file); !n) return early(n.status());
  }
  for (auto& s : plan_.skipped) log(LogLevel::kInfo, s);
  for (auto& t : plan_.targets) {
    states_.push_back(std::make_unique<NsState>());
    total_bytes_ += t.data_file_size;
  }
  for (auto& t : plan_.targets) {
    if (o_.swap && t.kind == TargetKind::kTimeseries)
      return early({ErrorCode::kInvalidArgument, "--swap does not support timeseries collections (" + t.ns() + ")"});
  }
  {
    // Two sources mapping onto one target would interleave their documents silently.
    std::map<std::string, std::string> seen;
    for (auto& t : plan_.targets) {
      auto [it, fresh] = seen.emplace(t.ns(), t.source_ns());
      if (!fresh)
        return early({ErrorCode::kInvalidArgument,
                      "both " + it->second + " and " + t.source_ns() + " would restore into " + t.ns()});
    }
  }

  auto control = connect();
  if (!control)
    return early({ErrorCode::kNetwork, "connecting to " + uri_.redacted() + ": " + control.error().to_string()});
  server_ = (*control)->server();
  if (!o_.dry_run && !server_.writable())
    return early({ErrorCode::kInvalidArgument,
                  "the server at " + (*control)->host().to_string() + " is not writable (not a primary)"});
  if (!o_.dry_run)
    if (auto s = open_journal(); !s) return early(s);
  if (already_complete_) {
    log(LogLevel::kInfo,
        "the restore journal " + journal_path().string() + " says this restore already completed: nothing to do");
    for (auto& st : states_) st->completed = true;
    return report();
  }
  for (std::size_t i = 0; i < plan_.targets.size(); ++i)
    if (done_before(plan_.targets[i])) {
      states_[i]->completed = true;
      log(LogLevel::kVerbose, plan_.targets[i].ns() + " was restored by an earlier run (journal): skipping it");
    }
  if (o_.require_empty && !resuming_)
    if (auto s = check_require_empty(**control); !s) return early(s);
  if (o_.archive && o_.plan.oplog_replay) {
    oplog_spool_ = std::make_unique<OplogSpool>();
    oplog_spool_->path = std::filesystem::temp_directory_path() / ("bsonpipe-oplog-" + random_suffix() + ".bson");
    oplog_spool_->out.open(oplog_spool_->path, std::ios::binary | std::ios::trunc);
    if (!oplog_spool_->out) return early({ErrorCode::kIo, "cannot create " + oplog_spool_->path.string()});
  }

  if (o_.progress.mode != ProgressMode::kNone && !o_.progress.quiet) {
    progress_ = std::make_unique<Progress>("restored", o_.progress);
    for (auto& t : plan_.targets) ns_progress_.push_back(progress_->add_namespace(t.ns(), 0));
    progress_->start();
  }
  std::thread watchdog([this] { watchdog_loop(); });
  if (o_.dry_run) {
    if (auto s = run_dry(o_.archive ? reader : nullptr); !s) errors_.set_error(s);
  } else if (o_.archive) {
    run_archive(*reader);
  } else {
    run_directory();
  }
  if (!o_.dry_run && !errors_.cancelled()) create_views(**control);
  // --- as mongorestore: users and roles after every collection (pipeline/users_roles.hpp) ---
  if (users_roles_ && !errors_.cancelled())
    if (auto s = users_roles_->restore(**control, o_.drop, write_concern_,
                                       [this](const std::string& m) { log(LogLevel::kInfo, m); });
        !s)
      fail(s);
  // As mongorestore: the oplog goes last, after every collection's data and indexes, and only
  // when all of them made it.
  if (!o_.dry_run && o_.plan.oplog_replay && !errors_.cancelled()) {
    bool all_in = true;
    for (auto& st : states_) all_in = all_in && st->completed && st->failed == 0 && st->error.empty();
    if (all_in) {
      if (auto s = replay_oplog_now(**control); !s) fail(s);
    } else {
      log(LogLevel::kInfo, "not replaying the oplog: some namespaces did not restore completely");
    }
  }
  if (journal_ && !errors_.cancelled()) {
    bool ok = true;
    for (auto& st : states_) ok = ok && st->completed && st->failed == 0 && st->error.empty();
    if (ok)
      if (auto s = journal_->record_complete(); !s) errors_.set_error(s);
  }
  {
    std::lock_guard lock(wd_mu_);
    wd_stop_ = true;
  }
  wd_cv_.notify_all();
  watchdog.join();
  if (progress_) progress_->stop();
  return report();
}

}  // namespace

RestoreReport run_restore(const RestoreOptions& opts) {
  try {
    Restorer r(opts);
    return r.run();
  } catch (const std::exception& e) {
    RestoreReport rep;
    rep.status = {ErrorCode::kInternal, std::string("restore: ") + e.what()};
    return rep;
  }
}

}  // namespace bsonpipe::pipeline
