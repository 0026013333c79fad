#include "pipeline/ops/oplog_replay.hpp"

#include <charconv>
#include <vector>

#include "formats/doc_sequence.hpp"
#include "io/commands.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;
using formats::Timestamp;

Result<Timestamp> parse_oplog_limit(std::string_view text) {
  auto bad = [&] {
    return Status{ErrorCode::kInvalidArgument,
                  "--oplogLimit must be <seconds>[:ordinal] (e.g. 1700000000:3), not '" + std::string(text) + "'"};
  };
  auto parse_u32 = [](std::string_view s, std::uint32_t& v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  Timestamp ts;
  auto colon = text.find(':');
  if (!parse_u32(text.substr(0, colon), ts.t)) return bad();
  if (colon != std::string_view::npos && !parse_u32(text.substr(colon + 1), ts.i)) return bad();
  return ts;
}

namespace {

bool ts_less(Timestamp a, Timestamp b) {
  return a.t != b.t ? a.t < b.t : a.i < b.i;
}

std::string_view str(DocView d, std::string_view key) {
  auto e = d.find(key);
  return e.valid() && e.type() == BsonType::kString ? e.as_string() : std::string_view{};
}

std::pair<std::string, std::string> split_ns(std::string_view ns) {
  auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {std::string(ns), {}};
  return {std::string(ns.substr(0, dot)), std::string(ns.substr(dot + 1))};
}

BatchLimits reader_limits() {
  BatchLimits l;
  l.max_documents = 10'000;
  l.max_bytes = 4 * 1024 * 1024;
  return l;
}

// What happens to one entry.
enum class Fate : std::uint8_t { kApply, kNoop, kFiltered };

class Transformer {
 public:
  explicit Transformer(const OplogReplayOptions& o) : o_(o) {}

  // The entry as sent to applyOps (renamed, without "ui"), or why it is not sent.
  Fate transform(DocView entry, Bytes& out, std::string& why) {
    std::string_view op = str(entry, "op");
    if (op == "n") return Fate::kNoop;
    auto [db, coll] = split_ns(str(entry, "ns"));
    auto o = entry.find("o");
    if (!o.valid() || o.type() != BsonType::kDocument) {
      why = "entry without 'o'";
      return Fate::kFiltered;
    }
    if (op == "i" || op == "u" || op == "d") {
      auto to = map(db, coll);
      if (!to) return Fate::kFiltered;
      out = rebuild(entry, to->first + "." + to->second, o.as_document());
      return Fate::kApply;
    }
    if (op != "c") {
      why = "unknown op '" + std::string(op) + "'";
      return Fate::kFiltered;
    }
    DocView cmd = o.as_document();
    if (cmd.empty()) return Fate::kFiltered;
    ElementView first = *cmd.begin();
    std::string_view name = first.key();
    if (name == "create" || name == "drop" || name == "createIndexes" || name == "collMod" || name == "dropIndexes" ||
        name == "deleteIndexes") {
      if (first.type() != BsonType::kString) return Fate::kFiltered;
      auto to = map(db, first.as_string());
      if (!to) return Fate::kFiltered;
      Builder nc;
      nc.append_string(name, to->second);
      for (auto e : cmd)
        if (e.key() != name) nc.append_raw_element(e.raw());
      Bytes ncb = nc.finish();
      out = rebuild(entry, to->first + ".$cmd", DocView(ncb));
      return Fate::kApply;
    }
    if (name == "renameCollection") {
      auto [fdb, fcoll] = split_ns(first.type() == BsonType::kString ? first.as_string() : "");
      auto [tdb, tcoll] = split_ns(str(cmd, "to"));
      auto from = map(fdb, fcoll);
      auto to = map(tdb, tcoll);
      if (!from || !to) return Fate::kFiltered;
      Builder nc;
      nc.append_string("renameCollection", from->first + "." + from->second);
      nc.append_string("to", to->first + "." + to->second);
      for (auto e : cmd)
        if (e.key() != "renameCollection" && e.key() != "to") nc.append_raw_element(e.raw());
      Bytes ncb = nc.finish();
      out = rebuild(entry, from->first + ".$cmd", DocView(ncb));
      return Fate::kApply;
    }
    if (name == "applyOps" && first.type() == BsonType::kArray) {
      // A transaction: filter and rename its entries one by one.
      Builder nc;
      nc.open_array("applyOps");
      std::size_t kept = 0;
      for (auto e : first.as_document()) {
        if (e.type() != BsonType::kDocument) continue;
        Bytes inner;
        std::string w;
        if (transform(e.as_document(), inner, w) != Fate::kApply) continue;
        nc.append_document(nc.next_array_key(), DocView(inner));
        ++kept;
      }
      nc.close();
      if (kept == 0) return Fate::kFiltered;
      Bytes ncb = nc.finish();
      out = rebuild(entry, "admin.$cmd", DocView(ncb));
      return Fate::kApply;
    }
    // dropDatabase, transaction bookkeeping, index-build markers, ...: mongorestore does not
    // replay them either.
    why = "command '" + std::string(name) + "' is not replayed";
    return Fate::kFiltered;
  }

 private:
  std::optional<std::pair<std::string, std::string>> map(std::string_view db, std::string_view coll) {
    if (db.empty() || coll.empty()) return std::nullopt;
    if (skip_reason(db, coll, o_.plan)) return std::nullopt;
    if (!o_.mapper->selected(db, coll)) return std::nullopt;
    auto to = o_.mapper->target(db, coll);
    if (!to) return std::nullopt;
    return *to;
  }

  Bytes rebuild(DocView entry, const std::string& ns, DocView o) {
    Builder b;
    for (auto e : entry) {
      std::string_view k = e.key();
      if (k == "ns" || k == "o") continue;
      if (k == "ui" && !o_.preserve_uuid) continue;
      // Session and transaction bookkeeping of the source: meaningless on the target.
      if (k == "lsid" || k == "txnNumber" || k == "stmtId" || k == "prevOpTime" || k == "fromMigrate") continue;
      b.append_raw_element(e.raw());
    }
    b.append_string("ns", ns);
    b.append_document("o", o);
    return b.finish();
  }

  const OplogReplayOptions& o_;
};

struct PendingBatch {
  std::vector<Bytes> entries;
  std::size_t bytes = 0;
  std::int64_t begin = -1;
  std::int64_t end = -1;
  std::int64_t first_entry_offset = -1;
  std::uint64_t consumed = 0;
};

}  // namespace

Result<std::uint64_t> check_oplog_file(const fs::path& file, io::Storage& storage) {
  auto r = BsonFileReader::open(file, formats::Compression::kNone, reader_limits(), storage);
  if (!r) return r.status();
  std::uint64_t n = 0;
  DocumentBatch b;
  for (;;) {
    auto res = r->next(b);
    if (!res) return Status{res.status().code(), "oplog: " + res.status().message(), res.status().offset()};
    if (*res == ReadResult::kEnd) break;
    formats::DocSequence entries(b.data);  // whole documents: the reader walked them
    for (DocView d : entries) {
      auto ts = d.find("ts");
      if (!ts.valid() || ts.type() != BsonType::kTimestamp || str(d, "op").empty() || !d.find("ns").valid())
        return Status{ErrorCode::kInvalidBson,
                      "oplog: " + file.string() + ": entry without ts, op or ns (not an oplog entry)",
                      b.offset + static_cast<std::int64_t>(entries.offset_of(d))};
      ++n;
    }
  }
  return n;
}

// Sends the pending batch as one applyOps (or skips it when an earlier run applied it) and
// journals it through opts.applied.
static Status flush_batch(io::Connection& conn, const OplogReplayOptions& opts, const std::string& name,
                          PendingBatch& p, OplogReplayStats& stats) {
  if (p.begin < 0) return {};
  PendingBatch cur = std::move(p);
  p = PendingBatch{};
  if (opts.already_applied && opts.already_applied(cur.begin, cur.end)) {
    stats.skipped_resumed += cur.entries.size();
    return {};
  }
  if (!cur.entries.empty()) {
    Builder cmd;
    cmd.open_array("applyOps");
    for (auto& e : cur.entries) cmd.append_document(cmd.next_array_key(), DocView(e));
    cmd.close();
    if (opts.bypass_document_validation) cmd.append_bool("bypassDocumentValidation", true);
    Bytes body = cmd.finish();
    auto r = io::run_command(conn, "admin", DocView(body));
    bool reapplied = !r && opts.tolerate_reapplied_commands && cur.entries.size() == 1 &&
                     str(DocView(cur.entries.front()), "op") == "c" &&
                     (r.error().code() == 48 || r.error().code() == 26);
    if (!r && !reapplied)
      return Status{ErrorCode::kServer,
                    "replaying the oplog (" + name + "): applyOps of " + std::to_string(cur.entries.size()) + " entr" +
                        (cur.entries.size() == 1 ? "y" : "ies") + " starting at offset " +
                        std::to_string(cur.first_entry_offset) + " failed: " + r.error().to_string(),
                    cur.first_entry_offset};
    if (reapplied) {
      ++stats.skipped_resumed;
    } else {
      stats.applied += cur.entries.size();
    }
  }
  if (opts.applied)
    if (auto s = opts.applied(cur.begin, cur.end, cur.entries.size()); !s) return s;
  return {};
}

Result<OplogReplayStats> replay_oplog(io::Connection& conn, const OplogReplayOptions& opts) {
  std::string name = opts.name.empty() ? opts.file.string() : opts.name;
  OplogReplayStats stats;
  auto reader = BsonFileReader::open(opts.file, formats::Compression::kNone, reader_limits(),
                                     opts.storage ? *opts.storage : io::local_storage());
  if (!reader) return reader.status();
  Transformer tf(opts);
  PendingBatch p;

  auto flush = [&] { return flush_batch(conn, opts, name, p, stats); };

  DocumentBatch b;
  bool stop = false;
  while (!stop) {
    if (opts.cancelled && opts.cancelled()) return Status{ErrorCode::kCancelled, "interrupted"};
    auto res = reader->next(b);
    if (!res) return Status{res.status().code(), "oplog: " + res.status().message(), res.status().offset()};
    if (*res == ReadResult::kEnd) break;
    formats::DocSequence entries(b.data);  // whole documents: the reader walked them
    for (DocView entry : entries) {
      std::int64_t at = b.offset + static_cast<std::int64_t>(entries.offset_of(entry));
      auto ts = entry.find("ts");
      if (!ts.valid() || ts.type() != BsonType::kTimestamp)
        return Status{ErrorCode::kInvalidBson, "oplog: " + name + ": entry without a timestamp", at};
      if (stop || (opts.limit && !ts_less(ts.as_timestamp(), *opts.limit))) {
        stop = true;  // the oplog is in ts order: everything from here is at or after the limit
        ++stats.after_limit;
        continue;
      }
      Bytes out;
      std::string why;
      Fate fate = tf.transform(entry, out, why);
      bool command = fate == Fate::kApply && str(DocView(out), "op") == "c";
      // Commands go alone, so a failure names them and CRUD batches stay simple.
      if (command ||
          (fate == Fate::kApply && (p.entries.size() >= opts.max_ops || p.bytes + out.size() > opts.max_bytes)))
        if (auto s = flush(); !s) return s;
      if (p.begin < 0) p.begin = at;
      p.end = at + static_cast<std::int64_t>(entry.size());
      if (fate == Fate::kNoop) {
        ++stats.skipped_noop;
      } else if (fate == Fate::kFiltered) {
        ++stats.skipped_filtered;
      } else {
        if (p.first_entry_offset < 0) p.first_entry_offset = at;
        p.bytes += out.size();
        p.entries.push_back(std::move(out));
        if (command)
          if (auto s = flush(); !s) return s;
      }
    }
  }
  if (auto s = flush(); !s) return s;
  return stats;
}

}  // namespace bsonpipe::pipeline
