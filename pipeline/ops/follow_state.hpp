// The resume point of `copy --follow`: the timestamp of the last source oplog entry applied,
// kept on the target in bsonpipe_follow.state. On the target, not in a local file, because it
// must survive whatever the follower's machine survives no better than the data it describes:
// a follow restarted from another host (or after its disk is lost) finds the point next to the
// data, and a target restored from backup carries the point that matches it.
//
// Threading: plain functions on a caller-owned connection.
#pragma once

#include <optional>
#include <string>

#include "formats/bson.hpp"
#include "formats/status.hpp"
#include "io/connection.hpp"

namespace bsonpipe::pipeline {

inline constexpr const char* kFollowStateDb = "bsonpipe_follow";
inline constexpr const char* kFollowStateCollection = "state";

// Records `ts` (and the source it belongs to) as applied. Written after each applied batch with
// journaled majority write concern: a point is recorded only once every entry up to it is
// applied, so a follow killed at any moment resumes at or before its true position, never past it.
Status write_follow_state(io::Connection& target, const std::string& source, formats::Timestamp ts);

// The recorded point, nullopt when no follow recorded one on this target.
Result<std::optional<formats::Timestamp>> read_follow_state(io::Connection& target);

// The oldest / newest entry's ts of the source's local.oplog.rs (nullopt: empty oplog).
Result<std::optional<formats::Timestamp>> oplog_edge(io::Connection& source, bool newest);

}  // namespace bsonpipe::pipeline
