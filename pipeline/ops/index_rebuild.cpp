#include "pipeline/ops/index_rebuild.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "io/uri.hpp"
#include "pipeline/core/executor.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline {

using formats::Bytes;
using formats::DocView;

std::string_view index_action_name(IndexAction a) {
  switch (a) {
    case IndexAction::kPresent: return "present";
    case IndexAction::kCreate: return "create";
    case IndexAction::kCreated: return "created";
    case IndexAction::kDiffers: return "differs";
    case IndexAction::kCollectionMissing: return "collection-missing";
    case IndexAction::kFailed: return "failed";
  }
  return "?";
}

bool IndexRebuildReport::ok() const {
  return std::none_of(entries.begin(), entries.end(), [](auto& e) { return e.action == IndexAction::kFailed; });
}

Status IndexRebuildOptions::validate() const {
  if (num_parallel_collections < 1) return {ErrorCode::kInvalidArgument, "--numParallelCollections must be at least 1"};
  return {};
}

namespace {

std::string key_text(DocView spec) {
  auto k = spec.find("key");
  if (!k.valid() || k.type() != formats::BsonType::kDocument) return "{}";
  formats::extjson::WriteOptions wo;
  wo.mode = formats::extjson::Mode::kRelaxed;
  return formats::extjson::to_json(k.as_document(), wo);
}

std::string spec_text(DocView spec) {
  formats::extjson::WriteOptions wo;
  wo.mode = formats::extjson::Mode::kRelaxed;
  return formats::extjson::to_json(spec, wo);
}

// The entries of one collection: compares the dump's specs with the live ones, creates the missing.
std::vector<IndexRebuildEntry> rebuild_one(io::Connection& conn, const RestoreTarget& t, const IndexRebuildOptions& o) {
  std::vector<IndexRebuildEntry> out;
  auto specs = prepare_index_specs(t.metadata.indexes, o.index);
  if (!specs) {
    out.push_back({t.ns(), "", IndexAction::kFailed, "bad index metadata: " + specs.status().to_string()});
    return out;
  }
  if (specs->empty()) return out;
  formats::Builder f;
  f.append_string("name", t.collection);
  Bytes filter = f.finish();
  auto colls = io::list_collections(conn, t.db, DocView(filter));
  if (!colls) {
    out.push_back({t.ns(), "", IndexAction::kFailed, "listCollections: " + colls.error().to_string()});
    return out;
  }
  if (colls->empty()) {
    out.push_back({t.ns(), "", IndexAction::kCollectionMissing, "the collection does not exist: nothing done"});
    return out;
  }
  auto live = io::list_indexes(conn, t.db, t.collection);
  if (!live) {
    out.push_back({t.ns(), "", IndexAction::kFailed, "listIndexes: " + live.error().to_string()});
    return out;
  }
  std::vector<DocView> to_create;
  std::vector<std::size_t> create_entries;
  for (auto& spec : *specs) {
    DocView d(spec);
    std::string name(d.find("name").as_string());
    const Bytes* same_name = nullptr;
    const Bytes* same_key = nullptr;
    for (auto& l : *live) {
      DocView lv(l);
      auto ln = lv.find("name");
      if (ln.valid() && ln.type() == formats::BsonType::kString && ln.as_string() == name) same_name = &l;
      auto lk = lv.find("key");
      auto dk = d.find("key");
      if (lk.valid() && lk.type() == formats::BsonType::kDocument &&
          formats::compare_documents(lk.as_document(), dk.as_document()) == 0)
        same_key = &l;
    }
    if (same_name) {
      if (same_index_spec(DocView(*same_name), d))
        out.push_back({t.ns(), name, IndexAction::kPresent, key_text(d)});
      else
        out.push_back(
            {t.ns(), name, IndexAction::kDiffers, "dump " + spec_text(d) + " live " + spec_text(DocView(*same_name))});
      continue;
    }
    if (same_key) {
      out.push_back({t.ns(), name, IndexAction::kDiffers,
                     "key " + key_text(d) + " is indexed under another name: live " + spec_text(DocView(*same_key))});
      continue;
    }
    create_entries.push_back(out.size());
    out.push_back({t.ns(), name, IndexAction::kCreate, spec_text(d)});
    to_create.push_back(d);
  }
  if (o.plan_only || to_create.empty()) return out;
  auto e = io::create_indexes(conn, t.db, t.collection, to_create);
  for (std::size_t i : create_entries) {
    if (e) {
      out[i].action = IndexAction::kCreated;
    } else {
      out[i].action = IndexAction::kFailed;
      out[i].detail = "createIndexes: " + e.to_string();
    }
  }
  return out;
}

// The plan of `from`: an archive's prelude, or a directory's (or one .bson file's) metadata.
Result<Plan> plan_input(const IndexRebuildOptions& o, io::Storage& storage) {
  auto regular = storage.is_directory(o.from);
  auto exists = storage.exists(o.from);
  bool file = regular && !*regular && exists && *exists;
  if (!file || o.from.extension() == ".bson" || o.from.filename().string().find(".bson.") != std::string::npos)
    return plan_directory(o.from, o.plan, storage);
  auto in = ArchiveInput::open(o.from.string(), false, storage);
  if (!in) return in.status();
  formats::archive::Reader reader((*in)->source());
  auto prelude = reader.read_prelude();
  if (!prelude)
    return Status{prelude.status().code(), (*in)->name() + ": " + prelude.status().message(),
                  prelude.status().offset()};
  return plan_archive(**prelude, o.plan);
}

}  // namespace

Result<IndexRebuildReport> run_index_rebuild(const IndexRebuildOptions& o, IndexRebuildReport* partial) {
  IndexRebuildReport rep;
  auto fail = [&](Status s) -> Result<IndexRebuildReport> {
    if (partial) *partial = std::move(rep);
    return s;
  };
  if (Status s = o.validate(); !s) return fail(std::move(s));
  auto uri = io::parse_uri(o.uri);
  if (!uri) return fail({uri.status().code(), "--uri: " + uri.status().to_string()});
  auto plan = plan_input(o, o.storage ? *o.storage : io::local_storage());
  if (!plan) return fail(plan.status());
  rep.skipped = plan->skipped;
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < plan->targets.size(); ++i)
    if (plan->targets[i].kind != TargetKind::kView && plan->targets[i].has_metadata) work.push_back(i);

  std::vector<std::vector<IndexRebuildEntry>> results(plan->targets.size());
  Executor ex(o.interrupt);
  std::size_t m = static_cast<std::size_t>(o.num_parallel_collections);
  std::vector<std::unique_ptr<io::Connection>> conns(m);  // one per worker, opened at its first namespace
  ex.for_each(work.size(), m, "index rebuild", [&](std::size_t w, std::size_t k) -> Status {
    if (!conns[w]) {
      auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
      if (!conn) return {ErrorCode::kNetwork, "connecting to " + uri->redacted() + ": " + conn.error().to_string()};
      conns[w] = std::move(*conn);
    }
    results[work[k]] = rebuild_one(*conns[w], plan->targets[work[k]], o);
    return {};
  });
  for (auto& r : results)
    for (auto& e : r) rep.entries.push_back(std::move(e));
  if (Status s = ex.status(); !s) return fail(std::move(s));
  return rep;
}

}  // namespace bsonpipe::pipeline
