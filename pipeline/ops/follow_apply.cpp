#include "pipeline/ops/follow_apply.hpp"

#include <optional>
#include <utility>

#include "io/commands.hpp"

namespace bsonpipe::pipeline {

using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;

namespace {

constexpr std::size_t kMaxBatchEntries = 1000;
constexpr std::size_t kMaxBatchBytes = 8u << 20;

std::string_view str(DocView d, std::string_view key) {
  auto e = d.find(key);
  return e.valid() && e.type() == BsonType::kString ? e.as_string() : std::string_view{};
}

std::pair<std::string, std::string> split(std::string_view ns) {
  auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {std::string(ns), {}};
  return {std::string(ns.substr(0, dot)), std::string(ns.substr(dot + 1))};
}

// The target namespace of a selected source namespace; nullopt when the copy leaves it out.
std::optional<std::pair<std::string, std::string>> map_ns(const NamespaceMapper& m, std::string_view db,
                                                          std::string_view coll) {
  if (db.empty() || coll.empty()) return std::nullopt;
  if (db == "local" || db == "config" || db == "admin" || db == "bsonpipe_follow") return std::nullopt;
  PlanOptions none;
  if (skip_reason(db, coll, none) || !m.selected(db, coll)) return std::nullopt;
  auto to = m.target(db, coll);
  if (!to) return std::nullopt;
  return *to;
}

// Does the copy select collections of `db`? A database-wide entry there (dropDatabase, ...) is then
// the copy's business and is refused; elsewhere it is skipped. Probed with a wildcard name and an
// ordinary one: an include naming only exact collections of `db` answers no (the entry is skipped).
bool db_selected(const NamespaceMapper& m, std::string_view db) {
  if (db == "local" || db == "config" || db == "admin" || db == "bsonpipe_follow") return false;
  return m.selected(db, "*") || m.selected(db, "bsonpipe_probe");
}

// The entry with ns and o replaced; source UUID and session bookkeeping dropped (meaningless on
// the target).
Bytes rebuild(DocView entry, const std::string& ns, DocView o) {
  Builder b;
  for (auto e : entry) {
    std::string_view k = e.key();
    if (k == "ns" || k == "o" || k == "ui" || k == "lsid" || k == "txnNumber" || k == "stmtId" || k == "prevOpTime" ||
        k == "fromMigrate")
      continue;
    b.append_raw_element(e.raw());
  }
  b.append_string("ns", ns);
  b.append_document("o", o);
  return b.finish();
}

EntryDecision refuse(DocView entry, std::string_view what) {
  EntryDecision d;
  d.fate = EntryFate::kRefuse;
  auto ts = entry.find("ts");
  d.why = "oplog entry ts " + (ts.valid() && ts.type() == BsonType::kTimestamp ? format_ts(ts.as_timestamp()) : "?") +
          " (op " + std::string(str(entry, "op")) + ", ns " + std::string(str(entry, "ns")) +
          (what.empty() ? "" : ", " + std::string(what)) + ")";
  return d;
}

EntryDecision decide_command(DocView entry, DocView cmd, const NamespaceMapper& mapper, const std::string& db) {
  EntryDecision d;
  if (cmd.empty()) return refuse(entry, "empty command");
  ElementView first = *cmd.begin();
  std::string_view name = first.key();
  if (name == "create" || name == "drop" || name == "createIndexes" || name == "collMod" || name == "dropIndexes" ||
      name == "deleteIndexes") {
    if (first.type() != BsonType::kString) return refuse(entry, "command " + std::string(name));
    auto to = map_ns(mapper, db, first.as_string());
    if (!to) return d;
    Builder nc;
    nc.append_string(name, to->second);
    for (auto e : cmd)
      if (e.key() != name) nc.append_raw_element(e.raw());
    Bytes ncb = nc.finish();
    d.entry = rebuild(entry, to->first + ".$cmd", DocView(ncb));
  } else if (name == "renameCollection") {
    auto [fdb, fcoll] = split(first.type() == BsonType::kString ? first.as_string() : "");
    auto [tdb, tcoll] = split(str(cmd, "to"));
    auto from = map_ns(mapper, fdb, fcoll);
    auto to = map_ns(mapper, tdb, tcoll);
    if (!from && !to) return d;
    // Half in the selection: the target would gain or lose a collection the copy does not mirror.
    if (!from || !to) return refuse(entry, "renameCollection across the copy's selection");
    Builder nc;
    nc.append_string("renameCollection", from->first + "." + from->second);
    nc.append_string("to", to->first + "." + to->second);
    // dropTarget: re-applied after a resume (the entries since the recorded point run again), the
    // rename meets the target it made before; replacing it, then re-applying the entries after
    // the rename, converges to the source where "target exists" would leave the source behind.
    nc.append_bool("dropTarget", true);
    for (auto e : cmd)
      if (e.key() != "renameCollection" && e.key() != "to" && e.key() != "dropTarget") nc.append_raw_element(e.raw());
    Bytes ncb = nc.finish();
    d.entry = rebuild(entry, from->first + ".$cmd", DocView(ncb));
  } else {
    if (!db_selected(mapper, db)) return d;
    return refuse(entry, "command " + std::string(name));
  }
  d.fate = EntryFate::kApply;
  d.command = true;
  return d;
}

bool already_so(const io::Error& e) {
  // NamespaceExists, NamespaceNotFound, IndexNotFound: the command was applied before (a resumed
  // follow re-reads the entries after its last recorded point).
  return e.code() == 48 || e.code() == 26 || e.code() == 27;
}

}  // namespace

std::string format_ts(formats::Timestamp ts) {
  return std::to_string(ts.t) + ":" + std::to_string(ts.i);
}

EntryDecision decide_entry(DocView entry, const NamespaceMapper& mapper) {
  EntryDecision d;
  std::string_view op = str(entry, "op");
  if (op == "n") return d;
  auto [db, coll] = split(str(entry, "ns"));
  auto o = entry.find("o");
  if (!o.valid() || o.type() != BsonType::kDocument) return refuse(entry, "no 'o'");
  if (op == "c") return decide_command(entry, o.as_document(), mapper, db);
  if (op != "i" && op != "u" && op != "d") {
    if (!db_selected(mapper, db)) return d;
    return refuse(entry, "unknown op");
  }
  auto to = map_ns(mapper, db, coll);
  if (!to) return d;
  d.entry = rebuild(entry, to->first + "." + to->second, o.as_document());
  d.fate = EntryFate::kApply;
  return d;
}

Status OplogApplier::add(EntryDecision&& d) {
  if (d.command) {
    if (Status s = flush(); !s) return s;
    return apply_command(d.entry);
  }
  crud_bytes_ += d.entry.size();
  crud_.push_back(std::move(d.entry));
  if (crud_.size() >= kMaxBatchEntries || crud_bytes_ >= kMaxBatchBytes) return flush();
  return {};
}

Status OplogApplier::flush() {
  if (crud_.empty()) return {};
  return apply_crud();
}

Status OplogApplier::apply_crud() {
  Builder cmd;
  cmd.open_array("applyOps");
  for (auto& e : crud_) cmd.append_document(cmd.next_array_key(), DocView(e));
  cmd.close();
  Bytes body = cmd.finish();
  auto r = io::run_command(conn_, "admin", DocView(body));
  if (!r)
    return {ErrorCode::kServer, "target: applying " + std::to_string(crud_.size()) + " oplog entr" +
                                    (crud_.size() == 1 ? "y" : "ies") + ": " + r.error().to_string()};
  applied_ += crud_.size();
  crud_.clear();
  crud_bytes_ = 0;
  return {};
}

Status OplogApplier::apply_command(const Bytes& entry) {
  Builder cmd;
  cmd.open_array("applyOps").append_document("0", DocView(entry)).close();
  Bytes body = cmd.finish();
  auto r = io::run_command(conn_, "admin", DocView(body));
  if (!r && !already_so(r.error()))
    return {ErrorCode::kServer,
            "target: applying oplog entry " + std::string(str(DocView(entry), "ns")) + ": " + r.error().to_string()};
  ++applied_;
  return {};
}

}  // namespace bsonpipe::pipeline
