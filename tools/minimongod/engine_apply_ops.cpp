// applyOps in minimongod's engine: one oplog entry at a time (inserts, updates with $v:2 diffs or
// whole replacements, deletes, commands), as restore --oplogReplay and copy --follow send them.
// Split from engine_catalog.cpp.
#include <algorithm>

#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/oplog_diff.hpp"

namespace bsonpipe::minimongod {

Expected<Bytes> Engine::run_apply_op(std::string_view, DocView entry) {
  auto op = get_string(entry, "op");
  auto ns = get_string(entry, "ns");
  if (!op || !ns) return CmdError{code::kFailedToParse, "applyOps entries need 'op' and 'ns'"};
  auto [db, coll_name] = split_ns(*ns);
  auto o = get_doc(entry, "o");
  if (*op == "n") return ok_only();
  if (!o) return CmdError{code::kFailedToParse, "applyOps entry needs 'o'"};
  if (*op == "c") {
    formats::Builder cmd;
    for (auto e : *o) cmd.append_raw_element(e.raw());
    cmd.append_string("$db", db);
    Bytes body = cmd.finish();
    DocView bv(body);
    if ((*bv.begin()).key() == "createIndexes" && !bv.find("indexes").valid()) {
      // The oplog form carries one spec inline: {createIndexes: coll, v, key, name, ...}.
      formats::Builder c2;
      c2.append_raw_element((*bv.begin()).raw());
      c2.open_array("indexes").open_document("0");
      for (auto e : *o)
        if (e.key() != "createIndexes") c2.append_raw_element(e.raw());
      c2.close().close().append_string("$db", db);
      body = c2.finish();
    }
    Session internal;
    internal.authenticated = true;
    Bytes reply = run(internal, DocView(body));
    DocView rv(reply);
    if (!get_bool(rv, "ok")) {
      return CmdError{static_cast<int>(get_int(rv, "code").value_or(code::kOperationFailed)),
                      std::string(get_string(rv, "errmsg").value_or("applyOps command failed"))};
    }
    return ok_only();
  }
  if (*op == "i" || *op == "u" || *op == "d") {
    if (*op == "d") {
      auto c = catalog_.find(db, coll_name);
      if (!c) return ok_only();
      std::unique_lock lock(c->mutex());
      ElementView id = o->find("_id");
      if (!id.valid()) return CmdError{code::kFailedToParse, "delete entry needs o._id"};
      if (RecordId rid = c->find_id(id)) {
        if (oplog_ && db != "local") log_op('d', c->ns(), &c->uuid(), *o, nullptr);
        c->remove(rid);
      }
      return ok_only();
    }
    auto c = writable_collection(db, coll_name, nullptr);
    if (!c) return c.error();
    std::unique_lock lock((*c)->mutex());
    if (*op == "i") {
      auto doc = prepare_insert(*o);
      if (!doc) return doc.error();
      RecordId rid = (*c)->find_id(view(*doc).find("_id"));
      if (rid != 0) {
        if (auto r = (*c)->replace(rid, *doc); !r) return r.error();
        return ok_only();
      }
      if (auto r = insert_one(*c, *doc); !r) return r.error();
      (*c)->inserted().notify_all();
      return ok_only();
    }
    auto o2 = get_doc(entry, "o2");
    ElementView id = o2 ? o2->find("_id") : ElementView();
    if (!id.valid()) return CmdError{code::kFailedToParse, "update entry needs o2._id"};
    bool delta = is_v2_update(*o);
    RecordId rid = (*c)->find_id(id);
    if (rid == 0) {
      if (delta || is_operator_update(*o)) return ok_only();
      auto doc = prepare_insert(*o);
      if (!doc) return doc.error();
      if (auto r = insert_one(*c, *doc); !r) return r.error();
      return ok_only();
    }
    auto next =
        delta ? apply_v2_update(view((*c)->records().at(rid)), *o) : apply_update(view((*c)->records().at(rid)), *o);
    if (!next) return next.error();
    auto doc = std::make_shared<const Bytes>(std::move(*next));
    if (auto r = (*c)->replace(rid, doc); !r) return r.error();
    if (oplog_ && db != "local") {
      DocView o2v = *o2;
      log_op('u', (*c)->ns(), &(*c)->uuid(), delta ? *o : view(doc), &o2v);
    }
    return ok_only();
  }
  return CmdError{code::kFailedToParse, "unknown applyOps op type: " + std::string(*op)};
}

Expected<Bytes> Engine::cmd_apply_ops(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kArray) return CmdError{code::kFailedToParse, "applyOps needs an array"};
  std::int32_t applied = 0;
  formats::Builder results;
  for (auto e : ctx.arg.as_document()) {
    if (e.type() != BsonType::kDocument) return CmdError{code::kFailedToParse, "applyOps entries must be objects"};
    auto r = run_apply_op(ctx.db, e.as_document());
    if (!r) return r.error();
    results.append_bool(results.next_array_key(), true);
    ++applied;
  }
  Bytes res = results.finish();
  formats::Builder b;
  b.append_int32("applied", applied).append_array("results", DocView(res));
  return finish_ok(b);
}

}  // namespace bsonpipe::minimongod
