// Removing catalog entries: `catalog remove` and GFS-style `catalog prune` (plan_prune is pure;
// prune_catalog lists, plans and removes through io::Storage).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "io/file.hpp"
#include "pipeline/catalog/catalog.hpp"
#include "pipeline/catalog/catalog_internal.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using catalog_detail::storage_or_local;

namespace {

// ISO 8601 week of a UTC day: "2026-W47".
std::string iso_week(std::int64_t ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  weekday wd(day);
  // The Thursday of the same ISO week decides the ISO year.
  sys_days thursday = day + days(4 - static_cast<int>(wd.iso_encoding()));
  year_month_day ymd(thursday);
  sys_days jan1 = sys_days(ymd.year() / January / 1);
  int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d-W%02d", static_cast<int>(ymd.year()), week);
  return buf;
}

// Which retention rules keep the complete entry `e` (taking its day, week and last-N slot).
struct Selector {
  const PrunePolicy& policy;
  const CatalogEntry* newest_complete = nullptr;
  int last_taken = 0;
  std::set<std::string> days, weeks;

  std::vector<std::string> reasons(const CatalogEntry& e) {
    std::vector<std::string> why;
    if (e.state == CatalogState::kWriting) {
      why.push_back("being written");
    } else if (!e.complete()) {
      bool older =
          newest_complete != nullptr && (e.time_ms < newest_complete->time_ms ||
                                         (e.time_ms == newest_complete->time_ms && e.seq < newest_complete->seq));
      if (!older) why.push_back("incomplete but newer than the newest complete dump");
    } else {
      if (&e == newest_complete) why.push_back("newest complete");
      if (last_taken < policy.keep_last) {
        ++last_taken;
        why.push_back("last " + std::to_string(last_taken));
      }
      std::string day = catalog_detail::utc_string(e.time_ms, "%Y-%m-%d");
      if (!days.count(day) && static_cast<int>(days.size()) < policy.keep_daily) {
        days.insert(day);
        why.push_back("daily " + day);
      }
      std::string week = iso_week(e.time_ms);
      if (!weeks.count(week) && static_cast<int>(weeks.size()) < policy.keep_weekly) {
        weeks.insert(week);
        why.push_back("weekly " + week);
      }
    }
    return why;
  }
};

}  // namespace

Status remove_catalog_entry(const fs::path& root, const std::string& id, io::Storage* storage) {
  io::Storage& st = storage_or_local(storage);
  if (!parse_catalog_id(id)) return {ErrorCode::kInvalidArgument, "'" + id + "' is not a catalog id"};
  auto holder = catalog_lock_holder(root, &st);
  if (holder && holder->id == id)
    return {ErrorCode::kInvalidArgument,
            "dump " + id + " is being written right now (catalog locked by " + holder->to_string() + ")"};
  bool found = false;
  for (const fs::path& p : {root / id, root / (id + std::string(io::kPartialSuffix))}) {
    auto there = st.exists(p);
    if (!there) return there.status();
    if (!*there) continue;
    found = true;
    if (Status s = st.remove_all(p); !s) return s;
  }
  if (!found) return {ErrorCode::kInvalidArgument, "catalog " + root.string() + " has no dump with id " + id};
  // A stale marker only says "verified" of an id that is gone: not worth failing for.
  (void)st.remove(catalog_detail::verified_marker(root, id));
  return {};
}

std::vector<PruneDecision> plan_prune(const std::vector<CatalogEntry>& entries, const PrunePolicy& policy) {
  std::vector<PruneDecision> out;
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (entries[a].time_ms != entries[b].time_ms) return entries[a].time_ms > entries[b].time_ms;
    return entries[a].seq > entries[b].seq;
  });
  Selector select{policy};
  for (std::size_t i : order)
    if (entries[i].complete()) {
      select.newest_complete = &entries[i];
      break;
    }
  for (std::size_t i : order) {
    const CatalogEntry& e = entries[i];
    PruneDecision d{e, false, ""};
    std::vector<std::string> why = select.reasons(e);
    if (!why.empty()) {
      d.keep = true;
      for (std::size_t k = 0; k < why.size(); ++k) d.reason += (k ? ", " : "") + why[k];
    } else if (!e.complete()) {
      d.reason = "incomplete, older than the newest complete dump";
    } else {
      d.reason = "not selected by --keep-last/--keep-daily/--keep-weekly";
    }
    out.push_back(std::move(d));
  }
  return out;
}

Status PrunePolicy::validate() const {
  if (keep_last < 0 || keep_daily < 0 || keep_weekly < 0)
    return {ErrorCode::kInvalidArgument, "--keep-* values must be 0 or more"};
  return {};
}

Result<std::vector<PruneDecision>> prune_catalog(const fs::path& root, const PrunePolicy& policy, bool dry_run,
                                                 io::Storage* storage) {
  if (Status s = policy.validate(); !s) return s;
  io::Storage& st = storage_or_local(storage);
  auto entries = list_catalog(root, &st);
  if (!entries) return entries.status();
  auto plan = plan_prune(*entries, policy);
  if (dry_run) return plan;
  for (auto& d : plan) {
    if (d.keep) continue;
    // Checked again right before removing: a dump may have started since the listing.
    if (auto holder = catalog_lock_holder(root, &st); holder && holder->id == d.entry.id) {
      d.keep = true;
      d.reason = "being written";
      continue;
    }
    // The storage's error names the path ("cannot remove ROOT/<id>: ...").
    if (Status s = st.remove_all(d.entry.dir); !s) return s;
    (void)st.remove(catalog_detail::verified_marker(root, d.entry.id));
  }
  return plan;
}

}  // namespace bsonpipe::pipeline
