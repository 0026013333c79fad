// One collection's insertion job (CollectionJob, pipeline/ops/restore_run.hpp): create or drop the
// collection, insertion workers (a stage on the run's Executor) draining the job's queue, then indexes and the
// --swap rename once its data is in.
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "formats/doc_sequence.hpp"
#include "pipeline/ops/restore_outcome.hpp"
#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

using formats::Builder;
using formats::DocView;

std::string random_suffix() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(hex[(v >> (i * 4)) & 0xF]);
  return s;
}

Status CollectionJob::start() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  const RestoreOptions& o = r_.o_;
  auto ctl = r_.connect();
  if (!ctl) return Status{ErrorCode::kNetwork, "connecting for " + t.ns() + ": " + ctl.error().to_string()};
  control_ = std::move(*ctl);
  max_docs_ = control_->server().max_write_batch_size;
  if (o.batch_size > 0) max_docs_ = std::min<std::size_t>(max_docs_, o.batch_size);
  max_bytes_ = io::insert_payload_limit(control_->server());
  if (auto s = prepare_collection(); !s) return s;

  resent_ = r_.started_before(t);
  if (r_.journal_ && !resent_)
    if (auto s = r_.journal_->record_started(t.ns()); !s) return s;
  if (auto s = open_connections(); !s) return s;
  drain_on_cancel_ = temp_created_;
  r_.register_job(this);
  // A failed worker cancels the run: the executor's hook wakes every job (the others stop too).
  workers_ = r_.exec_.start(conns_.size(), "insertion worker", [this](std::size_t i) { return worker(i); });
  return {};
}

Status CollectionJob::prepare_collection() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  auto ns_fail = [&](const std::string& what, const io::Error& e) {
    std::string msg = what + " " + t.ns() + ": " + e.to_string();
    st.set_error(msg);
    return Status{e.is_network() ? ErrorCode::kNetwork : ErrorCode::kServer, msg};
  };

  bool timeseries = t.kind == TargetKind::kTimeseries;
  load_collection_ = t.data_collection;
  Bytes options;
  if (!o.no_options_restore && t.has_metadata) options = prepare_create_options(t.metadata, o.preserve_uuid);
  DocView create_options = options.empty() ? DocView{} : DocView(options);
  if (o.swap && !timeseries) {
    load_collection_ = t.collection + ".bsonpipe_swap_" + random_suffix();
    r_.log(LogLevel::kVerbose, "loading " + t.ns() + " into " + t.db + "." + load_collection_ + " (--swap)");
    if (auto e = io::create_collection(*control_, t.db, load_collection_, create_options); !e)
      return ns_fail("creating temporary collection for", e);
    temp_created_ = true;
    return {};
  }
  if (o.drop && r_.started_before(t)) {
    r_.log(LogLevel::kVerbose, "not dropping " + t.ns() + " again: the journal says an earlier run began restoring it");
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
    if (auto e = io::create_collection(*control_, t.db, t.collection, create_options); !e)
      return ns_fail("creating collection", e);
  } else {
    r_.log(LogLevel::kVerbose, "collection " + t.ns() + " exists: restoring into it without changing its options");
  }
  return {};
}

Status CollectionJob::open_connections() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  const RestoreOptions& o = r_.o_;
  int n = o.maintain_insertion_order ? 1 : std::max(1, o.insertion_workers);
  // A stream interleaves namespaces: its single reader blocks on whichever namespace's source is
  // full while the others' workers wait, so a stream's namespace keeps more batches in flight
  // (each at most one archive segment, <= 4 MiB): 6 ahead of its workers, of which two wait
  // before this queue (the batch the reader holds back, the one in the namespace's source).
  std::size_t cap =
      o.queue_batches ? o.queue_batches : static_cast<std::size_t>(o.archive ? std::max(2 * n, 4) : 2 * n);
  queue_ = std::make_unique<BoundedQueue<DocumentBatch>>(cap);
  for (int i = 0; i < n; ++i) {
    auto c = r_.connect();
    if (!c) return Status{ErrorCode::kNetwork, "connecting for " + t.ns() + ": " + c.error().to_string()};
    conns_.push_back(std::move(*c));
  }
  return {};
}

void CollectionJob::cancel() {
  std::lock_guard lock(cancel_mu_);
  if (queue_) queue_->cancel();
  if (!drain_on_cancel_)
    for (auto& c : conns_) c->cancel();
  if (control_) control_->cancel();
  std::lock_guard drain(drain_mu_);
  cancelled_ = true;
  drain_cv_.notify_all();
}

void CollectionJob::join_workers() {
  if (!workers_) return;
  // The owner waits inside the group (it may run a body itself: never block outside it). With a
  // temporary collection a watchdog bounds the wait for in-flight inserts after a cancel.
  std::unique_ptr<WorkerGroup> watchdog;
  if (drain_on_cancel_) {
    {
      std::lock_guard lock(drain_mu_);
      workers_joined_ = false;
    }
    watchdog = r_.exec_.start(1, "restore: drain watchdog", [this](std::size_t) {
      drain_watchdog();
      return Status{};
    });
  }
  workers_->wait();
  if (watchdog) {
    {
      std::lock_guard lock(drain_mu_);
      workers_joined_ = true;
    }
    drain_cv_.notify_all();
    watchdog->wait();
  }
  workers_.reset();
}

void CollectionJob::drain_watchdog() {
  std::unique_lock lock(drain_mu_);
  drain_cv_.wait(lock, [&] { return workers_joined_ || cancelled_; });
  // Cancelled: a worker still running waits for an insert's answer (the queue was woken).
  // (A socketTimeoutMS shorter than the grace ends such an insert by itself.)
  constexpr std::chrono::milliseconds grace{30'000};
  if (drain_cv_.wait_for(lock, grace, [&] { return workers_joined_; })) return;
  lock.unlock();
  const RestoreTarget& t = r_.plan_.targets[target_];
  r_.log(LogLevel::kInfo, "an insert into " + t.db + "." + load_collection_ + " was still unanswered after " +
                              std::to_string(grace.count()) +
                              " ms; closing its connection (the server may still apply it)");
  std::lock_guard cl(cancel_mu_);
  for (auto& c : conns_) c->cancel();
}

io::Expected<bool> CollectionJob::reconnect(std::size_t i) {
  auto c = r_.connect();
  if (!c) return c.error();
  std::lock_guard lock(cancel_mu_);
  if (r_.errors_.cancelled()) return false;
  conns_[i] = std::move(*c);
  return true;
}

BufferPool& CollectionJob::buffers() {
  return r_.o_.batch_buffers != nullptr ? *r_.o_.batch_buffers : buffers_;
}

Status CollectionJob::worker(std::size_t conn_index) {
  const RestoreTarget& t = r_.plan_.targets[target_];
  const std::string& source = t.data_file.empty() ? r_.archive_source_ : t.data_file.string();
  while (auto b = queue_->pop()) {
    if (r_.errors_.cancelled()) return {};
    InsertOutcome out;
    if (auto s = insert_all(conn_index, b->data, b->count, out); !s) return s;
    if (!out.complete) return {};
    // Journaled only once every document of the batch is in (acknowledged with the run's write
    // concern): a batch with failed documents is tried again by a resumed run.
    if (r_.journal_ && out.failed == 0)
      if (auto s = r_.journal_->record_batch(t.ns(), source, b->offset,
                                             b->offset + static_cast<std::int64_t>(b->data.size()), b->count);
          !s)
        return s;
    buffers().give(std::move(b->data));
  }
  return {};
}

CollectionJob::InsertCall CollectionJob::insert_call() const {
  const RestoreTarget& t = r_.plan_.targets[target_];
  const RestoreOptions& o = r_.o_;
  InsertCall call;
  call.options.ordered = o.maintain_insertion_order;
  call.options.bypass_document_validation = o.bypass_document_validation;
  if (!r_.write_concern_.empty() && DocView(r_.write_concern_).count() > 0)
    call.options.write_concern = DocView(r_.write_concern_);
  call.target_name = t.db + "." + t.data_collection;
  return call;
}

Status CollectionJob::insert_all(std::size_t conn_index, ByteSpan docs, std::size_t known_count, InsertOutcome& out) {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  const InsertCall call = insert_call();
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
    if (!part) return Status{part.status().code(), call.target_name + ": " + part.status().to_string()};
    if (!temp_created_) st.written = true;
    if (r_.rate_ && !r_.rate_->acquire(part->size(), &r_.errors_)) return {};  // cancelled meanwhile
    auto res = io::insert(*conns_[conn_index], t.db, load_collection_, *part, call.options);
    if (!res && res.error().is_retryable() && retries_left > 0 && !r_.errors_.cancelled()) {
      --retries_left;
      r_.retries_.fetch_add(1, std::memory_order_relaxed);
      r_.log(LogLevel::kInfo, "retrying a batch of " + call.target_name + " after: " + res.error().to_string());
      backoff.wait(r_.errors_);
      auto fresh = reconnect(conn_index);
      if (fresh && !*fresh) return {};  // cancelled
      resending = true;
      continue;  // the same batch again (a failed reconnect counts as a failed attempt)
    }
    std::size_t took = part->size();
    if (!res) {
      if (r_.errors_.cancelled()) return {};
      if (auto s = insert_failed(call, res.error(), count, out); !s) return s;
    } else {
      auto n = account(call, *part, count, *res, resending, out);
      if (!n) return n.status();
      took = *n;
      resending = false;
      retries_left = o.retries;
      backoff.reset();
    }
    docs = docs.subspan(took);
    whole = false;
  }
  out.complete = true;
  return {};
}

Status CollectionJob::insert_failed(const InsertCall& call, io::Error e, std::size_t count, InsertOutcome& out) {
  NsState& st = *r_.states_[target_];
  const RestoreOptions& o = r_.o_;
  if (e.is_retryable() && o.retries > 0)
    e = io::Error(Status(
        e.kind(), e.to_string() + " (gave up after " + std::to_string(o.retries) + " retries without progress)"));
  st.failed += count;
  out.failed += count;
  st.add_reason(e.to_string());
  if (e.is_network() || e.kind() == ErrorCode::kCancelled || r_.stop_on_error_)
    return Status{e.kind() == ErrorCode::kOk ? ErrorCode::kServer : e.kind(),
                  "inserting into " + call.target_name + ": " + e.to_string()};
  return {};
}

Result<std::size_t> CollectionJob::account(const InsertCall& call, ByteSpan part, std::size_t count,
                                           const io::WriteResult& w, bool resending, InsertOutcome& out) {
  NsState& st = *r_.states_[target_];
  if (w.write_concern_error)
    return Status{ErrorCode::kServer,
                  "inserting into " + call.target_name + ": write concern error: " + w.write_concern_error->errmsg};
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
  std::size_t took = part.size();
  if (!call.options.ordered || w.write_errors.empty()) {
    st.inserted += count - tally.stopping() - tally.present;
  } else {
    // Ordered: the server stopped at the first error; documents after it were not tried.
    std::size_t bad = static_cast<std::size_t>(std::max(0, w.write_errors.front().index));
    st.inserted += bad;
    took = 0;  // through the failed document
    std::size_t i = 0;
    for (DocView d : formats::DocSequence(part)) {
      took += d.size();
      if (i++ == bad) break;
    }
  }
  if (r_.progress_) r_.ns_progress_[target_]->documents += count;
  if (r_.stop_on_error_ && tally.stopping() > 0) {
    const auto& we = w.write_errors.front();
    return Status{ErrorCode::kServer, "inserting into " + call.target_name + ": " + we.errmsg + " (code " +
                                          std::to_string(we.code) + "), stopping (--stopOnError)"};
  }
  return took;
}

Status CollectionJob::build_indexes() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  auto specs = prepare_index_specs(t.metadata.indexes, r_.o_.index);
  if (!specs) {
    st.set_error("indexes of " + t.ns() + ": " + specs.status().to_string());
    return Status{specs.status().code(), "indexes of " + t.ns() + ": " + specs.status().message()};
  }
  if (specs->empty()) return {};
  std::vector<DocView> views;
  for (auto& s : *specs) views.emplace_back(s);
  r_.log(LogLevel::kVerbose, "building " + std::to_string(views.size()) + " index(es) on " + t.ns());
  if (auto e = io::create_indexes(*control_, t.db, load_collection_, views); !e) {
    std::string msg = "creating indexes on " + t.ns() + ": " + e.to_string();
    st.set_error(msg);
    return Status{ErrorCode::kServer, msg};
  }
  st.indexes_created = views.size();
  return {};
}

Status CollectionJob::swap_in() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  if (auto e = io::rename_collection(*control_, t.db + "." + load_collection_, t.ns(), true); !e) {
    std::string msg = "swapping " + t.db + "." + load_collection_ + " over " + t.ns() + ": " + e.to_string();
    r_.states_[target_]->set_error(msg);
    return Status{ErrorCode::kServer, msg};
  }
  temp_created_ = false;
  r_.log(LogLevel::kVerbose, "swapped the restored data in as " + t.ns());
  return {};
}

Status CollectionJob::finish() {
  const RestoreTarget& t = r_.plan_.targets[target_];
  NsState& st = *r_.states_[target_];
  if (queue_) queue_->finish();
  join_workers();
  if (r_.errors_.cancelled()) {
    abort();
    return r_.errors_.status();
  }
  auto failed = [&](Status s) {
    abort();
    return s;
  };
  if (!r_.o_.no_index_restore && t.has_metadata)
    if (auto s = build_indexes(); !s) return failed(s);
  if (temp_created_)
    if (auto s = swap_in(); !s) return failed(s);
  if (r_.journal_)
    if (auto s = r_.journal_->record_done(t.ns()); !s) return failed(s);
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

}  // namespace bsonpipe::pipeline::restore_detail
