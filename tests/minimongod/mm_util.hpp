// Test helpers for minimongod: relaxed JSON -> BSON (via Boost.JSON, independent of our own
// Extended JSON code) and reply accessors.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "tools/minimongod/engine.hpp"

namespace bsonpipe::minimongod::test {

using formats::Builder;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;

inline void append_json(Builder& b, std::string_view key, const boost::json::value& v);

inline void append_object(Builder& b, const boost::json::object& o) {
  for (auto& [k, v] : o) append_json(b, std::string_view(k.data(), k.size()), v);
}

inline void append_json(Builder& b, std::string_view key, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: b.append_null(key); break;
    case boost::json::kind::bool_: b.append_bool(key, v.get_bool()); break;
    case boost::json::kind::int64: {
      auto x = v.get_int64();
      if (x >= INT32_MIN && x <= INT32_MAX)
        b.append_int32(key, static_cast<std::int32_t>(x));
      else
        b.append_int64(key, x);
      break;
    }
    case boost::json::kind::uint64: b.append_int64(key, static_cast<std::int64_t>(v.get_uint64())); break;
    case boost::json::kind::double_: b.append_double(key, v.get_double()); break;
    case boost::json::kind::string: {
      auto& s = v.get_string();
      b.append_string(key, std::string_view(s.data(), s.size()));
      break;
    }
    case boost::json::kind::array: {
      b.open_array(key);
      for (auto& e : v.get_array()) append_json(b, b.next_array_key(), e);
      b.close();
      break;
    }
    case boost::json::kind::object: {
      auto& o = v.get_object();
      if (o.size() == 1 && o.contains("$oid")) {
        auto hex = o.at("$oid").get_string();
        formats::ObjectId oid{};
        for (int i = 0; i < 12; ++i)
          oid[i] = static_cast<std::uint8_t>(std::stoi(std::string(hex.subview(2 * i, 2)), nullptr, 16));
        b.append_object_id(key, oid);
      } else if (o.size() == 1 && o.contains("$date")) {
        b.append_datetime(key, o.at("$date").as_int64());
      } else if (o.size() == 1 && o.contains("$numberLong")) {
        b.append_int64(key, std::stoll(std::string(o.at("$numberLong").get_string())));
      } else if (o.size() == 1 && o.contains("$minKey")) {
        b.append_min_key(key);
      } else if (o.size() == 1 && o.contains("$maxKey")) {
        b.append_max_key(key);
      } else {
        b.open_document(key);
        append_object(b, o);
        b.close();
      }
      break;
    }
  }
}

// JSON text (relaxed: single quotes not allowed) to BSON.
inline Bytes J(std::string_view json) {
  Builder b;
  append_object(b, boost::json::parse(json).as_object());
  return b.finish();
}

inline double num(DocView d, std::string_view key) {
  ElementView e = d.find_path(key);
  return e.valid() ? e.number_as_double() : -1;
}

// Runs a command given as JSON (with "$db" added) and returns the reply.
inline Bytes run(Engine& e, Session& s, std::string_view json, std::string_view db = "test") {
  Bytes body = J(json);
  Builder b;
  for (auto el : DocView(body)) b.append_raw_element(el.raw());
  b.append_string("$db", db);
  Bytes full = b.finish();
  return e.run(s, DocView(full));
}

inline bool ok(const Bytes& reply) {
  return num(DocView(reply), "ok") == 1;
}

inline int code(const Bytes& reply) {
  return static_cast<int>(num(DocView(reply), "code"));
}

// The documents of cursor.firstBatch / cursor.nextBatch.
inline std::vector<Bytes> batch(const Bytes& reply) {
  std::vector<Bytes> out;
  DocView r(reply);
  ElementView c = r.find("cursor");
  if (!c.valid()) return out;
  ElementView arr = c.as_document().find("firstBatch");
  if (!arr.valid()) arr = c.as_document().find("nextBatch");
  for (auto e : arr.as_document()) out.emplace_back(e.as_document().bytes().begin(), e.as_document().bytes().end());
  return out;
}

inline std::int64_t cursor_id(const Bytes& reply) {
  ElementView c = DocView(reply).find("cursor");
  return c.valid() ? c.as_document().find("id").as_int64() : -1;
}

// Values of `field` in each document, rendered (ints as numbers, strings quoted).
inline std::vector<std::string> field_values(const std::vector<Bytes>& docs, std::string_view field) {
  std::vector<std::string> out;
  for (auto& d : docs) {
    ElementView e = DocView(d).find_path(field);
    out.push_back(e.valid() ? render_value(e) : "<missing>");
  }
  return out;
}

}  // namespace bsonpipe::minimongod::test
