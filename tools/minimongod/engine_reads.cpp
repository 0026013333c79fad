// Reads of minimongod's engine: find, count, distinct, aggregate. Split from engine_crud.cpp.
#include <algorithm>
#include <map>
#include <optional>

#include "tools/minimongod/engine_internal.hpp"

namespace bsonpipe::minimongod {

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
