// Cursors of minimongod's engine: registration, checkout, batches (tailable awaitData on the
// oplog included), getMore and killCursors. Split from engine_crud.cpp.
#include <algorithm>
#include <map>
#include <optional>

#include "tools/minimongod/engine_internal.hpp"

namespace bsonpipe::minimongod {

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

}  // namespace bsonpipe::minimongod
