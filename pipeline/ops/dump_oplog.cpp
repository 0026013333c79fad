// The dump's --oplog: the newest oplog entry when the dump starts, and at the end every entry
// from that one on (the writes made while the collections were read), into the archive or
// through a compressing writer to oplog.bson in the staging directory.
#include "formats/hash.hpp"
#include "io/commands.hpp"
#include "pipeline/ops/dump_internal.hpp"

namespace bsonpipe::pipeline::dump_detail {

using formats::Builder;
using formats::DocView;

namespace {

const char* const kRolledOver =
    "the oplog rolled over during the dump (its entry at the start is gone): the dump would miss "
    "writes; use a larger oplog or a faster dump";

// True when the first batch of the final read starts at the entry seen at the start.
bool starts_at(const io::Cursor& cur, const formats::Timestamp& start) {
  auto checked = cur.batch().empty() ? Result<formats::ElementView>(formats::ElementView())
                                     : formats::find_checked(cur.batch().front(), "ts");
  auto ts = checked ? *checked : formats::ElementView();
  return ts.valid() && ts.type() == formats::BsonType::kTimestamp && ts.as_timestamp() == start;
}

}  // namespace

Status Dumper::oplog_start(io::Connection& conn) {
  auto kind = conn.server().kind;
  if (kind != io::TopologyKind::kReplicaSetPrimary && kind != io::TopologyKind::kReplicaSetSecondary)
    return {ErrorCode::kInvalidArgument, "--oplog needs a replica-set member; " + uri_.redacted() + " is " +
                                             std::string(io::topology_kind_name(kind))};
  io::FindOptions fo;
  Bytes sort = Builder().append_int32("$natural", -1).finish();
  fo.sort = DocView(sort);
  fo.limit = 1;
  auto cur = io::find(conn, "local", "oplog.rs", fo);
  if (!cur) return {ErrorCode::kServer, "cannot read local.oplog.rs: " + cur.error().to_string()};
  if (!cur->batch().empty()) {
    auto checked = formats::find_checked(cur->batch().front(), "ts");
    auto ts = checked ? *checked : formats::ElementView();
    if (!ts.valid() || ts.type() != formats::BsonType::kTimestamp)
      return {ErrorCode::kServer, "local.oplog.rs entry without a timestamp ts"};
    oplog_start_ = ts.as_timestamp();
  }
  return {};
}

// Copies every oplog entry from the one that was newest at the start to the end: the writes
// that happened while the collections were read. If that first entry is gone, the oplog rolled
// over during the dump and the dump cannot be made consistent.
Status Dumper::dump_oplog() {
  auto conn = connect();
  if (!conn) return {ErrorCode::kNetwork, "cannot connect to " + uri_.redacted() + ": " + conn.error().to_string()};
  io::FindOptions fo;
  Bytes filter;
  if (oplog_start_) filter = Builder().open_document("ts").append_timestamp("$gte", *oplog_start_).close().finish();
  if (!filter.empty()) fo.filter = DocView(filter);
  auto cur = io::find(**conn, "local", "oplog.rs", fo);
  if (!cur) return {ErrorCode::kServer, "cannot read local.oplog.rs: " + cur.error().to_string()};

  // Streamed like a collection: to the sink in blocks, or through a compressing writer to the
  // stream the sink opened (oplog.bson).
  StreamOutput out;
  if (Status s = sink_->open_oplog(out); !s) return s;
  std::unique_ptr<OrderedBlockWriter> writer;
  if (out.bytes)
    writer = std::make_unique<OrderedBlockWriter>(
        &pool_, OrderedWriterOptions{opts_.codec, opts_.level, static_cast<std::size_t>(pool_.threads() + 1)},
        out.bytes);
  std::size_t block_docs = 0;  // documents in `block`
  auto emit = [&](Bytes block) -> Status {
    std::size_t count = std::exchange(block_docs, 0);
    if (writer) return writer->add(std::move(block));
    return block.empty() ? Status{} : sink_->write_block("", "oplog", block, count);
  };
  Bytes block;
  std::uint64_t n = 0, raw = 0;
  bool first = true;
  while (true) {
    if (errors_.cancelled()) return errors_.status();
    if (first && oplog_start_ && !starts_at(*cur, *oplog_start_)) return {ErrorCode::kServer, kRolledOver};
    first = false;
    n += cur->batch().size();
    block_docs += cur->batch().size();
    std::size_t before = block.size();
    cur->append_batch_to(block);
    raw += block.size() - before;
    if (block.size() >= opts_.block_bytes)
      if (Status s = emit(std::exchange(block, Bytes())); !s) return s;
    if (cur->exhausted()) break;
    auto more = cur->next_batch();
    if (!more) return {ErrorCode::kServer, "getMore on local.oplog.rs failed: " + more.error().to_string()};
  }
  if (!block.empty() || (writer && opts_.codec != io::Codec::kNone && writer->raw_bytes() == 0))
    if (Status s = emit(std::move(block)); !s) return s;
  if (writer)
    if (Status s = writer->finish(); !s) return s;
  return sink_->finish_oplog(out, n, raw, writer ? writer->stored_bytes() : 0);
}

}  // namespace bsonpipe::pipeline::dump_detail
