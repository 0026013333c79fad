// `copy --follow`: tails the source's local.oplog.rs (tailable awaitData cursor) from a point and
// applies the entries the copy selects on the target (pipeline/ops/follow_apply.hpp) until cutover:
// the interrupt flag (SIGINT/SIGTERM), --until, or the cutover file appearing. At cutover it fixes
// one point (the source's newest entry then, or --until), applies everything up to it, and stops.
//
// Threading: run_follow() blocks on the calling thread; `interrupt` may be raised from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"
#include "io/uri.hpp"
#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::pipeline {

struct FollowOptions {
  io::Uri from;
  io::Uri to;
  PlanOptions plan;                         // the copy's selection and renames (ns_include/exclude, db, ns_from/to)
  std::optional<formats::Timestamp> start;  // apply entries after this; nullopt = read the state (--resume)
  std::optional<formats::Timestamp> until;  // --until: cut over at this point
  bool until_now = false;                   // --until now: cut over at the source's newest entry when tailing starts
  std::filesystem::path cutover_file;       // --cutover-file: cut over once it exists
  io::Storage* storage = nullptr;           // checks cutover_file; null = io::local_storage()
  std::stop_token interrupt;                // SIGINT/SIGTERM: cut over
  int await_ms = 500;                       // getMore maxTimeMS (how often cutover is checked when idle)
  double progress_seconds = 1.0;            // progress line interval (0 = none)
  std::function<void(const std::string&)> log;  // progress and cutover lines; called from the run's thread
};

struct FollowReport {
  formats::Timestamp cutover;  // the point applied through
  std::uint64_t applied = 0;   // entries applied
  std::uint64_t skipped = 0;   // noops and entries of namespaces not copied
  double seconds = 0;
};

// The report once cut over, or the first error.
[[nodiscard]] Result<FollowReport> run_follow(const FollowOptions& opts);

// Parses --until: "now" or "<seconds>[:ordinal]".
Status parse_until(std::string_view text, FollowOptions& opts);

}  // namespace bsonpipe::pipeline
