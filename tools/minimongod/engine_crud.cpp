#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/oplog_diff.hpp"

namespace bsonpipe::minimongod {

namespace {

void append_write_error(formats::Builder& b, std::size_t index, const CmdError& e) {
  b.open_document(b.next_array_key());
  b.append_int32("index", static_cast<std::int32_t>(index));
  b.append_int32("code", e.code);
  b.append_string("codeName", code_name(e.code));
  b.append_string("errmsg", e.message);
  b.close();
}

// The collection's validator when inserts must pass it: a query-language validator with
// validationLevel not "off" and validationAction not "warn". A validator this server cannot
// evaluate ($jsonSchema, $expr, ...) is kept but not enforced. The caller holds the lock.
std::optional<Matcher> insert_validator(const Collection& c) {
  DocView o(c.options());
  auto v = get_doc(o, "validator");
  if (!v || v->empty()) return std::nullopt;
  if (get_string(o, "validationLevel") == "off" || get_string(o, "validationAction") == "warn") return std::nullopt;
  auto m = Matcher::compile(*v);
  if (!m) return std::nullopt;
  return std::move(*m);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writes

Expected<std::shared_ptr<Collection>> Engine::writable_collection(std::string_view db, std::string_view name,
                                                                  bool* created) {
  if (auto bad = invalid_namespace(db, name)) return *bad;
  auto c = catalog_.get_or_create(db, name, created);
  std::shared_lock lock(c->mutex());
  if (c->type() == CollectionType::kView)
    return CmdError{code::kCommandNotSupportedOnView, "Namespace " + c->ns() + " is a view, not a collection"};
  return c;
}

Expected<DocPtr> Engine::prepare_insert(DocView doc) {
  if (doc.size() > static_cast<std::size_t>(kMaxBsonObjectSize))
    return CmdError{code::kBSONObjectTooLarge, "object to insert too large. size in bytes: " +
                                                   std::to_string(doc.size()) + ", max size: 16777216"};
  if (auto st = formats::validate(doc.bytes()); !st)
    return CmdError{code::kBadValue, "invalid BSON document: " + st.to_string()};
  auto first = doc.begin();
  if (first != doc.end() && (*first).key() == "_id") {
    if ((*first).type() == BsonType::kArray) return bad_value("can't use an array for _id");
    return std::make_shared<const Bytes>(doc.bytes().begin(), doc.bytes().end());
  }
  formats::Builder b;
  ElementView id = doc.find("_id");
  if (id.valid()) {
    if (id.type() == BsonType::kArray) return bad_value("can't use an array for _id");
    b.append_raw_element(id.raw());
  } else {
    b.append_object_id("_id", new_object_id());
  }
  for (auto e : doc)
    if (e.key() != "_id") b.append_raw_element(e.raw());
  return std::make_shared<const Bytes>(b.finish());
}

Done Engine::insert_one(const std::shared_ptr<Collection>& coll, DocPtr doc) {
  DocView d = view(doc);
  auto r = coll->insert(doc);
  if (!r) return r.error();
  if (oplog_ && coll.get() != oplog_.get() && coll->db() != "local") log_op('i', coll->ns(), &coll->uuid(), d, nullptr);
  return {};
}

Expected<Bytes> Engine::cmd_insert(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto docs = ctx.documents("documents");
  if (!docs) return docs.error();
  if (docs->empty() || docs->size() > static_cast<std::size_t>(kMaxWriteBatchSize))
    return CmdError{
        16, "Write batch sizes must be between 1 and 100000. Got " + std::to_string(docs->size()) + " operations."};
  bool ordered = get_bool(ctx.cmd, "ordered", true);
  auto coll = writable_collection(ctx.db, *name, nullptr);
  if (!coll) return coll.error();
  // Validate and copy outside the lock; insert under one exclusive lock.
  std::vector<Expected<DocPtr>> prepared;
  prepared.reserve(docs->size());
  for (auto& d : *docs) prepared.push_back(prepare_insert(d));
  formats::Builder b;
  std::int32_t n = 0;
  std::vector<std::pair<std::size_t, CmdError>> errors;
  {
    std::unique_lock lock((*coll)->mutex());
    std::optional<Matcher> validator;
    if (!get_bool(ctx.cmd, "bypassDocumentValidation")) validator = insert_validator(**coll);
    for (std::size_t i = 0; i < prepared.size(); ++i) {
      if (prepared[i] && validator && !validator->matches(view(*prepared[i])))
        prepared[i] = CmdError{code::kDocumentValidationFailure, "Document failed validation"};
      Done r = prepared[i] ? insert_one(*coll, std::move(*prepared[i])) : Done(prepared[i].error());
      if (r) {
        ++n;
        continue;
      }
      errors.emplace_back(i, r.error());
      if (ordered) break;
    }
    if (n > 0) (*coll)->inserted().notify_all();
  }
  b.append_int32("n", n);
  if (!errors.empty()) {
    b.open_array("writeErrors");
    for (auto& [i, e] : errors) append_write_error(b, i, e);
    b.close();
  }
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_update(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto stmts = ctx.documents("updates");
  if (!stmts) return stmts.error();
  if (stmts->size() > static_cast<std::size_t>(kMaxWriteBatchSize))
    return CmdError{16, "Write batch sizes must be between 1 and 100000."};
  bool ordered = get_bool(ctx.cmd, "ordered", true);
  auto coll = writable_collection(ctx.db, *name, nullptr);
  if (!coll) return coll.error();
  Collection& c = **coll;
  std::int64_t n = 0, modified = 0;
  std::vector<std::pair<std::size_t, CmdError>> errors;
  std::vector<std::pair<std::size_t, Bytes>> upserted;
  std::unique_lock lock(c.mutex());
  for (std::size_t i = 0; i < stmts->size(); ++i) {
    DocView s = (*stmts)[i];
    auto q = get_doc(s, "q");
    ElementView u = s.find("u");
    auto fail = [&](CmdError e) { errors.emplace_back(i, std::move(e)); };
    if (!q || !u.valid()) {
      fail({code::kFailedToParse, "update statements need 'q' and 'u'"});
      if (ordered) break;
      continue;
    }
    if (u.type() != BsonType::kDocument) {
      fail({code::kFailedToParse, "pipeline-style updates are not supported"});
      if (ordered) break;
      continue;
    }
    DocView update = u.as_document();
    bool multi = get_bool(s, "multi"), upsert = get_bool(s, "upsert");
    if (multi && !is_operator_update(update)) {
      fail({code::kFailedToParse, "multi update is not supported for replacement-style update"});
      if (ordered) break;
      continue;
    }
    auto m = Matcher::compile(*q);
    if (!m) {
      fail(m.error());
      if (ordered) break;
      continue;
    }
    std::vector<RecordId> hits;
    scan_matching(c, *m, [&](RecordMap::const_iterator it) {
      hits.push_back(it->first);
      return multi;
    });
    bool failed = false;
    for (RecordId rid : hits) {
      auto it = c.records().find(rid);
      if (it == c.records().end()) continue;
      auto next = apply_update(view(it->second), update);
      if (!next) {
        fail(next.error());
        failed = true;
        break;
      }
      ++n;
      if (*next == *it->second) continue;
      if (next->size() > static_cast<std::size_t>(kMaxBsonObjectSize)) {
        fail({code::kBSONObjectTooLarge, "update makes the document too large"});
        failed = true;
        break;
      }
      auto doc = std::make_shared<const Bytes>(std::move(*next));
      auto before = it->second;  // kept alive for the oplog's delta
      if (auto r = c.replace(rid, doc); !r) {
        fail(r.error());
        failed = true;
        break;
      }
      ++modified;
      if (oplog_ && c.db() != "local") {
        Bytes o2 = [&] {
          formats::Builder k;
          k.append_raw_element(view(doc).find("_id").raw());
          return k.finish();
        }();
        DocView o2v(o2);
        // As a 5.0+ primary: an operator update is logged as a `$v: 2` delta, a replacement whole.
        std::optional<Bytes> delta;
        if (opts_.oplog_v2_updates && is_operator_update(update)) delta = make_v2_update(view(before), view(doc));
        log_op('u', c.ns(), &c.uuid(), delta ? DocView(*delta) : view(doc), &o2v);
      }
    }
    if (!failed && hits.empty() && upsert) {
      Bytes seed = upsert_seed(*q);
      auto next = apply_update(DocView(seed), update, true);
      if (!next) {
        fail(next.error());
        failed = true;
      } else {
        auto doc = prepare_insert(DocView(*next));
        if (!doc) {
          fail(doc.error());
          failed = true;
        } else {
          DocPtr p = *doc;
          if (auto r = insert_one(*coll, p); !r) {
            fail(r.error());
            failed = true;
          } else {
            ++n;
            upserted.emplace_back(i, single_value(view(p).find("_id")));
            c.inserted().notify_all();
          }
        }
      }
    }
    if (failed && ordered) break;
  }
  lock.unlock();
  formats::Builder b;
  b.append_int32("n", static_cast<std::int32_t>(n));
  b.append_int32("nModified", static_cast<std::int32_t>(modified));
  if (!upserted.empty()) {
    b.open_array("upserted");
    for (auto& [i, id] : upserted) {
      b.open_document(b.next_array_key()).append_int32("index", static_cast<std::int32_t>(i));
      b.append_element("_id", first_element(id)).close();
    }
    b.close();
  }
  if (!errors.empty()) {
    b.open_array("writeErrors");
    for (auto& [i, e] : errors) append_write_error(b, i, e);
    b.close();
  }
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_delete(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto stmts = ctx.documents("deletes");
  if (!stmts) return stmts.error();
  if (stmts->size() > static_cast<std::size_t>(kMaxWriteBatchSize))
    return CmdError{16, "Write batch sizes must be between 1 and 100000."};
  bool ordered = get_bool(ctx.cmd, "ordered", true);
  auto coll = catalog_.find(ctx.db, *name);
  formats::Builder b;
  std::int64_t n = 0;
  std::vector<std::pair<std::size_t, CmdError>> errors;
  if (coll) {
    std::unique_lock lock(coll->mutex());
    if (coll->type() == CollectionType::kView)
      return CmdError{code::kCommandNotSupportedOnView, "Namespace " + coll->ns() + " is a view, not a collection"};
    for (std::size_t i = 0; i < stmts->size(); ++i) {
      DocView s = (*stmts)[i];
      auto q = get_doc(s, "q");
      if (!q) {
        errors.emplace_back(i, CmdError{code::kFailedToParse, "delete statements need 'q'"});
        if (ordered) break;
        continue;
      }
      bool one = get_int(s, "limit").value_or(0) == 1;
      auto m = Matcher::compile(*q);
      if (!m) {
        errors.emplace_back(i, m.error());
        if (ordered) break;
        continue;
      }
      std::vector<RecordId> hits;
      scan_matching(*coll, *m, [&](RecordMap::const_iterator it) {
        hits.push_back(it->first);
        return !one;
      });
      for (RecordId rid : hits) {
        if (oplog_ && coll->db() != "local") {
          auto it = coll->records().find(rid);
          Bytes o = [&] {
            formats::Builder k;
            k.append_raw_element(view(it->second).find("_id").raw());
            return k.finish();
          }();
          log_op('d', coll->ns(), &coll->uuid(), DocView(o), nullptr);
        }
        coll->remove(rid);
        ++n;
      }
    }
  }
  b.append_int32("n", static_cast<std::int32_t>(n));
  if (!errors.empty()) {
    b.open_array("writeErrors");
    for (auto& [i, e] : errors) append_write_error(b, i, e);
    b.close();
  }
  return finish_ok(b);
}

}  // namespace bsonpipe::minimongod
