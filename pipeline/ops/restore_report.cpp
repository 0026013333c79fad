// The end of a restore run (Restorer, pipeline/ops/restore_run.hpp): --dryRun's summary, views,
// the per-namespace result lines and the report.
#include <map>
#include <string_view>
#include <utility>

#include "pipeline/ops/restore_outcome.hpp"
#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

using formats::DocView;

void Restorer::log_dry_run() {
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
}

std::string Restorer::finished_line(std::size_t k) const {
  const NsState& st = *states_[k];
  return finished_restoring_line(plan_.targets[k].ns(), st.inserted.load(),
                                 st.duplicates.load() + st.invalid.load() + st.failed.load());
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

RunReport Restorer::report() {
  RunReport rep;
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

}  // namespace bsonpipe::pipeline::restore_detail
