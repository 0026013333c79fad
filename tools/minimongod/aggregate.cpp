// The aggregation stages minimongod supports: $match, $sort, $limit, $skip, $sample, $project,
// $count, $group ($sum/$avg/$min/$max/$first/$last/$push), $collStats (first stage), over views too.
#include <algorithm>
#include <map>
#include <random>

#include "tools/minimongod/engine_internal.hpp"

namespace bsonpipe::minimongod {

namespace {

constexpr int kMaxViewDepth = 20;

// Appends the value of an expression ("$path", a literal, or an object of expressions) as `key`.
// Missing paths append nothing and return false.
bool append_expr(formats::Builder& b, std::string_view key, DocView doc, const ElementView& expr) {
  if (expr.type() == BsonType::kString && !expr.as_string().empty() && expr.as_string()[0] == '$') {
    ElementView v = doc.find_path(expr.as_string().substr(1));
    if (!v.valid()) return false;
    b.append_element(key, v);
    return true;
  }
  if (expr.type() == BsonType::kDocument) {
    b.open_document(key);
    for (auto f : expr.as_document())
      if (!append_expr(b, f.key(), doc, f)) b.append_null(f.key());
    b.close();
    return true;
  }
  b.append_element(key, expr);
  return true;
}

// The value of an expression as {"": v} (null when missing).
Bytes eval_expr(DocView doc, const ElementView& expr) {
  formats::Builder b;
  if (!append_expr(b, "", doc, expr)) b.append_null("");
  return b.finish();
}

struct Accumulator {
  std::string field;
  std::string op;
  ElementView expr;
};

struct GroupState {
  Bytes id;                   // {"": key}
  std::vector<Bytes> values;  // per accumulator: {"": v} or empty
  std::vector<double> sums;   // $sum / $avg
  std::vector<std::int64_t> int_sums;
  std::vector<bool> sum_is_double;
  std::vector<std::int64_t> counts;
  std::vector<std::vector<Bytes>> pushes;
};

Expected<std::vector<DocPtr>> group_stage(const std::vector<DocPtr>& in, DocView spec) {
  ElementView id_expr = spec.find("_id");
  if (!id_expr.valid()) return CmdError{15955, "a group specification must include an _id"};
  std::vector<Accumulator> accs;
  for (auto f : spec) {
    if (f.key() == "_id") continue;
    if (f.type() != BsonType::kDocument || f.as_document().count() != 1)
      return CmdError{40234, "The field '" + std::string(f.key()) + "' must be an accumulator object"};
    auto a = *f.as_document().begin();
    std::string op(a.key());
    if (op != "$sum" && op != "$avg" && op != "$min" && op != "$max" && op != "$first" && op != "$last" &&
        op != "$push")
      return CmdError{15952, "unknown group operator '" + op + "'"};
    accs.push_back({std::string(f.key()), op, a});
  }
  std::map<Bytes, GroupState, DocLess> groups;
  std::vector<const Bytes*> order;
  for (auto& p : in) {
    DocView d = view(p);
    Bytes key = eval_expr(d, id_expr);
    auto [it, fresh] = groups.try_emplace(key);
    GroupState& g = it->second;
    if (fresh) {
      g.id = key;
      g.values.resize(accs.size());
      g.sums.assign(accs.size(), 0);
      g.int_sums.assign(accs.size(), 0);
      g.sum_is_double.assign(accs.size(), false);
      g.counts.assign(accs.size(), 0);
      g.pushes.resize(accs.size());
      order.push_back(&it->first);
    }
    for (std::size_t i = 0; i < accs.size(); ++i) {
      auto& a = accs[i];
      Bytes v = eval_expr(d, a.expr);
      ElementView ev = first_element(v);
      bool missing = ev.type() == BsonType::kNull && a.expr.type() == BsonType::kString;
      if (a.op == "$sum" || a.op == "$avg") {
        if (!is_numeric(ev)) continue;
        ++g.counts[i];
        if (ev.type() == BsonType::kDouble) g.sum_is_double[i] = true;
        g.sums[i] += ev.number_as_double();
        g.int_sums[i] +=
            ev.type() == BsonType::kInt32 ? ev.as_int32() : (ev.type() == BsonType::kInt64 ? ev.as_int64() : 0);
      } else if (a.op == "$first") {
        if (g.counts[i]++ == 0) g.values[i] = std::move(v);
      } else if (a.op == "$last") {
        g.values[i] = std::move(v);
      } else if (a.op == "$push") {
        if (!missing) g.pushes[i].push_back(std::move(v));
      } else if (!missing) {
        if (g.values[i].empty()) {
          g.values[i] = std::move(v);
        } else {
          int c = formats::compare_values(ev, first_element(g.values[i]));
          if ((a.op == "$min" && c < 0) || (a.op == "$max" && c > 0)) g.values[i] = std::move(v);
        }
      }
    }
  }
  std::vector<DocPtr> out;
  out.reserve(groups.size());
  for (auto* key : order) {
    GroupState& g = groups.at(*key);
    formats::Builder b;
    b.append_element("_id", first_element(g.id));
    for (std::size_t i = 0; i < accs.size(); ++i) {
      auto& a = accs[i];
      if (a.op == "$sum") {
        if (g.sum_is_double[i])
          b.append_double(a.field, g.sums[i]);
        else if (g.int_sums[i] >= INT32_MIN && g.int_sums[i] <= INT32_MAX)
          b.append_int32(a.field, static_cast<std::int32_t>(g.int_sums[i]));
        else
          b.append_int64(a.field, g.int_sums[i]);
      } else if (a.op == "$avg") {
        if (g.counts[i])
          b.append_double(a.field, g.sums[i] / static_cast<double>(g.counts[i]));
        else
          b.append_null(a.field);
      } else if (a.op == "$push") {
        b.open_array(a.field);
        for (auto& v : g.pushes[i]) b.append_element(b.next_array_key(), first_element(v));
        b.close();
      } else if (g.values[i].empty()) {
        b.append_null(a.field);
      } else {
        b.append_element(a.field, first_element(g.values[i]));
      }
    }
    out.push_back(std::make_shared<const Bytes>(b.finish()));
  }
  return out;
}

CmdError unrecognized(std::string_view stage) {
  return CmdError{40324, "Unrecognized pipeline stage name: '" + std::string(stage) + "'"};
}

}  // namespace

Expected<std::vector<DocPtr>> Engine::run_pipeline(std::string_view db, std::shared_ptr<Collection> coll,
                                                   DocView pipeline, std::string_view coll_name) {
  // Resolve views into their source collection and the concatenated pipelines.
  std::vector<Bytes> stages;
  for (auto e : pipeline) {
    if (e.type() != BsonType::kDocument || e.as_document().count() != 1)
      return CmdError{40323, "A pipeline stage specification object must contain exactly one field."};
    stages.emplace_back(e.as_document().bytes().begin(), e.as_document().bytes().end());
  }
  for (int depth = 0; coll; ++depth) {
    std::shared_lock lock(coll->mutex());
    if (coll->type() != CollectionType::kView) break;
    if (depth > kMaxViewDepth) return CmdError{code::kBadValue, "view depth too deep"};
    DocView opts(coll->options());
    std::vector<Bytes> view_stages;
    if (auto p = get_doc(opts, "pipeline"))
      for (auto e : *p)
        if (e.type() == BsonType::kDocument)
          view_stages.emplace_back(e.as_document().bytes().begin(), e.as_document().bytes().end());
    stages.insert(stages.begin(), view_stages.begin(), view_stages.end());
    std::string src(get_string(opts, "viewOn").value_or(""));
    lock.unlock();
    coll = catalog_.find(db, src);
  }

  std::vector<DocPtr> docs;
  std::size_t next = 0;
  if (!stages.empty() && (*DocView(stages[0]).begin()).key() == "$collStats") {
    if (!coll)
      return CmdError{code::kNamespaceNotFound,
                      "Collection [" + std::string(db) + "." + std::string(coll_name) + "] not found."};
    formats::Builder b;
    std::shared_lock lock(coll->mutex());
    b.append_string("ns", coll->ns());
    std::string host;
    {
      std::lock_guard hl(host_mu_);
      host = host_;
    }
    b.append_string("host", host).append_datetime("localTime", now_ms());
    auto spec = (*DocView(stages[0]).begin());
    if (spec.type() == BsonType::kDocument && spec.as_document().find("storageStats").valid()) {
      b.open_document("storageStats");
      append_storage_stats(b, *coll);
      b.close();
    }
    if (spec.type() == BsonType::kDocument && spec.as_document().find("count").valid())
      b.append_int64("count", static_cast<std::int64_t>(coll->records().size()));
    docs.push_back(std::make_shared<const Bytes>(b.finish()));
    next = 1;
  } else if (coll) {
    // A leading $match runs as the scan's filter.
    Bytes empty = formats::Builder().finish();
    Matcher m;
    if (!stages.empty()) {
      auto first = *DocView(stages[0]).begin();
      if (first.key() == "$match" && first.type() == BsonType::kDocument) {
        auto mm = Matcher::compile(first.as_document());
        if (!mm) return mm.error();
        m = std::move(*mm);
        next = 1;
      }
    }
    std::shared_lock lock(coll->mutex());
    for (auto& [rid, doc] : coll->records())
      if (m.matches(view(doc))) docs.push_back(doc);
  }

  for (; next < stages.size(); ++next) {
    ElementView st = *DocView(stages[next]).begin();
    std::string_view name = st.key();
    if (name == "$match") {
      if (st.type() != BsonType::kDocument)
        return CmdError{15959, "the match filter must be an expression in an object"};
      auto m = Matcher::compile(st.as_document());
      if (!m) return m.error();
      std::erase_if(docs, [&](const DocPtr& d) { return !m->matches(view(d)); });
    } else if (name == "$sort") {
      if (st.type() != BsonType::kDocument) return CmdError{15973, "the $sort key specification must be an object"};
      auto s = SortSpec::compile(st.as_document());
      if (!s) return s.error();
      std::stable_sort(docs.begin(), docs.end(),
                       [&](const DocPtr& a, const DocPtr& b) { return s->compare(view(a), view(b)) < 0; });
    } else if (name == "$limit" || name == "$skip" || name == "$sample") {
      ElementView n = name == "$sample" && st.type() == BsonType::kDocument ? st.as_document().find("size") : st;
      if (!is_numeric(n) || n.number_as_double() < 0)
        return CmdError{15957, std::string(name) + " needs a non-negative number"};
      auto k = static_cast<std::size_t>(n.number_as_double());
      if (name == "$limit") {
        if (docs.size() > k) docs.resize(k);
      } else if (name == "$skip") {
        docs.erase(docs.begin(), docs.begin() + static_cast<std::ptrdiff_t>(std::min(k, docs.size())));
      } else {
        std::mt19937_64 rng(std::random_device{}());
        std::shuffle(docs.begin(), docs.end(), rng);
        if (docs.size() > k) docs.resize(k);
      }
    } else if (name == "$project") {
      if (st.type() != BsonType::kDocument) return CmdError{15969, "$project specification must be an object"};
      auto p = Projection::compile(st.as_document());
      if (!p) return p.error();
      for (auto& d : docs) d = std::make_shared<const Bytes>(p->apply(view(d)));
    } else if (name == "$count") {
      if (st.type() != BsonType::kString || st.as_string().empty())
        return CmdError{40156, "the count field must be a non-empty string"};
      auto n = docs.size();
      docs.clear();
      if (n > 0) {
        formats::Builder b;
        b.append_int32(st.as_string(), static_cast<std::int32_t>(n));
        docs.push_back(std::make_shared<const Bytes>(b.finish()));
      }
    } else if (name == "$group") {
      if (st.type() != BsonType::kDocument) return CmdError{15947, "a group's fields must be specified in an object"};
      auto g = group_stage(docs, st.as_document());
      if (!g) return g.error();
      docs = std::move(*g);
    } else if (name == "$collStats") {
      return CmdError{40602, "$collStats is only valid as the first stage in a pipeline"};
    } else {
      return unrecognized(name);
    }
  }
  return docs;
}

}  // namespace bsonpipe::minimongod
