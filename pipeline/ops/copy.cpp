#include "pipeline/ops/copy.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>

#include "io/commands.hpp"
#include "io/uri.hpp"
#include "pipeline/core/executor.hpp"
#include "pipeline/sources/copy_channel.hpp"

namespace bsonpipe::pipeline {

using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

// ---- CopyReport -----------------------------------------------------------------------------------

bool CopyReport::ok() const {
  if (!restore.ok()) return false;
  return std::all_of(verify.begin(), verify.end(), [](const VerifyResult& v) { return v.matches(); });
}

std::vector<std::string> CopyReport::mismatches() const {
  std::vector<std::string> out;
  for (auto& v : verify)
    if (!v.matches()) out.push_back(v.source_ns == v.target_ns ? v.target_ns : v.source_ns + " -> " + v.target_ns);
  return out;
}

Status CopyOptions::validate() const {
  // First what the command line can get wrong, in the order it checked them.
  if (!dump.collection.empty() && dump.db.empty()) return {ErrorCode::kInvalidArgument, "--collection needs --db"};
  if (dump.parallel_collections < 1)
    return {ErrorCode::kInvalidArgument, "--numParallelCollections must be at least 1"};
  if (dump.readers < 1) return {ErrorCode::kInvalidArgument, "--readers must be at least 1"};
  // Then the restore's and the dump's options that copy sets itself or has no use for.
  const RestoreOptions& r = restore;
  if (r.resume || !r.journal.empty())
    return {ErrorCode::kInvalidArgument, "copy cannot be resumed (--resume/--journal are for restore)"};
  if (r.dry_run) return {ErrorCode::kInvalidArgument, "copy has no --dryRun"};
  if (r.plan.oplog_replay && !dump.oplog)
    return {ErrorCode::kInvalidArgument, "copy replays the oplog it captures: give --oplog, not --oplogReplay"};
  if (!r.input.empty() || !r.archive_path.empty())
    return {ErrorCode::kInvalidArgument, "copy reads from --from, not from a dump"};
  if (dump.target != DumpTarget::kDirectory || dump.document_sink)
    return {ErrorCode::kInvalidArgument, "copy writes to --to, not to a dump"};
  if (channel_bytes == 0) return {ErrorCode::kInvalidArgument, "the copy channel needs a capacity above 0"};
  return {};
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::pair<std::string, std::string> split_ns(const std::string& ns) {
  auto dot = ns.find('.');
  if (dot == std::string::npos) return {ns, ""};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

struct Endpoints {
  io::Uri from;
  io::Uri to;
  io::ReadPreferenceMode read_mode = io::ReadPreferenceMode::kPrimary;
};

// Connects to both sides before any thread starts: an unreachable or read-only side fails here,
// in one line naming the side.
Status preflight(const CopyOptions& o, Endpoints& ep) {
  auto from = io::parse_uri(o.dump.uri);
  if (!from) return {from.status().code(), "--from: " + from.status().message()};
  auto to = io::parse_uri(o.restore.uri);
  if (!to) return {to.status().code(), "--to: " + to.status().message()};
  ep.from = std::move(*from);
  ep.to = std::move(*to);
  ep.read_mode = ep.from.read_preference;
  if (!o.dump.read_preference.empty()) {
    auto m = io::parse_read_preference(o.dump.read_preference);
    if (!m) return m.status();
    ep.read_mode = *m;
  }
  auto dst = io::connect_selected(ep.to, io::ReadPreferenceMode::kPrimary);
  if (!dst)
    return {ErrorCode::kNetwork,
            "cannot connect to the target (--to " + ep.to.redacted() + "): " + dst.error().to_string()};
  if (!(*dst)->server().writable())
    return {ErrorCode::kInvalidArgument,
            "the target " + (*dst)->host().to_string() + " is not writable (not a primary)"};
  auto src = io::connect_selected(ep.from, ep.read_mode);
  if (!src)
    return {ErrorCode::kNetwork,
            "cannot connect to the source (--from " + ep.from.redacted() + "): " + src.error().to_string()};
  // Copying a server onto itself without renaming would restore every collection into itself
  // (and --drop would drop it before reading it).
  if ((*src)->host() == (*dst)->host() && o.restore.plan.ns_from.empty())
    return {ErrorCode::kInvalidArgument, "--from and --to are the same server (" + (*src)->host().to_string() +
                                             "): give --nsFrom/--nsTo to copy into other namespaces"};
  return {};
}

// Count and content digest of db.coll's documents (those matching `filter`, when not empty).
Status digest_namespace(io::Connection& c, const std::string& db, const std::string& coll, ByteSpan filter,
                        const std::stop_token& interrupt, formats::MultisetDigest& out) {
  io::FindOptions fo;
  if (!filter.empty()) fo.filter = DocView(filter);
  fo.no_cursor_timeout = true;
  auto cur = io::find(c, db, coll, fo);
  if (!cur) return {ErrorCode::kServer, "find on " + db + "." + coll + " failed: " + cur.error().to_string()};
  while (true) {
    if (interrupt.stop_requested()) return {ErrorCode::kCancelled, "interrupted"};
    for (ByteSpan d : cur->batch()) out.add(d);
    if (cur->exhausted()) break;
    auto more = cur->next_batch();
    if (!more) return {ErrorCode::kServer, "getMore on " + db + "." + coll + " failed: " + more.error().to_string()};
    if (!*more) break;
  }
  return {};
}

// A view's definition (its listCollections options: viewOn, pipeline, collation), as a digest of
// one document; an absent view gives an empty digest.
Status digest_view(io::Connection& c, const std::string& db, const std::string& name, formats::MultisetDigest& out) {
  Bytes filter = formats::Builder().append_string("name", name).finish();
  auto list = io::list_collections(c, db, DocView(filter));
  if (!list) return {ErrorCode::kServer, "listCollections on " + db + " failed: " + list.error().to_string()};
  for (auto& info : *list)
    if (info.name == name && info.type == "view") out.add(formats::canonicalize(DocView(info.options)));
  return {};
}

// --verify: every copied collection's count and digest on both sides, and every view's
// definition, -j namespaces at a time.
Status verify_all(const CopyOptions& o, const Endpoints& ep, CopyReport& rep) {
  for (const auto& n : rep.restore.namespaces) {
    VerifyResult v;
    v.source_ns = n.source_ns;
    v.target_ns = n.target_ns;
    v.kind = n.kind;
    rep.verify.push_back(std::move(v));
  }
  std::mutex err_mu;
  Status first;
  std::size_t m = static_cast<std::size_t>(std::max(1, o.dump.parallel_collections));
  struct Conns {
    std::unique_ptr<io::Connection> src, dst;
  };
  std::vector<Conns> conns(m);  // a worker's own, opened at its first namespace
  auto verify_one = [&](Conns& c, VerifyResult& v) {
    auto [sdb, scoll] = split_ns(v.source_ns);
    auto [tdb, tcoll] = split_ns(v.target_ns);
    if (v.kind == TargetKind::kTimeseries) {  // the documents live in the buckets
      scoll = "system.buckets." + scoll;
      tcoll = "system.buckets." + tcoll;
    }
    Status s;
    if (!c.src) {
      auto conn = io::connect_selected(ep.from, ep.read_mode);
      if (conn)
        c.src = std::move(*conn);
      else
        s = {ErrorCode::kNetwork, "cannot connect to the source: " + conn.error().to_string()};
    }
    if (s && !c.dst) {
      auto conn = io::connect_selected(ep.to, io::ReadPreferenceMode::kPrimary);
      if (conn)
        c.dst = std::move(*conn);
      else
        s = {ErrorCode::kNetwork, "cannot connect to the target: " + conn.error().to_string()};
    }
    if (s && v.view()) s = digest_view(*c.src, sdb, scoll, v.source);
    if (s && v.view()) s = digest_view(*c.dst, tdb, tcoll, v.target);
    if (s && !v.view()) s = digest_namespace(*c.src, sdb, scoll, o.dump.query, o.interrupt, v.source);
    if (s && !v.view()) s = digest_namespace(*c.dst, tdb, tcoll, {}, o.interrupt, v.target);
    if (!s) {
      v.error = s.message();
      std::lock_guard lock(err_mu);
      if (first.is_ok()) first = {s.code(), "verify " + v.target_ns + ": " + s.message()};
      c.src.reset();  // a failed connection is not reused
      c.dst.reset();
    }
  };
  // A namespace's failed read is its own result (the others still run); an exception is the run's.
  Executor ex(o.interrupt);
  ex.for_each(rep.verify.size(), m, "verify", [&](std::size_t w, std::size_t i) -> Status {
    verify_one(conns[w], rep.verify[i]);
    return {};
  });
  if (Status s = ex.status(); !s) return s;  // the interrupt included
  return first;
}

// The dump's options for the copy: an archive of batches handed to `channel`, uncompressed, silent.
DumpOptions channel_dump(const CopyOptions& opts, CopyChannel& channel, std::stop_token stop) {
  DumpOptions d = opts.dump;
  d.target = DumpTarget::kArchive;
  d.out.clear();
  d.codec = io::Codec::kNone;
  if (opts.segment_bytes > 0) d.block_bytes = opts.segment_bytes;
  d.document_sink = &channel;
  d.block_buffers = &channel.buffers();
  d.interrupt = std::move(stop);
  d.progress.mode = ProgressMode::kNone;
  d.progress.quiet = true;
  return d;
}

// The restore's options for the copy (its input is the channel: run_restore's stream form).
RestoreOptions channel_restore(const CopyOptions& opts, CopyChannel& channel, std::stop_token stop) {
  RestoreOptions r = opts.restore;
  r.batch_buffers = &channel.buffers();
  r.interrupt = std::move(stop);
  // --oplog: the writes made while the source was read are replayed on the target at the end.
  r.plan.oplog_replay = opts.dump.oplog;
  return r;
}

// Runs the dump and the restore, each a stage of one body on one executor, until both returned.
// The executor holds the first error of either side and the interrupt: either stops its token,
// which is each side's own interrupt, and its cancel hook closes the channel at both ends (so the
// other side stops too). The first error is the one returned; after an interrupt that stopped a
// side, "interrupted" (what the sides then fail with is its consequence). An exception in either
// body becomes "source: dump: ..." / "target: restore: ...".
Status run_sides(const CopyOptions& opts, CopyReport& rep) {
  Executor ex(opts.interrupt);
  CopyChannel channel(opts.channel_bytes);
  // Registered before either side starts.
  auto close_on_cancel = ex.on_cancel([&] {
    channel.close_write(ex.status());
    channel.close_read();
  });
  // Recorded before the channel closes, so the side that failed first is the one reported. A
  // side that fails after the interrupt fails because of it: the run was interrupted.
  auto record = [&](Status s) {
    if (s.is_ok()) return;
    ex.fail(opts.interrupt.stop_requested() ? Status{ErrorCode::kCancelled, "interrupted"} : std::move(s));
  };
  DumpOptions d = channel_dump(opts, channel, ex.token());
  RestoreOptions r = channel_restore(opts, channel, ex.token());
  auto dump_side = ex.start(1, "source: dump", [&](std::size_t) -> Status {
    auto res = run_dump(d);
    if (res) rep.dump = std::move(*res);
    Status s = res ? Status() : res.status();
    if (!s) record({s.code(), "source: " + s.message(), s.offset()});
    channel.close_write(s);
    return {};
  });
  auto restore_side = ex.start(1, "target: restore", [&](std::size_t) -> Status {
    auto res = run_restore(r, channel, &rep.restore);  // never throws; a failed run's report so far
    if (res) rep.restore = std::move(*res);
    if (Status s = res.status(); !s)
      record({s.code(), "target: " + s.message(), s.offset()});
    else if (!rep.restore.ok())
      record({ErrorCode::kServer, "target: the restore is incomplete (see the namespace errors)"});
    channel.close_read();  // a dump blocked on a full pipe wakes and stops
    return {};
  });
  dump_side->wait();
  restore_side->wait();
  // An interrupt that came after both sides had finished cut nothing short.
  return ex.failed() ? ex.status() : Status{};
}

// --follow --resume: the namespaces --verify compares are the source's collections that the
// copy's filters select, renamed as the copy renames them (the copy itself ran earlier).
Status list_selected(const CopyOptions& opts, const Endpoints& ep, CopyReport& rep) {
  auto mapper = NamespaceMapper::create(follow_plan(opts));
  if (!mapper) return mapper.status();
  auto src = io::connect_selected(ep.from, ep.read_mode);
  if (!src) return {ErrorCode::kNetwork, "cannot connect to the source: " + src.error().to_string()};
  auto dbs = io::list_databases(**src, true);
  if (!dbs) return {ErrorCode::kServer, "source: listDatabases: " + dbs.error().to_string()};
  for (auto& db : *dbs) {
    if (db.name == "local" || db.name == "config" || db.name == "admin") continue;
    auto colls = io::list_collections(**src, db.name);
    if (!colls) return {ErrorCode::kServer, "source: listCollections " + db.name + ": " + colls.error().to_string()};
    for (auto& c : *colls) {
      if (c.name.starts_with("system.") || !mapper->selected(db.name, c.name)) continue;
      auto to = mapper->target(db.name, c.name);
      if (!to) return to.status();
      NamespaceReport n;
      n.source_ns = db.name + "." + c.name;
      n.target_ns = to->first + "." + to->second;
      n.completed = true;  // copied by the earlier run
      n.kind = c.type == "view" ? TargetKind::kView
                                : (c.type == "timeseries" ? TargetKind::kTimeseries : TargetKind::kCollection);
      rep.restore.namespaces.push_back(std::move(n));
    }
  }
  return {};
}

// --verify's findings, one line per namespace, through opts.log.
void log_verify(const CopyOptions& opts, const CopyReport& rep) {
  if (!opts.log) return;
  for (auto& v : rep.verify) {
    std::string side = v.source_ns == v.target_ns ? v.target_ns : v.source_ns + " -> " + v.target_ns;
    if (v.view() && v.matches())
      opts.log("verified view " + side + ": same definition");
    else if (v.view())
      opts.log("verify: view " + side + " differs: its definition (viewOn, pipeline, collation) on the target " +
               (v.target.count() == 0 ? "is missing" : "is not the source's"));
    else if (v.matches())
      opts.log("verified " + side + ": " + std::to_string(v.target.count()) + " document(s), digest " + v.target.hex());
    else
      opts.log("verify: " + side + " differs: source " + std::to_string(v.source.count()) + " document(s), digest " +
               v.source.hex() + "; target " + std::to_string(v.target.count()) + " document(s), digest " +
               v.target.hex());
  }
}

}  // namespace

PlanOptions follow_plan(const CopyOptions& o) {
  PlanOptions p;
  p.db = o.dump.db;
  p.collection = o.dump.collection;
  p.ns_include = o.dump.ns_include;
  p.ns_exclude = o.dump.ns_exclude;
  for (auto& c : o.dump.exclude_collections) p.ns_exclude.push_back("*." + c);
  for (auto& c : o.dump.exclude_collection_prefixes) p.ns_exclude.push_back("*." + c + "*");
  p.ns_from = o.restore.plan.ns_from;
  p.ns_to = o.restore.plan.ns_to;
  return p;
}

Result<CopyReport> run_copy(const CopyOptions& opts, CopyReport* partial) {
  CopyReport rep;
  double t0 = now_seconds();
  auto finish = [&](Status s) -> Result<CopyReport> {
    rep.seconds = now_seconds() - t0;
    if (s) return std::move(rep);
    if (partial) *partial = std::move(rep);
    return s;
  };
  if (Status s = opts.validate(); !s) return finish(s);
  Endpoints ep;
  if (Status s = preflight(opts, ep); !s) return finish(s);
  if (opts.before_copy)
    if (Status s = opts.before_copy(); !s) return finish(s);
  Status copied = opts.skip_copy ? list_selected(opts, ep, rep) : run_sides(opts, rep);
  rep.copy_seconds = now_seconds() - t0;
  if (!copied) return finish(copied);
  if (opts.after_copy)
    if (Status s = opts.after_copy(); !s) return finish(s);
  if (opts.verify) {
    // After a follow, the interrupt flag was its cutover request: it does not cut --verify short.
    CopyOptions vo = opts;
    if (opts.after_copy) vo.interrupt = {};
    Status s = verify_all(vo, ep, rep);
    rep.verified = s.is_ok();
    if (!s) return finish(s);
    log_verify(opts, rep);
    auto bad = rep.mismatches();
    if (!bad.empty()) {
      std::string list;
      for (auto& b : bad) list += (list.empty() ? "" : ", ") + b;
      return finish({ErrorCode::kServer, "verify failed: the target differs from the source in " +
                                             std::to_string(bad.size()) + " namespace(s): " + list});
    }
  }
  return finish({});
}

}  // namespace bsonpipe::pipeline
