#include "pipeline/ops/follow_state.hpp"

#include <chrono>

#include "io/commands.hpp"

namespace bsonpipe::pipeline {

using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::DocView;

namespace {

// The "ts" of the first document of a cursor's first batch (queries of at most one document).
std::optional<formats::Timestamp> first_ts(const io::Cursor& c) {
  if (c.batch().empty()) return std::nullopt;
  auto ts = DocView(c.batch().front()).find("ts");
  if (!ts.valid() || ts.type() != BsonType::kTimestamp) return std::nullopt;
  return ts.as_timestamp();
}

}  // namespace

Status write_follow_state(io::Connection& target, const std::string& source, formats::Timestamp ts) {
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Builder b;
  b.append_string("update", kFollowStateCollection);
  b.open_array("updates").open_document("0");
  b.open_document("q").append_string("_id", "follow").close();
  b.open_document("u").append_string("_id", "follow").append_string("source", source).append_timestamp("ts", ts);
  b.append_datetime("recorded", now_ms).close();
  b.append_bool("upsert", true).close().close();
  b.open_document("writeConcern").append_string("w", "majority").append_bool("j", true).close();
  Bytes cmd = b.finish();
  auto r = io::run_command(target, kFollowStateDb, DocView(cmd));
  if (!r)
    return {ErrorCode::kServer,
            "target: recording the follow point in bsonpipe_follow.state: " + r.error().to_string()};
  return {};
}

Result<std::optional<formats::Timestamp>> read_follow_state(io::Connection& target) {
  Builder f;
  f.append_string("_id", "follow");
  Bytes filter = f.finish();
  io::FindOptions fo;
  fo.filter = DocView(filter);
  auto c = io::find(target, kFollowStateDb, kFollowStateCollection, fo);
  if (!c) return Status{ErrorCode::kServer, "target: reading bsonpipe_follow.state: " + c.error().to_string()};
  return first_ts(*c);
}

Result<std::optional<formats::Timestamp>> oplog_edge(io::Connection& source, bool newest) {
  Builder s;
  s.append_int32("$natural", newest ? -1 : 1);
  Bytes sort = s.finish();
  io::FindOptions fo;
  fo.sort = DocView(sort);
  fo.limit = 1;
  auto c = io::find(source, "local", "oplog.rs", fo);
  if (!c) return Status{ErrorCode::kServer, "source: reading local.oplog.rs: " + c.error().to_string()};
  return first_ts(*c);
}

}  // namespace bsonpipe::pipeline
