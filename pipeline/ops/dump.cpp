// The dump run: checks the options, plans, prepares the output (staging directory or archive),
// reads every range on the workers, dumps the oplog, and puts the output in place; on failure it
// removes what it staged so nothing looks like a finished dump.
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
      errors_(o.interrupt),
      progress_("dump", o.progress),
      pool_(compress_threads(o)) {
  if (o.rate_limit_mbps > 0) rate_ = std::make_unique<RateLimiter>(o.rate_limit_mbps * 1e6);
}

Status Dumper::check_options() const {
  if (opts_.target == DumpTarget::kStdoutBson && (opts_.db.empty() || opts_.collection.empty()))
    return Status(ErrorCode::kInvalidArgument, "--out - (standard output) needs --db and --collection");
  if (opts_.oplog && (!opts_.db.empty() || opts_.target == DumpTarget::kStdoutBson))
    return Status(ErrorCode::kInvalidArgument,
                  "--oplog dumps the whole instance: it cannot be used with --db or --out -");
  if (Status s = check_dump_users_and_roles(opts_); !s) return s;  // pipeline/ops/users_roles.hpp
  if (!opts_.collection.empty() && opts_.db.empty())
    return Status(ErrorCode::kInvalidArgument, "--collection needs --db");
  if (opts_.rate_limit_mbps < 0) return Status(ErrorCode::kInvalidArgument, "--rate-limit must be a positive MB/s");
  if (opts_.document_sink && opts_.target != DumpTarget::kArchive)
    return Status(ErrorCode::kInvalidArgument, "a document sink takes an archive dump");
  return {};
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

DumpSummary Dumper::summarize(double seconds) const {
  DumpSummary sum;
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

Result<DumpSummary> Dumper::run() {
  double t0 = now_seconds();
  start_ms_ = now_utc_ms();
  if (Status s = check_options(); !s) return s;
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

Result<DumpSummary> run_dump(const DumpOptions& opts) {
  dump_detail::Dumper d(opts);
  return d.run();
}

}  // namespace bsonpipe::pipeline
