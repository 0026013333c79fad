// Internals of run_restore (pipeline/ops/restore.hpp), shared by its parts: the per-namespace
// counters, one collection's insertion job and the Restorer that drives a run. Not a public API.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <vector>

#include "io/commands.hpp"
#include "io/storage.hpp"
#include "io/uri.hpp"
#include "pipeline/core/bounded_queue.hpp"
#include "pipeline/core/executor.hpp"
#include "pipeline/core/rate_limiter.hpp"
#include "pipeline/ops/oplog_replay.hpp"
#include "pipeline/ops/restore.hpp"
#include "pipeline/ops/restore_journal.hpp"
#include "pipeline/ops/users_roles.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline::restore_detail {

using formats::Bytes;
using formats::ByteSpan;

inline constexpr std::size_t kMaxReasons = 10;

// A random 12-hex-digit name suffix (--swap temporary collections, spool files).
std::string random_suffix();

// Counters of one namespace, updated by its workers. Thread-safe (atomics, or under mu).
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

// One collection being loaded: its connections, its queue and its insertion workers (a stage of
// the run's Executor with one body per connection).
// Threading: start(), finish() and abort() on one owner thread; push() from the one thread that
// reads the input; cancel() from any thread.
class CollectionJob {
 public:
  CollectionJob(Restorer& r, std::size_t target) : r_(r), target_(target) {}
  ~CollectionJob() { abort(); }

  // Connects, drops/creates the load collection, starts the workers.
  Status start();
  // Queues a batch; false once the run is cancelled.
  bool push(DocumentBatch& b) { return queue_ && queue_->push(b); }
  // Where the workers give inserted batches' buffers back, for the reader to fill again: the
  // run's RestoreOptions::batch_buffers (copy: the dump side takes from it), else the job's own.
  BufferPool& buffers();
  // No more data: waits for the workers, builds indexes, swaps.
  Status finish();
  // Stops workers, removes a temporary collection (best effort). Idempotent.
  void abort();
  // Any thread: wake every blocked call of this job. A job loading a temporary collection
  // (--swap) leaves its insert connections open: an insert the server already received is
  // answered before the workers stop, so the collection is dropped after it and not recreated
  // by it (join_workers() gives those answers a grace period, then breaks the connections).
  void cancel();

 private:
  struct InsertOutcome {
    bool complete = false;  // every document was sent and answered (not cancelled)
    std::uint64_t failed = 0;
  };
  // What one insert call needs besides the documents.
  struct InsertCall {
    io::InsertOptions options;
    std::string target_name;  // db.collection the documents go to, for messages
  };
  Status prepare_collection();  // drops/creates the collection the data goes to
  Status open_connections();
  Status worker(std::size_t conn_index);
  // `count` documents in `docs` (0 = not known): a batch known to fit one insert is sent whole,
  // without walking its documents again.
  Status insert_all(std::size_t conn_index, ByteSpan docs, std::size_t count, InsertOutcome& out);
  InsertCall insert_call() const;
  // Counts one answered insert of `count` documents (`part`); returns how many bytes of the
  // documents it took, or a stopping error.
  Result<std::size_t> account(const InsertCall& call, ByteSpan part, std::size_t count, const io::WriteResult& w,
                              bool resending, InsertOutcome& out);
  // A failed insert: counted; returns a stopping error, or ok to carry on past the documents.
  Status insert_failed(const InsertCall& call, io::Error e, std::size_t count, InsertOutcome& out);
  Status build_indexes();
  Status swap_in();
  // Replaces worker `i`'s connection after a retryable failure; false if cancelled meanwhile.
  io::Expected<bool> reconnect(std::size_t i);
  void join_workers();
  // With drain_on_cancel_, on its own thread while the owner joins the workers: once cancelled,
  // gives in-flight inserts a grace period, then breaks the insert connections.
  void drain_watchdog();

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
  BufferPool buffers_{4};  // see buffers()
  std::unique_ptr<WorkerGroup> workers_;
  std::mutex cancel_mu_;
  // Set before the job is registered (cancel() can reach it), then only read.
  bool drain_on_cancel_ = false;
  std::mutex drain_mu_;
  std::condition_variable drain_cv_;
  bool workers_joined_ = true;  // under drain_mu_
  bool cancelled_ = false;      // under drain_mu_
  std::size_t max_docs_ = 100'000;
  std::size_t max_bytes_ = 48 * 1024 * 1024;
};

// Archive input with --oplogReplay: the oplog's documents, spooled through the storage while
// reading, replayed at the end and removed. One thread (the archive's reader, then the owner).
struct OplogSpool {
  io::Storage* storage = nullptr;
  std::filesystem::path path;
  std::unique_ptr<io::WritableObject> out;  // null once committed
  std::int64_t size = 0;
  bool committed = false;
  ~OplogSpool() {
    if (out) out->abort();
    if (committed) (void)storage->remove(path);
  }
};

// What Restorer::run() ends with: the report and the run's error (ok when it succeeded).
// run_restore hands them back as its Result (the report, or the error and the partial report).
struct RunReport : RestoreReport {
  Status status;
};

// One run of run_restore. Threading: run() on the caller's thread; the members marked "shared
// with jobs" are read (and the atomics and holders updated) by every worker; log(), fail(),
// namespace_failed() and the job registry are thread-safe.
class Restorer {
 public:
  // `stream`: the input instead of a dump or an archive file (bsonpipe copy), with o.archive set.
  explicit Restorer(const RestoreOptions& o, NamespaceStream* stream = nullptr)
      : stream_(stream),
        o_(o),
        storage_(o.storage ? *o.storage : io::local_storage()),
        stop_on_error_(o.stop_on_error || o.maintain_insertion_order),
        exec_(o.interrupt) {}
  RunReport run();

  NamespaceStream* const stream_;  // the input when given (bsonpipe copy), else null

  // ---- shared with jobs ----
  const RestoreOptions& o_;
  io::Storage& storage_;  // every file the run reads or writes
  std::unique_ptr<RateLimiter> rate_{o_.rate_limit_mbps > 0 ? std::make_unique<RateLimiter>(o_.rate_limit_mbps * 1e6)
                                                            : nullptr};  // --rate-limit
  // --stopOnError, or --maintainInsertionOrder, which implies it (as mongorestore).
  const bool stop_on_error_;
  io::Uri uri_;
  std::string archive_name_;  // "archive PATH" (or "archive on standard input"), for stream errors
  Executor exec_;             // runs every stage of the run; first error wins, cancels the run
  ErrorHolder& errors_ = exec_.errors();
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
  std::optional<formats::Timestamp> oplog_limit_;
  OplogReplayStats oplog_stats_;
  bool oplog_replayed_ = false;
  std::unique_ptr<OplogSpool> oplog_spool_;
  std::unique_ptr<UsersRolesRestore> users_roles_;  // pipeline/ops/users_roles.hpp
  std::unique_ptr<Progress> progress_;
  std::vector<NsProgress*> ns_progress_;  // per target, when progress_ is set

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
  void namespace_failed(std::size_t k, Status s);
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
  // A reader error named with the archive it came from (one line: "archive PATH: what (at offset N)").
  Status in_archive(const Status& s) const {
    if (archive_name_.empty() || s.message().starts_with(archive_name_ + ":")) return s;
    return {s.code(), archive_name_ + ": " + s.message(), s.offset()};
  }

 private:
  // restore_setup.cpp
  Status parse_options();  // after RestoreOptions::validate: --oplogLimit, --writeConcern
  Status open_journal();
  Status open_existing_journal(const std::filesystem::path& path, const Bytes& identity);
  Bytes journal_identity() const;
  std::filesystem::path journal_path() const;
  Status open_oplog_spool();
  Status replay_oplog_now(io::Connection& conn);
  Status check_require_empty(io::Connection& conn);
  // restore.cpp
  Status open_input(std::unique_ptr<NamespaceStream>& archive_in, NamespaceStream*& reader);
  Status check_plan();
  Status prepare_targets(io::Connection& control);
  void load(NamespaceStream* reader, io::Connection& control);
  void finish_run(io::Connection& control);
  // restore_report.cpp
  void log_dry_run();
  void create_views(io::Connection& conn);
  RunReport report();
  // restore_load.cpp: each namespace from its source; a dump directory's files, -j at a time
  void run_directory();
  // restore_stream.cpp: a stream split into per-namespace sources
  void run_stream(NamespaceStream& reader);

 public:
  // Namespace i: its job started (none in a dry run, which counts), every batch of `src` handed
  // to it (one an earlier run journaled is only counted), then the job finished: indexes and
  // --swap, holding one of `finish_slots` when given. Its own failure is recorded
  // (namespace_failed), a failed read or the run's is the run's (fail). On one thread per
  // namespace at a time.
  void load_namespace(std::size_t i, NamespaceSource& src, std::counting_semaphore<>* finish_slots);

 private:
  std::mutex log_mu_;
  std::mutex jobs_mu_;
  std::vector<CollectionJob*> live_jobs_;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace bsonpipe::pipeline::restore_detail
