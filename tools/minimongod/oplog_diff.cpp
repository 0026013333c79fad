#include "tools/minimongod/oplog_diff.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace bsonpipe::minimongod {

using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;

namespace {

bool same(const ElementView& a, const ElementView& b) {
  auto x = a.raw(), y = b.raw();
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
}

// Array diffs ({"a": true, "u0": ...}) at any depth: refused as a whole, before anything is applied.
bool has_array_diff(DocView diff) {
  if (diff.find("a").valid()) return true;
  for (auto e : diff)
    if (e.key().size() > 1 && e.key()[0] == 's' && e.type() == BsonType::kDocument && has_array_diff(e.as_document()))
      return true;
  return false;
}

// Applies one level of a diff to `doc` into `out` (the caller opened/closes the enclosing document).
Expected<bool> apply_level(DocView doc, DocView diff, Builder& out) {
  auto section = [&](std::string_view k) {
    auto e = diff.find(k);
    return e.valid() && e.type() == BsonType::kDocument ? e.as_document() : DocView();
  };
  DocView d = section("d"), u = section("u"), ins = section("i");
  bool has_d = !d.bytes().empty(), has_u = !u.bytes().empty(), has_i = !ins.bytes().empty();
  for (auto e : doc) {
    std::string_view k = e.key();
    if (has_d && d.find(k).valid()) continue;
    if (has_i && ins.find(k).valid()) continue;  // re-inserted at the end
    if (has_u) {
      if (auto nv = u.find(k); nv.valid()) {
        out.append_element(k, nv);
        continue;
      }
    }
    auto sub = diff.find("s" + std::string(k));
    if (sub.valid() && sub.type() == BsonType::kDocument && e.type() == BsonType::kDocument) {
      out.open_document(k);
      auto r = apply_level(e.as_document(), sub.as_document(), out);
      if (!r) return r.error();
      out.close();
      continue;
    }
    out.append_raw_element(e.raw());
  }
  // Fields "u" names that the document lacks (the entry re-applied to an older image) go at the end.
  if (has_u)
    for (auto nv : u)
      if (!doc.find(nv.key()).valid()) out.append_raw_element(nv.raw());
  if (has_i)
    for (auto nv : ins) out.append_raw_element(nv.raw());
  return true;
}

}  // namespace

std::optional<Bytes> make_v2_update(DocView before, DocView after) {
  std::vector<ElementView> kept;
  Builder d, u, i;
  bool any_d = false, any_u = false, any_i = false;
  for (auto e : before) {
    auto n = after.find(e.key());
    if (!n.valid()) {
      d.append_bool(e.key(), false);
      any_d = true;
      continue;
    }
    if (e.key() == "_id" && !same(e, n)) return std::nullopt;
    kept.push_back(e);
  }
  // `after` must be the kept fields in their order, then the new ones.
  std::size_t idx = 0;
  for (auto n : after) {
    if (idx < kept.size()) {
      if (kept[idx].key() != n.key()) return std::nullopt;
      if (!same(kept[idx], n)) {
        u.append_raw_element(n.raw());
        any_u = true;
      }
      ++idx;
      continue;
    }
    i.append_raw_element(n.raw());
    any_i = true;
  }
  Builder out;
  out.append_int32("$v", 2).open_document("diff");
  if (any_d) out.append_document("d", DocView(d.finish()));
  if (any_u) out.append_document("u", DocView(u.finish()));
  if (any_i) out.append_document("i", DocView(i.finish()));
  out.close();
  return out.finish();
}

bool is_v2_update(DocView o) {
  auto v = o.find("$v");
  auto diff = o.find("diff");
  return v.valid() && v.number_as_double() == 2 && diff.valid() && diff.type() == BsonType::kDocument;
}

Expected<Bytes> apply_v2_update(DocView doc, DocView o) {
  DocView diff = o.find("diff").as_document();
  if (has_array_diff(diff)) return CmdError{code::kCommandNotSupported, "$v:2 array diffs are not supported"};
  Builder out;
  auto r = apply_level(doc, diff, out);
  if (!r) return r.error();
  return out.finish();
}

}  // namespace bsonpipe::minimongod
