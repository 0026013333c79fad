// Stream input of a restore run (Restorer, pipeline/ops/restore_run.hpp): an archive, or bsonpipe
// copy's hand-over, as a NamespaceStream. One reader (the run's thread) demultiplexes its events
// into per-namespace jobs, spools the oplog, and hands each ended namespace to finishers (a
// WorkerGroup) that build its indexes meanwhile.
#include <map>
#include <optional>

#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

namespace {

// One pass over a stream's events. Threading: run() on the reader's thread; the finishers
// only pop to_finish_ and call finish() on jobs the reader has released.
class ArchiveDriver {
 public:
  ArchiveDriver(Restorer& r, NamespaceStream& reader)
      : r_(r),
        reader_(reader),
        n_(r.plan_.targets.size()),
        jobs_(n_),
        ended_(n_, false),
        broken_(n_, false),
        held_(n_),
        to_finish_(n_ + 1),
        lim_(r.limits()) {
    // Namespaces interleave in an archive: every namespace with an open segment needs its job
    // running, whatever -j says (their count is bounded by the archive's own interleaving).
    for (std::size_t i = 0; i < n_; ++i)
      if (r.plan_.targets[i].kind != TargetKind::kView && !r.done_before(r.plan_.targets[i]))
        by_source_[r.plan_.targets[i].source_ns()] = i;
  }

  void run();

 private:
  Status finisher();
  // Null when namespace k could not start (its events are then skipped) or the run stops.
  CollectionJob* job_for(std::size_t k);
  std::optional<std::size_t> lookup(const StreamEvent& ev) const;
  // Each namespace's newest batch waits for the next one or for its EOF block: the CRC there
  // must check out before the last of its documents reach the server, so a namespace whose
  // documents all sit in one batch is never written from an archive that fails its CRC.
  bool hand_on(std::size_t k, CollectionJob* job, DocumentBatch& b);
  bool release(std::size_t k, CollectionJob* job);
  // Each returns false when reading must stop.
  bool read_events();
  bool on_oplog(const StreamEvent& ev);
  bool on_documents(StreamEvent& ev, std::size_t k);
  bool cut_batches(const StreamEvent& ev, std::size_t k, CollectionJob* job);
  // One batch of namespace k: counted, skipped when an earlier run journaled it, else handed on.
  bool take(std::size_t k, CollectionJob* job, DocumentBatch& b);
  bool end_namespace(std::size_t k);

  Restorer& r_;
  NamespaceStream& reader_;
  std::size_t n_;
  std::map<std::string, std::size_t, std::less<>> by_source_;
  std::vector<std::unique_ptr<CollectionJob>> jobs_;
  std::vector<bool> ended_;
  std::vector<bool> broken_;
  std::vector<std::optional<DocumentBatch>> held_;
  BoundedQueue<std::size_t> to_finish_;
  BatchLimits lim_;
  std::int64_t last_ = 0;
};

Status ArchiveDriver::finisher() {
  while (auto k = to_finish_.pop()) {
    if (auto s = jobs_[*k]->finish(); !s) {
      r_.namespace_failed(*k, s);
      continue;
    }
    r_.log(LogLevel::kInfo, r_.finished_line(*k));
  }
  return {};
}

CollectionJob* ArchiveDriver::job_for(std::size_t k) {
  if (broken_[k]) return nullptr;
  if (!jobs_[k]) {
    jobs_[k] = std::make_unique<CollectionJob>(r_, k);
    if (auto s = jobs_[k]->start(); !s) {
      jobs_[k]->abort();
      broken_[k] = true;
      r_.namespace_failed(k, s);
      return nullptr;
    }
  }
  return jobs_[k].get();
}

std::optional<std::size_t> ArchiveDriver::lookup(const StreamEvent& ev) const {
  if (!ev.entry || ev.entry->is_oplog()) return std::nullopt;
  auto it = by_source_.find(ev.entry->ns());
  if (it == by_source_.end()) return std::nullopt;
  return it->second;
}

bool ArchiveDriver::hand_on(std::size_t k, CollectionJob* job, DocumentBatch& b) {
  bool ok = true;
  if (held_[k]) ok = job->push(*held_[k]);
  held_[k] = std::move(b);
  return ok;
}

bool ArchiveDriver::release(std::size_t k, CollectionJob* job) {
  bool ok = !held_[k] || job->push(*held_[k]);
  held_[k].reset();
  return ok;
}

bool ArchiveDriver::on_oplog(const StreamEvent& ev) {
  OplogSpool& spool = *r_.oplog_spool_;
  Status s = spool.out ? spool.out->write(ev.documents) : Status{ErrorCode::kIo, "closed"};
  spool.size += static_cast<std::int64_t>(ev.documents.size());
  if (!s) {
    r_.fail({ErrorCode::kIo, "writing the archive's oplog to " + spool.path.string() + ": " + s.message()});
    return false;
  }
  return true;
}

bool ArchiveDriver::take(std::size_t k, CollectionJob* job, DocumentBatch& b) {
  r_.states_[k]->read += b.count;
  if (r_.journaled(r_.plan_.targets[k], b)) {
    r_.states_[k]->already += b.count;
    return true;
  }
  return hand_on(k, job, b);
}

bool ArchiveDriver::cut_batches(const StreamEvent& ev, std::size_t k, CollectionJob* job) {
  // Batches of at most the insert limits, cut from the segment's documents alone: the same
  // archive and options always give the same batches (the journal names them by offset).
  formats::ByteSpan rest = ev.documents;
  std::int64_t at = ev.offset;
  while (!rest.empty()) {
    std::size_t count = 0;
    auto part = io::next_insert_batch(rest, lim_.max_documents, lim_.max_bytes, &count);
    if (!part) {
      r_.fail(
          {part.status().code(), "archive: " + r_.plan_.targets[k].source_ns() + ": " + part.status().message(), at});
      return false;
    }
    DocumentBatch b;
    b.data.assign(part->begin(), part->end());
    b.count = count;
    b.offset = at;
    at += static_cast<std::int64_t>(part->size());
    rest = rest.subspan(part->size());
    if (!take(k, job, b)) return false;
  }
  return true;
}

bool ArchiveDriver::on_documents(StreamEvent& ev, std::size_t k) {
  if (r_.o_.objcheck)
    if (auto s = check_documents(ev.documents, ev.offset, lim_); !s) {
      r_.fail({s.code(), "archive: " + r_.plan_.targets[k].source_ns() + ": " + s.message(), s.offset()});
      return false;
    }
  CollectionJob* job = job_for(k);
  if (!job) return !r_.errors_.cancelled();
  r_.states_[k]->bytes += static_cast<std::uint64_t>(reader_.offset() - last_);
  last_ = reader_.offset();
  // Documents that fit one insert are handed on as they are: the batch cut_batches would cut.
  if (ev.count > 0 && ev.count <= lim_.max_documents && ev.documents.size() <= lim_.max_bytes) {
    DocumentBatch b;
    b.data = std::move(ev.documents);
    b.count = ev.count;
    b.offset = ev.offset;
    return take(k, job, b);
  }
  return cut_batches(ev, k, job);
}

bool ArchiveDriver::end_namespace(std::size_t k) {
  if (CollectionJob* job = job_for(k)) {
    if (!release(k, job)) return false;
    to_finish_.push(k);
    return true;
  }
  return !r_.errors_.cancelled();
}

bool ArchiveDriver::read_events() {
  last_ = reader_.offset();
  StreamEvent ev;
  while (!r_.errors_.cancelled()) {
    if (Status s = reader_.next(ev); !s) {
      r_.fail(r_.in_archive(s));
      return false;
    }
    if (ev.kind == StreamEventKind::kEnd) return true;
    if (r_.oplog_spool_ && ev.entry && ev.entry->is_oplog() && ev.kind == StreamEventKind::kDocuments) {
      if (!on_oplog(ev)) return false;
      continue;
    }
    if (r_.users_roles_) {  // --- users, roles, auth schema: kept for the end (pipeline/ops/users_roles.hpp) ---
      auto took = r_.users_roles_->capture(ev);
      if (!took) {
        r_.fail(took.status());
        return false;
      }
      if (*took) continue;
    }
    auto k = lookup(ev);
    if (!k) continue;
    if (ev.kind == StreamEventKind::kDocuments) {
      if (!on_documents(ev, *k)) return false;
    } else if (ev.kind == StreamEventKind::kNamespaceEnd) {
      ended_[*k] = true;
      if (!end_namespace(*k)) return false;
    }
  }
  return false;
}

void ArchiveDriver::run() {
  // Finishers build indexes while the reader carries on with other namespaces.
  std::size_t m = static_cast<std::size_t>(std::max(1, r_.o_.num_parallel_collections));
  WorkerGroup finishers(m, r_.errors_, "restore", [this] {
    to_finish_.cancel();
    r_.cancel_all();
  });
  finishers.start([this](std::size_t) { return finisher(); });
  try {
    // Selected collections the archive never had data for still get created (and indexed).
    if (read_events() && !r_.errors_.cancelled())
      for (auto& [ns, k] : by_source_)
        if (!ended_[k] && !end_namespace(k)) break;
  } catch (const std::exception& e) {
    r_.fail({ErrorCode::kInternal, std::string("restore: ") + e.what()});
  }
  if (r_.errors_.cancelled()) {
    to_finish_.cancel();
    r_.cancel_all();
  } else {
    to_finish_.finish();
  }
  finishers.wait();
  for (auto& j : jobs_)
    if (j) j->abort();  // no-op for finished jobs
}

}  // namespace

void Restorer::run_archive(NamespaceStream& reader) {
  ArchiveDriver(*this, reader).run();
}

}  // namespace bsonpipe::pipeline::restore_detail
