#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/oplog_diff.hpp"

namespace bsonpipe::minimongod {

namespace {

// Calls f(record_iterator) for every record matching `m`, using the _id index when the filter
// bounds _id. Stops when f returns false. The caller holds the collection's lock.
template <class F>
void scan_matching(const Collection& coll, const Matcher& m, F&& f) {
  IdBounds bounds = m.id_bounds();
  if (bounds.bounded() && coll.has_id_index()) {
    auto& idx = coll.id_index();
    auto it = !bounds.lo.valid() ? idx.begin()
                                 : (bounds.lo_inclusive ? idx.lower_bound(bounds.lo) : idx.upper_bound(bounds.lo));
    for (; it != idx.end(); ++it) {
      if (bounds.hi.valid()) {
        int c = formats::compare_values(it->first, bounds.hi);
        if (c > 0 || (c == 0 && !bounds.hi_inclusive)) break;
      }
      if (m.matches(view(it->second->second)) && !f(it->second)) return;
    }
    return;
  }
  auto& recs = coll.records();
  for (auto it = recs.begin(); it != recs.end(); ++it)
    if (m.matches(view(it->second)) && !f(it)) return;
}

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

// ---------------------------------------------------------------------------------------------
// Cursors

Expected<std::int64_t> Engine::register_cursor(std::shared_ptr<Cursor> c) {
  std::lock_guard lock(cursors_mu_);
  if (cursors_.size() >= opts_.max_cursors)
    return CmdError{code::kOperationFailed, "too many open cursors (" + std::to_string(cursors_.size()) + ")"};
  // Ids: a counter mixed so they look like the server's (positive, non-sequential, never 0).
  std::int64_t id;
  do {
    std::uint64_t x = static_cast<std::uint64_t>(++cursor_seq_) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    id = static_cast<std::int64_t>(x & 0x7FFFFFFFFFFFFFFFull);
  } while (id == 0 || cursors_.count(id) != 0);
  c->id = id;
  cursors_.emplace(id, std::move(c));
  return id;
}

std::shared_ptr<Cursor> Engine::checkout_cursor(std::int64_t id, std::string_view ns) {
  std::lock_guard lock(cursors_mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->ns != ns) return nullptr;
  auto c = std::move(it->second);
  cursors_.erase(it);
  return c;
}

void Engine::checkin_cursor(std::shared_ptr<Cursor> c) {
  std::lock_guard lock(cursors_mu_);
  cursors_.emplace(c->id, std::move(c));
}

std::size_t Engine::open_cursors() const {
  std::lock_guard lock(cursors_mu_);
  return cursors_.size();
}

Done Engine::fill_batch(Cursor& c, formats::Builder& b, std::int64_t max_docs, std::int64_t await_ms) {
  std::int64_t n = 0;
  std::size_t bytes = 0;
  auto want_more = [&] { return (max_docs <= 0 || n < max_docs) && (c.limit == 0 || c.returned < c.limit); };
  auto limit_hit = [&] { return c.limit != 0 && c.returned >= c.limit; };
  auto emit = [&](DocView d) -> bool {
    Bytes projected;
    if (!c.projection.empty()) {
      projected = c.projection.apply(d);
      d = DocView(projected);
    }
    if (n > 0 && bytes + d.size() > kMaxBatchBytes) return false;
    b.append_document(b.next_array_key(), d);
    bytes += d.size();
    ++n;
    ++c.returned;
    return true;
  };
  // 1 = emitted, 0 = filtered out, -1 = did not fit (stop without consuming).
  auto consider = [&](DocView d) -> int {
    if (!c.matcher.matches(d)) return 0;
    if (c.skip > 0) {
      --c.skip;
      return 0;
    }
    return emit(d) ? 1 : -1;
  };

  if (c.mode == Cursor::Mode::kMaterialized) {
    while (c.pos < c.docs.size() && want_more()) {
      if (!emit(view(c.docs[c.pos]))) break;
      ++c.pos;
    }
    c.exhausted = c.pos >= c.docs.size() || limit_hit();
    return {};
  }

  Collection& coll = *c.coll;
  std::shared_lock lock(coll.mutex());
  const auto& recs = coll.records();
  const auto& idx = coll.id_index();
  while (true) {
    bool at_end = false;
    switch (c.mode) {
      case Cursor::Mode::kNatural: {
        if (c.tailable && c.started && c.last_record < coll.capped_removed_through())
          return CmdError{code::kCappedPositionLost,
                          "CollectionScan died due to position in capped collection being "
                          "deleted"};
        auto it = c.started ? recs.upper_bound(c.last_record) : recs.begin();
        for (; it != recs.end() && want_more(); ++it) {
          if (consider(view(it->second)) < 0) break;
          c.last_record = it->first;
          c.started = true;
        }
        at_end = it == recs.end();
        break;
      }
      case Cursor::Mode::kNaturalReverse: {
        auto it = std::make_reverse_iterator(c.started ? recs.lower_bound(c.last_record) : recs.end());
        for (; it != recs.rend() && want_more(); ++it) {
          if (consider(view(it->second)) < 0) break;
          c.last_record = it->first;
          c.started = true;
        }
        at_end = it == recs.rend();
        break;
      }
      case Cursor::Mode::kIdAsc: {
        auto it = c.started ? idx.upper_bound(first_element(c.last_id))
                            : (c.lo.empty() ? idx.begin()
                                            : (c.lo_inclusive ? idx.lower_bound(first_element(c.lo))
                                                              : idx.upper_bound(first_element(c.lo))));
        auto last = idx.end();
        for (; it != idx.end() && want_more(); ++it) {
          if (!c.hi.empty()) {
            int cmp = formats::compare_values(it->first, first_element(c.hi));
            if (cmp > 0 || (cmp == 0 && !c.hi_inclusive)) {
              it = idx.end();
              break;
            }
          }
          if (consider(view(it->second->second)) < 0) break;
          last = it;
        }
        if (last != idx.end()) {
          c.last_id = single_value(last->first);
          c.started = true;
        }
        at_end = it == idx.end();
        break;
      }
      case Cursor::Mode::kIdDesc: {
        auto base = c.started ? idx.lower_bound(first_element(c.last_id))
                              : (c.hi.empty() ? idx.end()
                                              : (c.hi_inclusive ? idx.upper_bound(first_element(c.hi))
                                                                : idx.lower_bound(first_element(c.hi))));
        auto it = std::make_reverse_iterator(base);
        auto last = idx.rend();
        for (; it != idx.rend() && want_more(); ++it) {
          if (!c.lo.empty()) {
            int cmp = formats::compare_values(it->first, first_element(c.lo));
            if (cmp < 0 || (cmp == 0 && !c.lo_inclusive)) {
              it = idx.rend();
              break;
            }
          }
          if (consider(view(it->second->second)) < 0) break;
          last = it;
        }
        if (last != idx.rend()) {
          c.last_id = single_value(last->first);
          c.started = true;
        }
        at_end = it == idx.rend();
        break;
      }
      case Cursor::Mode::kMaterialized: break;
    }
    if (!c.tailable) {
      c.exhausted = at_end || limit_hit();
      return {};
    }
    if (n > 0 || !c.await_data || await_ms <= 0 || shutting_down_) return {};
    RecordId seen = coll.last_record_id();
    bool woke = coll.inserted().wait_for(lock, std::chrono::milliseconds(await_ms),
                                         [&] { return coll.last_record_id() != seen || shutting_down_.load(); });
    if (!woke || shutting_down_) return {};
    await_ms = 0;  // one wait per getMore
  }
}

Expected<Bytes> Engine::cursor_reply(std::shared_ptr<Cursor> c, std::int64_t batch, bool first, bool single_batch,
                                     std::int64_t await_ms) {
  formats::Builder b;
  b.open_document("cursor");
  b.open_array(first ? "firstBatch" : "nextBatch");
  if (!(first && batch == 0)) {
    if (auto r = fill_batch(*c, b, batch, await_ms); !r) return r.error();
  }
  b.close();
  std::int64_t id = c->id;
  std::string ns = c->ns;
  if (c->exhausted || single_batch) {
    id = 0;
  } else if (first) {
    auto r = register_cursor(c);
    if (!r) return r.error();
    id = *r;
  } else {
    checkin_cursor(std::move(c));
  }
  b.append_int64("id", id);
  b.append_string("ns", ns);
  b.close();
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_get_more(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kInt64) return CmdError{code::kTypeMismatch, "getMore cursor id must be a long"};
  auto coll = get_string(ctx.cmd, "collection");
  if (!coll) return CmdError{code::kTypeMismatch, "getMore needs a 'collection' string"};
  std::int64_t id = ctx.arg.as_int64();
  std::string ns = std::string(ctx.db) + "." + std::string(*coll);
  auto c = checkout_cursor(id, ns);
  if (!c) return CmdError{code::kCursorNotFound, "cursor id " + std::to_string(id) + " not found"};
  std::int64_t batch = get_int(ctx.cmd, "batchSize").value_or(0);
  std::int64_t await_ms =
      c->await_data ? std::min<std::int64_t>(get_int(ctx.cmd, "maxTimeMS").value_or(1000), 60000) : 0;
  return cursor_reply(std::move(c), batch, false, false, await_ms);
}

Expected<Bytes> Engine::cmd_kill_cursors(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto ids = get_doc(ctx.cmd, "cursors");
  if (!ids) return CmdError{code::kFailedToParse, "killCursors needs a 'cursors' array"};
  std::string ns = std::string(ctx.db) + "." + std::string(*name);
  formats::Builder killed, missing;
  for (auto e : *ids) {
    if (e.type() != BsonType::kInt64) continue;
    auto c = checkout_cursor(e.as_int64(), ns);
    if (c)
      killed.append_int64(killed.next_array_key(), e.as_int64());
    else
      missing.append_int64(missing.next_array_key(), e.as_int64());
  }
  Bytes k = killed.finish(), m = missing.finish();
  formats::Builder b;
  b.append_array("cursorsKilled", DocView(k)).append_array("cursorsNotFound", DocView(m));
  b.open_array("cursorsAlive").close().open_array("cursorsUnknown").close();
  return finish_ok(b);
}

// ---------------------------------------------------------------------------------------------
// Reads

Expected<Bytes> Engine::cmd_find(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  DocView filter = get_doc(ctx.cmd, "filter").value_or(DocView());
  Bytes empty = formats::Builder().finish();
  if (filter.size() == 0 || (opts_.ignore_list_filters && name->starts_with("system."))) filter = DocView(empty);
  auto matcher = Matcher::compile(filter);
  if (!matcher) return matcher.error();
  auto projection = Projection::compile(get_doc(ctx.cmd, "projection").value_or(DocView(empty)));
  if (!projection) return projection.error();
  auto sort = SortSpec::compile(get_doc(ctx.cmd, "sort").value_or(DocView(empty)));
  if (!sort) return sort.error();
  std::int64_t skip = get_int(ctx.cmd, "skip").value_or(0);
  std::int64_t limit = get_int(ctx.cmd, "limit").value_or(0);
  if (skip < 0) return bad_value("skip value must be non-negative");
  bool single_batch = get_bool(ctx.cmd, "singleBatch");
  if (limit < 0) {
    single_batch = true;
    limit = -limit;
  }
  std::optional<std::int64_t> batch_opt = get_int(ctx.cmd, "batchSize");
  if (batch_opt && *batch_opt < 0) return bad_value("batchSize value must be non-negative");
  std::int64_t batch = batch_opt.value_or(kDefaultFirstBatch);
  bool tailable = get_bool(ctx.cmd, "tailable"), await_data = get_bool(ctx.cmd, "awaitData");

  auto c = std::make_shared<Cursor>();
  c->ns = std::string(ctx.db) + "." + std::string(*name);
  auto coll = catalog_.find(ctx.db, *name);
  if (!coll) {
    c->exhausted = true;
    return cursor_reply(c, batch, true, true, 0);
  }
  CollectionType type;
  bool capped;
  {
    std::shared_lock lock(coll->mutex());
    type = coll->type();
    capped = coll->capped();
  }
  if (type == CollectionType::kView) {
    // Find on a view: the view's pipeline, then the find's own stages.
    formats::Builder p;
    if (!filter.empty()) p.open_document("0").append_document("$match", filter).close();
    if (!sort->empty()) p.open_document(p.next_array_key()).append_document("$sort", *get_doc(ctx.cmd, "sort")).close();
    if (skip > 0) p.open_document(p.next_array_key()).append_int64("$skip", skip).close();
    if (limit > 0) p.open_document(p.next_array_key()).append_int64("$limit", limit).close();
    if (!projection->empty())
      p.open_document(p.next_array_key()).append_document("$project", *get_doc(ctx.cmd, "projection")).close();
    Bytes pipeline = p.finish();
    auto docs = run_pipeline(ctx.db, coll, DocView(pipeline), *name);
    if (!docs) return docs.error();
    c->docs = std::move(*docs);
    return cursor_reply(c, batch, true, single_batch, 0);
  }
  if (tailable && !capped)
    return bad_value("error processing query: tailable cursor requested on non capped collection");
  c->coll = coll;
  c->matcher = std::move(*matcher);
  c->projection = std::move(*projection);
  c->tailable = tailable;
  c->await_data = tailable && await_data;
  int kind = sort->simple_kind();
  bool has_id_index;
  {
    std::shared_lock lock(coll->mutex());
    has_id_index = coll->has_id_index();
  }
  IdBounds bounds = c->matcher.id_bounds();
  bool hint_id = false;
  if (ElementView h = ctx.cmd.find("hint"); h.valid()) {
    if (h.type() == BsonType::kString)
      hint_id = h.as_string() == "_id_";
    else if (h.type() == BsonType::kDocument)
      hint_id = h.as_document().find("_id").valid();
  }
  if (!sort->empty() && kind == 0) {
    std::vector<DocPtr> docs;
    {
      std::shared_lock lock(coll->mutex());
      scan_matching(*coll, c->matcher, [&](RecordMap::const_iterator it) {
        docs.push_back(it->second);
        return true;
      });
    }
    std::stable_sort(docs.begin(), docs.end(),
                     [&](const DocPtr& a, const DocPtr& b) { return sort->compare(view(a), view(b)) < 0; });
    auto from = std::min<std::size_t>(static_cast<std::size_t>(skip), docs.size());
    docs.erase(docs.begin(), docs.begin() + static_cast<std::ptrdiff_t>(from));
    if (limit > 0 && docs.size() > static_cast<std::size_t>(limit)) docs.resize(static_cast<std::size_t>(limit));
    c->docs = std::move(docs);
    c->mode = Cursor::Mode::kMaterialized;
    c->coll.reset();
  } else {
    if (kind == 2)
      c->mode = Cursor::Mode::kNatural;
    else if (kind == -2)
      c->mode = Cursor::Mode::kNaturalReverse;
    else if (has_id_index && (kind == 1 || kind == -1 || hint_id || bounds.bounded()))
      c->mode = kind == -1 ? Cursor::Mode::kIdDesc : Cursor::Mode::kIdAsc;
    else
      c->mode = Cursor::Mode::kNatural;
    // min/max: index bounds on the hinted {_id: 1} index ([min, max), no type bracketing), as
    // the real server takes them; dump uses them to split a collection into exact ranges.
    auto min_doc = get_doc(ctx.cmd, "min");
    auto max_doc = get_doc(ctx.cmd, "max");
    ElementView min_id = min_doc ? min_doc->find("_id") : ElementView();
    ElementView max_id = max_doc ? max_doc->find("_id") : ElementView();
    if ((min_doc || max_doc) && (!hint_id || !has_id_index))
      return bad_value("min and max need a hint of the {_id: 1} index here");
    if ((min_doc && (!min_id.valid() || min_doc->count() != 1)) ||
        (max_doc && (!max_id.valid() || max_doc->count() != 1)))
      return bad_value("min and max must be documents of the form {_id: <value>}");
    if (c->mode == Cursor::Mode::kIdAsc || c->mode == Cursor::Mode::kIdDesc) {
      if (bounds.lo.valid()) c->lo = single_value(bounds.lo), c->lo_inclusive = bounds.lo_inclusive;
      if (bounds.hi.valid()) c->hi = single_value(bounds.hi), c->hi_inclusive = bounds.hi_inclusive;
      // The tighter of the filter's bounds and min/max wins (the filter still applies to every
      // document, so a looser scan bound only costs time).
      if (min_id.valid() && (c->lo.empty() || formats::compare_values(first_element(c->lo), min_id) < 0)) {
        c->lo = single_value(min_id);
        c->lo_inclusive = true;
      }
      if (max_id.valid() && (c->hi.empty() || formats::compare_values(first_element(c->hi), max_id) >= 0)) {
        c->hi = single_value(max_id);
        c->hi_inclusive = false;
      }
    }
    c->skip = skip;
    c->limit = limit;
  }
  if (limit > 0 && c->mode == Cursor::Mode::kMaterialized) c->limit = 0;
  if (limit > 0 && batch_opt)
    batch = std::min(batch, limit);
  else if (limit > 0 && !batch_opt)
    batch = std::min<std::int64_t>(limit, kDefaultFirstBatch);
  return cursor_reply(c, batch, true, single_batch, 0);
}

Expected<Bytes> Engine::cmd_count(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  Bytes empty = formats::Builder().finish();
  auto m = Matcher::compile(get_doc(ctx.cmd, "query").value_or(DocView(empty)));
  if (!m) return m.error();
  std::int64_t skip = std::max<std::int64_t>(0, get_int(ctx.cmd, "skip").value_or(0));
  std::int64_t limit = std::abs(get_int(ctx.cmd, "limit").value_or(0));
  std::int64_t n = 0;
  if (auto coll = catalog_.find(ctx.db, *name)) {
    std::shared_lock lock(coll->mutex());
    if (m->empty()) {
      n = static_cast<std::int64_t>(coll->records().size());
    } else {
      scan_matching(*coll, *m, [&](RecordMap::const_iterator) {
        ++n;
        return true;
      });
    }
  }
  n = std::max<std::int64_t>(0, n - skip);
  if (limit > 0) n = std::min(n, limit);
  formats::Builder b;
  b.append_int32("n", static_cast<std::int32_t>(n));
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_distinct(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto key = get_string(ctx.cmd, "key");
  if (!key) return CmdError{code::kTypeMismatch, "distinct needs a 'key' string"};
  Bytes empty = formats::Builder().finish();
  auto m = Matcher::compile(get_doc(ctx.cmd, "query").value_or(DocView(empty)));
  if (!m) return m.error();
  std::map<Bytes, bool, DocLess> values;  // {"": v}, BSON order
  if (auto coll = catalog_.find(ctx.db, *name)) {
    std::shared_lock lock(coll->mutex());
    std::vector<ElementView> found;
    scan_matching(*coll, *m, [&](RecordMap::const_iterator it) {
      found.clear();
      collect_path_values(view(it->second), *key, found);
      for (auto& v : found)
        if (v.type() != BsonType::kArray) values.emplace(single_value(v), true);
      return true;
    });
  }
  formats::Builder b;
  b.open_array("values");
  for (auto& [v, unused] : values) b.append_element(b.next_array_key(), first_element(v));
  b.close();
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_aggregate(Ctx& ctx) {
  auto pipeline = get_doc(ctx.cmd, "pipeline");
  if (!pipeline || ctx.cmd.find("pipeline").type() != BsonType::kArray)
    return CmdError{code::kTypeMismatch, "'pipeline' option must be specified as an array"};
  auto cursor_opts = get_doc(ctx.cmd, "cursor");
  if (!cursor_opts && !get_bool(ctx.cmd, "explain"))
    return CmdError{code::kFailedToParse,
                    "The 'cursor' option is required, except for aggregate with the explain "
                    "argument"};
  std::string_view name;
  std::shared_ptr<Collection> coll;
  if (ctx.arg.type() == BsonType::kString) {
    name = ctx.arg.as_string();
    coll = catalog_.find(ctx.db, name);
  } else if (!is_numeric(ctx.arg) || ctx.arg.number_as_double() != 1) {
    return CmdError{code::kFailedToParse, "aggregate needs a collection name or 1"};
  }
  auto docs = run_pipeline(ctx.db, coll, *pipeline, name);
  if (!docs) return docs.error();
  auto c = std::make_shared<Cursor>();
  c->ns = std::string(ctx.db) + "." + (name.empty() ? std::string("$cmd.aggregate") : std::string(name));
  c->docs = std::move(*docs);
  std::int64_t batch = kDefaultFirstBatch;
  if (cursor_opts)
    if (auto bs = get_int(*cursor_opts, "batchSize")) batch = *bs;
  return cursor_reply(c, batch, true, false, 0);
}

}  // namespace bsonpipe::minimongod
