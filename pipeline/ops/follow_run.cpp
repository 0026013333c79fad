#include "pipeline/ops/follow_run.hpp"

#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "io/commands.hpp"
#include "pipeline/core/error_holder.hpp"
#include "pipeline/ops/follow_apply.hpp"
#include "pipeline/ops/follow_state.hpp"

namespace bsonpipe::pipeline {

using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using formats::Timestamp;

namespace {

constexpr std::int32_t kCappedPositionLost = 136;

bool ts_less(Timestamp a, Timestamp b) {
  return a.t != b.t ? a.t < b.t : a.i < b.i;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Status rolled_over(Timestamp point, std::optional<Timestamp> oldest) {
  return {ErrorCode::kInvalidArgument,
          "follow: the resume point " + format_ts(point) + " is no longer in the source's oplog (oldest entry " +
              (oldest ? format_ts(*oldest) : std::string("none")) + "): the copy must start over"};
}

class Follower {
 public:
  Follower(const FollowOptions& o, FollowReport& rep) : o_(o), rep_(rep) {}

  Status run() {
    if (Status s = connect(); !s) return s;
    Timestamp from;
    if (Status s = start_point(from); !s) return s;
    last_ = from;
    // The first point is recorded before anything is applied: a follow killed before its first
    // batch resumes from here.
    if (o_.start)
      if (Status s = write_follow_state(*target_, o_.from.redacted(), from); !s) return s;
    if (o_.until_now) {
      auto newest = oplog_edge(*probe_, true);
      if (!newest) return newest.status();
      cutover_ = newest->value_or(from);
    } else if (o_.until) {
      cutover_ = *o_.until;
    }
    if (Status s = open_cursor(from); !s) return s;
    return tail();
  }

 private:
  Status connect() {
    auto mapper = NamespaceMapper::create(o_.plan);
    if (!mapper) return mapper.status();
    mapper_ = std::make_unique<NamespaceMapper>(std::move(*mapper));
    for (auto* slot : {&tail_, &probe_}) {
      auto c = io::connect_selected(o_.from, io::ReadPreferenceMode::kPrimary);
      if (!c) return {ErrorCode::kNetwork, "follow: cannot connect to the source: " + c.error().to_string()};
      *slot = std::move(*c);
    }
    auto d = io::connect_selected(o_.to, io::ReadPreferenceMode::kPrimary);
    if (!d) return {ErrorCode::kNetwork, "follow: cannot connect to the target: " + d.error().to_string()};
    target_ = std::move(*d);
    applier_ = std::make_unique<OplogApplier>(*target_);
    return {};
  }

  // The point to tail after: the given start, or the target's recorded state (--resume). Either
  // must still be in the source's oplog, or entries after it are lost.
  Status start_point(Timestamp& from) {
    if (o_.start) {
      from = *o_.start;
    } else {
      auto st = read_follow_state(*target_);
      if (!st) return st.status();
      if (!*st)
        return {ErrorCode::kInvalidArgument,
                "follow: --resume: the target has no recorded follow point "
                "(bsonpipe_follow.state): run the copy with --follow first"};
      from = **st;
      if (o_.log) o_.log("follow: resuming after " + format_ts(from));
    }
    auto oldest = oplog_edge(*probe_, false);
    if (!oldest) return oldest.status();
    if (from.t != 0 && (!*oldest || ts_less(from, **oldest))) return rolled_over(from, *oldest);
    return {};
  }

  // A tailable awaitData cursor on the oplog after `after` (the one before it, exhausted, goes).
  Status open_cursor(Timestamp after) {
    cursor_.reset();
    Bytes filter = Builder().open_document("ts").append_timestamp("$gt", after).close().finish();
    io::FindOptions fo;
    fo.filter = DocView(filter);
    fo.tailable = fo.await_data = true;
    fo.max_await = std::chrono::milliseconds(o_.await_ms);
    auto c = io::find(*tail_, "local", "oplog.rs", fo);
    if (!c) return {ErrorCode::kServer, "follow: source: tailing local.oplog.rs: " + c.error().to_string()};
    cursor_.emplace(std::move(*c));
    return {};
  }

  Status get_more() {
    auto r = cursor_->next_batch();
    if (!r && r.error().code() == kCappedPositionLost) {
      auto oldest = oplog_edge(*probe_, false);
      return rolled_over(last_, oldest ? *oldest : std::nullopt);
    }
    if (!r) return {ErrorCode::kServer, "follow: source: tailing local.oplog.rs: " + r.error().to_string()};
    return {};
  }

  Status tail();
  Status apply_batch(bool& reached);
  Status check_cutover();
  void progress(bool force);

  const FollowOptions& o_;
  FollowReport& rep_;
  std::unique_ptr<NamespaceMapper> mapper_;
  std::unique_ptr<io::Connection> tail_, probe_, target_;
  std::unique_ptr<OplogApplier> applier_;
  std::optional<io::Cursor> cursor_;  // on *tail_ (declared after it: killed before it closes)
  Timestamp last_;                    // the newest entry read and applied (or skipped)
  std::optional<Timestamp> cutover_;
  double last_progress_ = 0;
  double busy_ = 0;  // seconds spent applying batches
};

Status Follower::tail() {
  for (;;) {
    bool reached = false;
    if (Status s = apply_batch(reached); !s) return s;
    bool idle = cursor_->batch().empty();
    if (!reached) {
      if (Status s = check_cutover(); !s) return s;
      // Caught up to a cutover point no entry reaches (the source's newest entry was read).
      reached = cutover_ && (!ts_less(last_, *cutover_) || (idle && o_.until && !o_.until_now && [&] {
                  auto now = std::chrono::system_clock::now().time_since_epoch();
                  return std::chrono::duration_cast<std::chrono::seconds>(now).count() > cutover_->t;
                }()));
    }
    progress(false);
    if (reached) break;
    if (cursor_->exhausted()) {  // a dead tailable cursor (an empty oplog on some servers): open again
      sleep_unless_stopped(o_.interrupt, std::chrono::milliseconds(o_.await_ms));  // a cutover request ends it
      if (Status s = open_cursor(last_); !s) return s;
      continue;
    }
    if (Status s = get_more(); !s) return s;
  }
  rep_.cutover = cutover_ ? (ts_less(last_, *cutover_) ? last_ : *cutover_) : last_;
  progress(true);
  return {};
}

// Applies the current batch's entries up to the cutover point, then records the last one's ts.
Status Follower::apply_batch(bool& reached) {
  std::optional<Timestamp> batch_last;
  struct Busy {  // time spent applying, for the apply rate
    double& total;
    double t0;
    ~Busy() { total += now_seconds() - t0; }
  } busy{busy_, now_seconds()};
  for (auto span : cursor_->batch()) {
    DocView e(span);
    auto tse = e.find("ts");
    if (!tse.valid() || tse.type() != BsonType::kTimestamp)
      return {ErrorCode::kInvalidBson, "follow: oplog entry without ts"};
    Timestamp ts = tse.as_timestamp();
    if (cutover_ && ts_less(*cutover_, ts)) {
      reached = true;
      break;
    }
    EntryDecision d = decide_entry(e, *mapper_);
    if (d.fate == EntryFate::kRefuse) {
      if (Status s = applier_->flush(); !s) return s;
      if (batch_last) (void)write_follow_state(*target_, o_.from.redacted(), *batch_last);
      return {ErrorCode::kInvalidArgument, "follow: cannot apply " + d.why +
                                               ": stopping (the target is in step up to " +
                                               format_ts(batch_last.value_or(last_)) + ")"};
    }
    if (d.fate == EntryFate::kSkip) {
      ++rep_.skipped;
    } else if (Status s = applier_->add(std::move(d)); !s) {
      return s;
    }
    batch_last = ts;
  }
  if (!batch_last) return {};
  if (Status s = applier_->flush(); !s) return s;
  if (Status s = write_follow_state(*target_, o_.from.redacted(), *batch_last); !s) return s;
  last_ = *batch_last;
  rep_.applied = applier_->applied();
  return {};
}

// Fixes the cutover point when asked (signal or file): the source's newest entry now.
Status Follower::check_cutover() {
  if (cutover_) return {};
  bool asked = o_.interrupt.stop_requested();
  if (!asked && !o_.cutover_file.empty()) {
    io::Storage& st = o_.storage != nullptr ? *o_.storage : io::local_storage();
    auto ex = st.exists(o_.cutover_file);
    asked = ex && *ex;
  }
  if (!asked) return {};
  auto newest = oplog_edge(*probe_, true);
  if (!newest) return newest.status();
  cutover_ = newest->value_or(last_);
  if (o_.log) o_.log("follow: cutover requested: applying the source's entries up to " + format_ts(*cutover_));
  return {};
}

void Follower::progress(bool force) {
  if (!o_.log || (o_.progress_seconds <= 0 && !force)) return;
  double now = now_seconds();
  if (!force && now - last_progress_ < o_.progress_seconds) return;
  last_progress_ = now;
  auto newest = oplog_edge(*probe_, true);
  std::int64_t lag = 0, pending = 0;
  if (newest && *newest) {
    lag = static_cast<std::int64_t>((*newest)->t) - static_cast<std::int64_t>(last_.t);
    Builder f;
    f.open_document("ts").append_timestamp("$gt", last_).close();
    Bytes filter = f.finish();
    auto n = io::count(*probe_, "local", "oplog.rs", DocView(filter));
    if (n) pending = *n;
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", busy_ > 0 ? static_cast<double>(rep_.applied) / busy_ : 0.0);
  o_.log(std::string(force ? "follow: done" : "follow") + ": applied " + std::to_string(rep_.applied) + " entries (" +
         rate + " entries/s while applying), lag " + std::to_string(lag) + "s behind the source's newest entry, " +
         std::to_string(pending) + " pending, at " + format_ts(last_));
}

}  // namespace

Status parse_until(std::string_view text, FollowOptions& opts) {
  if (text == "now") {
    opts.until_now = true;
    return {};
  }
  auto bad = Status{ErrorCode::kInvalidArgument,
                    "--until must be now or <seconds>[:ordinal] (e.g. 1700000000:3), not '" + std::string(text) + "'"};
  Timestamp ts;
  auto colon = text.find(':');
  auto num = [](std::string_view s, std::uint32_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  if (!num(text.substr(0, colon), ts.t)) return bad;
  if (colon != std::string_view::npos && !num(text.substr(colon + 1), ts.i)) return bad;
  opts.until = ts;
  return {};
}

Result<FollowReport> run_follow(const FollowOptions& opts) {
  FollowReport rep;
  double t0 = now_seconds();
  Follower f(opts, rep);
  if (Status s = f.run(); !s) return s;
  rep.seconds = now_seconds() - t0;
  return rep;
}

}  // namespace bsonpipe::pipeline
