// The dump run: checks the options (DumpOptions::validate), plans, prepares the output (staging
// directory or archive), reads every range on the workers, dumps the oplog, and puts the output
// in place; on failure it removes what it staged so nothing looks like a finished dump.
#include "pipeline/ops/dump.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "pipeline/ops/dump_internal.hpp"

namespace bsonpipe::pipeline {

namespace dump_detail {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int compress_threads(const DumpOptions& o) {
  if (o.compress_threads > 0) return o.compress_threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

Dumper::Dumper(const DumpOptions& o)
    : opts_(o),
      storage_(o.storage ? *o.storage : io::local_storage()),
      exec_(o.interrupt),
      progress_("dump", o.progress),
      pool_(compress_threads(o)) {
  if (o.rate_limit_mbps > 0) rate_ = std::make_unique<RateLimiter>(o.rate_limit_mbps * 1e6);
}

// The planner's one choice of output kind; every later stage goes through sink_.
void Dumper::choose_sink() {
  switch (opts_.target) {
    case DumpTarget::kDirectory: sink_ = make_directory_sink(*this); return;
    case DumpTarget::kArchive: sink_ = make_archive_sink(*this); return;
    case DumpTarget::kStdoutBson: sink_ = make_stdout_bson_sink(); return;
  }
}

// Every stage in order; the first failure ends the run.
Status Dumper::run_stages() {
  if (Status s = connect_all(); !s) return s;
  if (Status s = plan(); !s) return s;
  if (Status s = sink_->start(); !s) return s;
  progress_.start();
  Status s = run_jobs();
  progress_.stop();
  if (!s) return s;
  if (opts_.oplog)
    if (s = dump_oplog(); !s) return s;
  if (s = sink_->finalize(); !s) return s;
  return errors_.status();
}

void Dumper::cleanup_on_failure() {
  sink_->abort();
}

DumpReport Dumper::summarize(double seconds) const {
  DumpReport sum;
  sum.seconds = seconds;
  sum.retries = retries_.load();
  for (auto& c : colls_) {
    sum.namespaces.push_back(
        {c->ns(), c->type, c->documents, c->raw_bytes, c->stored_bytes, static_cast<int>(c->ranges.size())});
    sum.documents += c->documents;
    sum.raw_bytes += c->raw_bytes;
    sum.stored_bytes += c->stored_bytes;
  }
  if (archive_writer_) sum.stored_bytes = archive_writer_->stored_bytes();
  return sum;
}

Result<DumpReport> Dumper::run() {
  double t0 = now_seconds();
  start_ms_ = now_utc_ms();
  choose_sink();
  Status s = run_stages();
  double secs = now_seconds() - t0;
  if (!s) {
    cleanup_on_failure();
    return s;
  }
  progress_.summary(true, secs);
  return summarize(secs);
}

}  // namespace dump_detail

Status DumpOptions::validate() const {
  auto invalid = [](std::string message) { return Status(ErrorCode::kInvalidArgument, std::move(message)); };
  if (parallel_collections < 1) return invalid("--numParallelCollections must be at least 1");
  if (readers < 1) return invalid("--readers must be at least 1");
  if (retries < 0) return invalid("--retries must be 0 or more");
  if (target == DumpTarget::kStdoutBson && (db.empty() || collection.empty()))
    return invalid("--out - (standard output) needs --db and --collection");
  if (oplog && (!db.empty() || target == DumpTarget::kStdoutBson))
    return invalid("--oplog dumps the whole instance: it cannot be used with --db or --out -");
  if (Status s = check_dump_users_and_roles(*this); !s) return s;  // pipeline/ops/users_roles.hpp
  if (!collection.empty() && db.empty()) return invalid("--collection needs --db");
  if (rate_limit_mbps < 0) return invalid("--rate-limit must be a positive MB/s");
  if (document_sink && target != DumpTarget::kArchive) return invalid("a document sink takes an archive dump");
  return {};
}

Result<DumpReport> run_dump(const DumpOptions& opts) {
  if (Status s = opts.validate(); !s) return s;
  dump_detail::Dumper d(opts);
  return d.run();
}

}  // namespace bsonpipe::pipeline
