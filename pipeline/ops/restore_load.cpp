// How a restore run (Restorer, pipeline/ops/restore_run.hpp) loads each namespace, whatever its
// input: the namespace's NamespaceSource into its CollectionJob (none in a dry run, which only
// counts). A dump directory gives each namespace a file source of its own, -j namespaces at a
// time; a stream is split into per-namespace sources by its reader (restore_stream.cpp).
#include <algorithm>

#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

void Restorer::load_namespace(std::size_t i, NamespaceSource& src, std::counting_semaphore<>* finish_slots) {
  const RestoreTarget& t = plan_.targets[i];
  NsState& st = *states_[i];
  if (errors_.cancelled()) return src.refuse();
  std::unique_ptr<CollectionJob> job;
  if (!o_.dry_run) {
    job = std::make_unique<CollectionJob>(*this, i);
    if (auto s = job->start(); !s) {
      job->abort();
      src.refuse();
      namespace_failed(i, s);
      return;
    }
    src.reuse_buffers_from(&job->buffers());
  }
  auto stop = [&](Status s) {
    if (job) job->abort();
    src.refuse();
    if (!s.is_ok() && !errors_.cancelled()) fail(std::move(s));
  };
  for (;;) {
    if (errors_.cancelled()) return stop({});
    DocumentBatch b;
    auto r = src.next(b);
    if (!r) return stop(r.status());
    if (*r == ReadResult::kEnd) break;
    st.read += b.count;
    const std::uint64_t bytes = src.take_bytes();
    st.bytes += bytes;
    if (progress_) ns_progress_[i]->bytes += bytes;
    if (journaled(t, b)) {
      st.already += b.count;
      if (progress_) ns_progress_[i]->documents += b.count;
      if (job) job->buffers().give(std::move(b.data));
      continue;
    }
    if (job && !job->push(b)) return stop({});  // the run was cancelled
  }
  if (!job) return;  // a dry run: its summary comes at the end
  Status finished;
  {
    struct Slot {  // one of -j index builds (released however finish() is left)
      std::counting_semaphore<>* slots;
      explicit Slot(std::counting_semaphore<>* s) : slots(s) {
        if (slots) slots->acquire();
      }
      ~Slot() {
        if (slots) slots->release();
      }
    } slot(finish_slots);
    finished = job->finish();
  }
  if (!finished) return namespace_failed(i, finished);
  log(LogLevel::kInfo, finished_line(i));
}

void Restorer::run_directory() {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < plan_.targets.size(); ++i)
    if (plan_.targets[i].kind != TargetKind::kView && !done_before(plan_.targets[i])) order.push_back(i);
  // Largest first, so the long tail is short.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plan_.targets[a].data_file_size > plan_.targets[b].data_file_size;
  });
  // Up to -j loaders, each taking the next collection until none is left; a failure recorded by
  // one (or thrown out of one) cancels every job.
  exec_.for_each(
      order.size(), static_cast<std::size_t>(o_.num_parallel_collections), "restore",
      [&](std::size_t, std::size_t k) -> Status {
        const RestoreTarget& t = plan_.targets[order[k]];
        if (!o_.dry_run)
          log(LogLevel::kVerbose,
              "restoring " + t.ns() + (t.data_file.empty() ? " (metadata only)" : " from " + t.data_file.string()));
        BsonFileSource src(t.data_file, t.compression, limits(), storage_);
        load_namespace(order[k], src, nullptr);
        return {};
      });
}

}  // namespace bsonpipe::pipeline::restore_detail
