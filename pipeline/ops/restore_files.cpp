// Directory input of a restore run (Restorer, pipeline/ops/restore_run.hpp): -j collections at a time
// on a WorkerGroup, each read from its .bson file through the run's storage into its job.
#include <algorithm>
#include <atomic>

#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

Status Restorer::read_file_into(std::size_t i, CollectionJob& job) {
  const RestoreTarget& t = plan_.targets[i];
  NsState& st = *states_[i];
  auto f = BsonFileReader::open(t.data_file, t.compression, limits(), storage_);
  if (!f) return f.status();
  f->reuse_buffers_from(&job.buffers());
  std::uint64_t last = 0;
  for (;;) {
    if (errors_.cancelled()) return {};
    DocumentBatch b;
    auto r = f->next(b);
    if (!r) return r.status();
    if (*r == ReadResult::kEnd) return {};
    st.read += b.count;
    if (journaled(t, b)) {
      st.already += b.count;
      if (progress_) ns_progress_[i]->documents += b.count;
      job.buffers().give(std::move(b.data));
      continue;
    }
    std::uint64_t now = f->compressed_offset();
    st.bytes += now - last;
    if (progress_) ns_progress_[i]->bytes += now - last;
    last = now;
    if (!job.push(b)) return {};
  }
}

void Restorer::run_one_file(std::size_t i) {
  const RestoreTarget& t = plan_.targets[i];
  log(LogLevel::kVerbose,
      "restoring " + t.ns() + (t.data_file.empty() ? " (metadata only)" : " from " + t.data_file.string()));
  CollectionJob job(*this, i);
  if (auto s = job.start(); !s) {
    job.abort();
    namespace_failed(i, s);
    return;
  }
  if (!t.data_file.empty())
    if (auto s = read_file_into(i, job); !s) {
      job.abort();
      fail(s);
      return;
    }
  if (auto s = job.finish(); !s) {
    namespace_failed(i, s);
    return;
  }
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
  std::atomic<std::size_t> next{0};
  std::size_t m = std::min<std::size_t>(static_cast<std::size_t>(o_.num_parallel_collections), order.size());
  if (m == 0) return;
  // Each runner takes the next collection until none is left; a failure recorded by one (or
  // thrown out of one) cancels every job.
  run_concurrently(
      m, errors_, "restore",
      [&](std::size_t) -> Status {
        for (;;) {
          if (errors_.cancelled()) return {};
          std::size_t k = next.fetch_add(1);
          if (k >= order.size()) return {};
          run_one_file(order[k]);
        }
      },
      [this] { cancel_all(); });
}

}  // namespace bsonpipe::pipeline::restore_detail
