// run_restore (pipeline/ops/restore.hpp): the order of a run. Its parts: restore_setup.cpp (options,
// journal, oplog), restore_load.cpp (each namespace from its source into its job; a directory's
// files), restore_stream.cpp (a stream split into per-namespace sources), restore_job.cpp (one
// collection's inserts), restore_report.cpp (the dry run's summary, views, the report).
#include "pipeline/ops/restore.hpp"

#include <chrono>
#include <map>

#include "pipeline/ops/restore_outcome.hpp"
#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline {

namespace restore_detail {

namespace archive = formats::archive;

Status Restorer::open_input(std::unique_ptr<NamespaceStream>& archive_in, NamespaceStream*& reader) {
  if (!o_.archive) {
    if (o_.input.empty())
      return {ErrorCode::kInvalidArgument, "nothing to restore: give a dump directory, a .bson file or --archive"};
    auto p = plan_directory(o_.input, o_.plan, storage_);
    if (!p) return p.status();
    plan_ = std::move(*p);
    return {};
  }
  std::string in_name = "copy stream";
  if (!reader) {
    auto in = ArchiveInput::open(o_.archive_path, o_.gzip, storage_);
    if (!in) return in.status();
    in_name = (*in)->name();
    archive::ReaderOptions ro;
    ro.batch_bytes = std::min<std::size_t>(o_.batch_bytes, 4 * 1024 * 1024);
    archive_in = std::make_unique<ArchiveStream>(std::move(*in), ro);
    reader = archive_in.get();
  }
  archive_name_ = in_name;
  auto prelude = reader->read_prelude();
  if (!prelude) {
    // A read error of the input names it already.
    if (prelude.status().message().starts_with(in_name + ":")) return prelude.status();
    return {prelude.status().code(), in_name + ": " + prelude.status().message(), prelude.status().offset()};
  }
  auto p = plan_archive(**prelude, o_.plan);
  if (!p) return p.status();
  plan_ = std::move(*p);
  return {};
}

Status Restorer::check_plan() {
  {  // --- users and roles leave the plan; restored after the collections (pipeline/ops/users_roles.hpp) ---
    auto ur = UsersRolesRestore::prepare(o_, plan_);
    if (!ur) return ur.status();
    if (!o_.dry_run) users_roles_ = std::move(*ur);
  }
  if (plan_.has_oplog && !o_.plan.oplog_replay) plan_.skipped.push_back("not replaying the oplog (use --oplogReplay)");
  if (o_.plan.oplog_replay) {
    if (!plan_.has_oplog)
      return {ErrorCode::kInvalidArgument,
              "--oplogReplay: the dump has no oplog to replay (oplog.bson; dump with --oplog)"};
    // A truncated or malformed oplog fails here, before anything is written.
    if (!o_.archive)
      if (auto n = check_oplog_file(plan_.oplog_file, storage_); !n) return n.status();
  }
  for (auto& s : plan_.skipped) log(LogLevel::kInfo, s);
  for (auto& t : plan_.targets) {
    states_.push_back(std::make_unique<NsState>());
    total_bytes_ += t.data_file_size;
  }
  for (auto& t : plan_.targets) {
    if (o_.swap && t.kind == TargetKind::kTimeseries)
      return {ErrorCode::kInvalidArgument, "--swap does not support timeseries collections (" + t.ns() + ")"};
  }
  // Two sources mapping onto one target would interleave their documents silently.
  std::map<std::string, std::string> seen;
  for (auto& t : plan_.targets) {
    auto [it, fresh] = seen.emplace(t.ns(), t.source_ns());
    if (!fresh)
      return {ErrorCode::kInvalidArgument,
              "both " + it->second + " and " + t.source_ns() + " would restore into " + t.ns()};
  }
  return {};
}

Status Restorer::prepare_targets(io::Connection& control) {
  for (std::size_t i = 0; i < plan_.targets.size(); ++i)
    if (done_before(plan_.targets[i])) {
      states_[i]->completed = true;
      log(LogLevel::kVerbose, plan_.targets[i].ns() + " was restored by an earlier run (journal): skipping it");
    }
  if (o_.require_empty && !resuming_)
    if (auto s = check_require_empty(control); !s) return s;
  if (o_.archive && o_.plan.oplog_replay && !o_.dry_run)
    if (auto s = open_oplog_spool(); !s) return s;
  return {};
}

void Restorer::load(NamespaceStream* reader, io::Connection& control) {
  // One way in, whatever the input: each namespace loads from its own source.
  if (o_.archive)
    run_stream(*reader);
  else
    run_directory();
  if (!errors_.cancelled()) {
    if (o_.dry_run)
      log_dry_run();
    else
      create_views(control);
  }
  // --- as mongorestore: users and roles after every collection (pipeline/ops/users_roles.hpp) ---
  if (users_roles_ && !errors_.cancelled())
    if (auto s = users_roles_->restore(control, o_.drop, write_concern_,
                                       [this](const std::string& m) { log(LogLevel::kInfo, m); });
        !s)
      fail(s);
}

void Restorer::finish_run(io::Connection& control) {
  // As mongorestore: the oplog goes last, after every collection's data and indexes, and only
  // when all of them made it.
  if (!o_.dry_run && o_.plan.oplog_replay && !errors_.cancelled()) {
    bool all_in = true;
    for (auto& st : states_) all_in = all_in && st->completed && st->failed == 0 && st->error.empty();
    if (all_in) {
      if (auto s = replay_oplog_now(control); !s) fail(s);
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
}

RunReport Restorer::run() {
  auto early = [&](Status s) {
    errors_.set_error(std::move(s));
    return report();
  };
  if (auto s = parse_options(); !s) return early(s);
  auto uri = io::parse_uri(o_.uri);
  if (!uri) return early({uri.status().code(), "--uri: " + uri.status().to_string()});
  uri_ = std::move(*uri);
  if (o_.write_concern.empty()) write_concern_ = default_write_concern(uri_);
  std::unique_ptr<NamespaceStream> archive_in;
  NamespaceStream* reader = stream_;
  if (auto s = open_input(archive_in, reader); !s) return early(s);
  if (auto s = check_plan(); !s) return early(s);

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
  if (auto s = prepare_targets(**control); !s) return early(s);

  if (o_.progress.mode != ProgressMode::kNone && !o_.progress.quiet) {
    progress_ = std::make_unique<Progress>("restored", o_.progress);
    for (auto& t : plan_.targets) ns_progress_.push_back(progress_->add_namespace(t.ns(), 0));
    progress_->start();
  }
  // The first error or SIGINT/SIGTERM wakes every job's queue and connections (nothing else
  // wakes them on an interrupt); the hook ends with this scope, before the jobs' registry goes.
  auto wake = exec_.on_cancel([this] { cancel_all(); });
  load(reader, **control);
  finish_run(**control);
  if (progress_) progress_->stop();
  return report();
}

}  // namespace restore_detail

Status RestoreOptions::validate() const {
  auto invalid = [](std::string message) { return Status(ErrorCode::kInvalidArgument, std::move(message)); };
  if (preserve_uuid && !drop) return invalid("cannot specify --preserveUUID without --drop");
  if (!oplog_limit.empty()) {
    if (!plan.oplog_replay) return invalid("--oplogLimit needs --oplogReplay");
    if (auto lim = parse_oplog_limit(oplog_limit); !lim) return lim.status();
  }
  if (resume && swap)
    return invalid("--resume cannot continue a --swap restore (its temporary collections are removed on failure)");
  if ((resume || !journal.empty()) && archive && (archive_path.empty() || archive_path == "-"))
    return invalid("--resume/--journal need an archive file: an archive read from standard input cannot be resumed");
  if (Status s = check_restore_users_and_roles(*this); !s) return s;  // pipeline/ops/users_roles.hpp
  if (swap && drop) return invalid("--swap replaces each collection already: do not combine it with --drop");
  if (num_parallel_collections < 1) return invalid("--numParallelCollections must be at least 1");
  if (insertion_workers < 1) return invalid("--numInsertionWorkersPerCollection must be at least 1");
  if (retries < 0) return invalid("--retries must be 0 or more");
  if (batch_size < 0) return invalid("--batchSize must not be negative");
  if (archive && !input.empty()) return invalid("give either --archive or a dump path, not both");
  if (auto wc = parse_write_concern(write_concern); !wc) return wc.status();
  return {};
}

namespace {

// The options checked, then a Restorer's run in run_restore's shape: the report, or the error
// with the report so far in `partial`. An exception is the run's error.
Result<RestoreReport> validate_and_run(const RestoreOptions& o, NamespaceStream* stream, RestoreReport* partial) {
  restore_detail::RunReport run;
  if (Status s = o.validate(); !s) {
    run.status = std::move(s);
  } else {
    try {
      restore_detail::Restorer r(o, stream);
      run = r.run();
    } catch (const std::exception& e) {
      run.status = {ErrorCode::kInternal, std::string("restore: ") + e.what()};
    }
  }
  Status status = std::move(run.status);
  RestoreReport& report = run;
  if (status.is_ok()) return std::move(report);
  if (partial) *partial = std::move(report);
  return status;
}

}  // namespace

Result<RestoreReport> run_restore(const RestoreOptions& opts, RestoreReport* partial) {
  return validate_and_run(opts, nullptr, partial);
}

Result<RestoreReport> run_restore(const RestoreOptions& opts, NamespaceStream& input, RestoreReport* partial) {
  RestoreOptions o = opts;
  o.archive = true;  // namespaces interleave in `input` as in an archive: they are restored alike
  o.input.clear();
  o.archive_path.clear();  // no archive file: never journaled (--resume/--journal are refused)
  o.gzip = false;
  return validate_and_run(o, &input, partial);
}

}  // namespace bsonpipe::pipeline
