// The query language over raw BSON: filters (comparison in BSON type order with type bracketing,
// arrays matched element-wise as MongoDB does), projections, sort orders and updates.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "tools/minimongod/errors.hpp"

namespace bsonpipe::minimongod {

using formats::BsonType;
using formats::Bytes;
using formats::DocView;
using formats::ElementView;

// An element holding a BSON null, for missing sort keys and the like.
ElementView null_element();

// Values reached by a dotted path, MongoDB style: an array met on the way fans out over its
// elements; an array at the end yields itself and each of its elements.
void collect_path_values(DocView doc, std::string_view path, std::vector<ElementView>& out);

// Bounds on the top-level _id that a filter implies (for scans over the _id index).
struct IdBounds {
  ElementView lo;  // invalid = unbounded
  ElementView hi;
  bool lo_inclusive = true;
  bool hi_inclusive = true;
  bool bounded() const { return lo.valid() || hi.valid(); }
};

// A compiled filter. Owns a copy of the filter bytes, so it may outlive the request.
class Matcher {
 public:
  Matcher() = default;
  static Expected<Matcher> compile(DocView filter);
  bool matches(DocView doc) const;
  bool empty() const { return empty_; }
  IdBounds id_bounds() const;

  struct Node;

 private:
  std::shared_ptr<const Bytes> owned_;
  std::shared_ptr<const Node> root_;
  bool empty_ = true;
};

// Inclusion or exclusion projection over (possibly dotted) fields.
class Projection {
 public:
  Projection() = default;
  static Expected<Projection> compile(DocView spec);
  bool empty() const { return root_ == nullptr; }
  Bytes apply(DocView doc) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  bool inclusion_ = false;
  bool keep_id_ = true;
};

// A sort order on one or more fields; missing values sort as null.
class SortSpec {
 public:
  static Expected<SortSpec> compile(DocView spec);
  bool empty() const { return keys_.empty(); }
  // <0, 0, >0 like compare_values.
  int compare(DocView a, DocView b) const;
  // {_id: 1} or {_id: -1}: 1 / -1; {$natural: 1|-1}: 2 / -2; otherwise 0.
  int simple_kind() const;

 private:
  std::vector<std::pair<std::string, int>> keys_;
};

// Applies an update document (operators $set/$unset/$inc/$setOnInsert or a replacement) to `doc`.
// The _id is kept; a replacement that changes _id is an error.
Expected<Bytes> apply_update(DocView doc, DocView update, bool is_insert = false);
// True when the update is made of $-operators (false for a replacement document).
bool is_operator_update(DocView update);
// The document an upsert starts from: the filter's top-level equality fields.
Bytes upsert_seed(DocView filter);

}  // namespace bsonpipe::minimongod
