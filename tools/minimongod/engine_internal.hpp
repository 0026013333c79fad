// Shared between the engine's source files: the per-command context, cursors, small BSON helpers.
#pragma once

#include <chrono>
#include <optional>

#include "tools/minimongod/engine.hpp"

namespace bsonpipe::minimongod {

struct Engine::Ctx {
  Session& session;
  const CommandRequest& req;
  DocView cmd;
  std::string_view name;  // the command name (first key)
  std::string_view db;    // $db
  ElementView arg;        // the first element (collection name, 1, ...)

  // Documents of a kind-1 sequence with this identifier, then those of the body array `field`.
  Expected<std::vector<DocView>> documents(std::string_view field) const;
};

struct Cursor {
  enum class Mode { kNatural, kNaturalReverse, kIdAsc, kIdDesc, kMaterialized };
  std::int64_t id = 0;
  std::string ns;
  std::shared_ptr<Collection> coll;  // live scans
  Mode mode = Mode::kMaterialized;
  Matcher matcher;
  Projection projection;
  bool started = false;
  RecordId last_record = 0;  // natural order position
  Bytes last_id;             // {"": v}: _id order position
  Bytes lo, hi;              // {"": v} bounds of an _id scan, empty = unbounded
  bool lo_inclusive = true;
  bool hi_inclusive = true;
  std::vector<DocPtr> docs;  // materialized results (sorted finds, aggregates, listings)
  std::size_t pos = 0;
  std::int64_t skip = 0;
  std::int64_t limit = 0;  // 0 = none
  std::int64_t returned = 0;
  bool tailable = false;
  bool await_data = false;
  bool exhausted = false;
};

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline bool is_numeric(const ElementView& e) {
  return e.valid() && (e.type() == BsonType::kInt32 || e.type() == BsonType::kInt64 || e.type() == BsonType::kDouble);
}

inline std::optional<std::int64_t> get_int(DocView d, std::string_view key) {
  ElementView e = d.find(key);
  if (!is_numeric(e)) return std::nullopt;
  if (e.type() == BsonType::kInt64) return e.as_int64();
  if (e.type() == BsonType::kInt32) return e.as_int32();
  return static_cast<std::int64_t>(e.as_double());
}

inline bool get_bool(DocView d, std::string_view key, bool dflt = false) {
  ElementView e = d.find(key);
  if (!e.valid()) return dflt;
  if (e.type() == BsonType::kBool) return e.as_bool();
  if (is_numeric(e)) return e.number_as_double() != 0;
  if (e.type() == BsonType::kNull) return false;
  return dflt;
}

inline std::optional<std::string_view> get_string(DocView d, std::string_view key) {
  ElementView e = d.find(key);
  if (!e.valid() || e.type() != BsonType::kString) return std::nullopt;
  return e.as_string();
}

inline std::optional<DocView> get_doc(DocView d, std::string_view key) {
  ElementView e = d.find(key);
  if (!e.valid() || (e.type() != BsonType::kDocument && e.type() != BsonType::kArray)) return std::nullopt;
  return e.as_document();
}

// {"": value} holding a copy of one element's value.
inline Bytes single_value(const ElementView& e) {
  formats::Builder b;
  b.append_element("", e);
  return b.finish();
}

inline ElementView first_element(const Bytes& doc) {
  return *DocView(doc).begin();
}

inline Bytes finish_ok(formats::Builder& b) {
  b.append_double("ok", 1.0);
  return b.finish();
}

inline Bytes ok_only() {
  formats::Builder b;
  return finish_ok(b);
}

inline void append_uuid(formats::Builder& b, std::string_view key, const Uuid& u) {
  b.append_binary(key, 4, formats::ByteSpan(u.data(), u.size()));
}

// Splits "db.coll" at the first dot.
inline std::pair<std::string_view, std::string_view> split_ns(std::string_view ns) {
  auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {ns, {}};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

// size, count, avgObjSize, storageSize, nindexes, indexSizes, capped (collStats / $collStats).
// The caller holds the collection's lock.
void append_storage_stats(formats::Builder& b, const Collection& c);

// The collection name argument of a command (the first element must be a non-empty string).
Expected<std::string_view> collection_arg(const Engine::Ctx& ctx);

// Why a real server refuses db.coll as the namespace of a new collection (InvalidNamespace), or
// nullopt when it accepts it (engine_catalog.cpp).
std::optional<CmdError> invalid_namespace(std::string_view db, std::string_view coll);

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

}  // namespace bsonpipe::minimongod
