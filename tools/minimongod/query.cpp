#include "tools/minimongod/query.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <regex>

namespace bsonpipe::minimongod {

namespace {

constexpr std::array<std::uint8_t, 8> kNullDoc = {8, 0, 0, 0, 0x0A, 0, 0, 0};  // {"": null}
constexpr std::array<std::uint8_t, 5> kEmptyDoc = {5, 0, 0, 0, 0};

DocView empty_doc() {
  return DocView(kEmptyDoc.data(), kEmptyDoc.size());
}

bool is_number(BsonType t) {
  return t == BsonType::kInt32 || t == BsonType::kInt64 || t == BsonType::kDouble || t == BsonType::kDecimal128;
}

bool is_operator_doc(const ElementView& e) {
  if (e.type() != BsonType::kDocument) return false;
  auto d = e.as_document();
  auto it = d.begin();
  return it != d.end() && !(*it).key().empty() && (*it).key()[0] == '$';
}

bool truthy(const ElementView& e) {
  switch (e.type()) {
    case BsonType::kBool: return e.as_bool();
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDouble: return e.number_as_double() != 0;
    case BsonType::kNull:
    case BsonType::kUndefined: return false;
    default: return true;
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::regex::flag_type regex_flags(std::string_view options) {
  auto f = std::regex::ECMAScript;
  if (options.find('i') != std::string_view::npos) f |= std::regex::icase;
  return f;
}

}  // namespace

ElementView null_element() {
  return *DocView(kNullDoc.data(), kNullDoc.size()).begin();
}

void collect_path_values(DocView doc, std::string_view path, std::vector<ElementView>& out) {
  auto dot = path.find('.');
  ElementView e = doc.find(path.substr(0, dot));
  if (!e.valid()) return;
  if (dot == std::string_view::npos) {
    out.push_back(e);
    if (e.type() == BsonType::kArray)
      for (auto c : e.as_document()) out.push_back(c);
    return;
  }
  auto rest = path.substr(dot + 1);
  if (e.type() == BsonType::kDocument) {
    collect_path_values(e.as_document(), rest, out);
  } else if (e.type() == BsonType::kArray) {
    auto next = rest.substr(0, rest.find('.'));
    if (all_digits(next)) collect_path_values(e.as_document(), rest, out);
    for (auto c : e.as_document())
      if (c.type() == BsonType::kDocument) collect_path_values(c.as_document(), rest, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Filters

struct Matcher::Node {
  enum class Kind { kAnd, kOr, kNor, kNot, kLeaf };
  enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kNin, kExists, kType, kRegex, kSize, kAll };
  Kind kind = Kind::kAnd;
  Op op = Op::kEq;
  std::string path;
  ElementView arg;
  std::vector<ElementView> list;
  std::vector<Node> children;
  std::shared_ptr<const std::regex> re;
  std::vector<int> types;  // -1 = "number"
  std::int64_t size = 0;
};

namespace {

using Node = Matcher::Node;
using Op = Node::Op;

Expected<Node> compile_doc(DocView filter);

Expected<Node> leaf(std::string_view path, Op op, ElementView arg) {
  Node n;
  n.kind = Node::Kind::kLeaf;
  n.op = op;
  n.path = std::string(path);
  n.arg = arg;
  if (arg.type() == BsonType::kRegex && (op == Op::kEq || op == Op::kRegex)) {
    auto r = arg.as_regex();
    n.op = Op::kRegex;
    try {
      n.re = std::make_shared<const std::regex>(std::string(r.pattern), regex_flags(r.options));
    } catch (const std::regex_error&) {
      return bad_value("invalid regular expression: " + std::string(r.pattern));
    }
  }
  return n;
}

int type_alias(std::string_view s) {
  static constexpr std::pair<std::string_view, int> kAliases[] = {
      {"double", 1},      {"string", 2},   {"object", 3},  {"array", 4},      {"binData", 5}, {"undefined", 6},
      {"objectId", 7},    {"bool", 8},     {"date", 9},    {"null", 10},      {"regex", 11},  {"dbPointer", 12},
      {"javascript", 13}, {"symbol", 14},  {"int", 16},    {"timestamp", 17}, {"long", 18},   {"decimal", 19},
      {"minKey", -2},     {"maxKey", 127}, {"number", -1},
  };
  for (auto& [name, t] : kAliases)
    if (name == s) return t == -2 ? 255 : t;
  return 0;
}

Expected<Node> compile_field(std::string_view path, ElementView value) {
  if (!is_operator_doc(value)) return leaf(path, Op::kEq, value);
  Node all;
  all.kind = Node::Kind::kAnd;
  auto ops = value.as_document();
  ElementView options = ops.find("$options");
  for (auto e : ops) {
    auto name = e.key();
    Expected<Node> n = Node{};
    if (name == "$eq")
      n = leaf(path, Op::kEq, e);
    else if (name == "$ne")
      n = leaf(path, Op::kNe, e);
    else if (name == "$gt")
      n = leaf(path, Op::kGt, e);
    else if (name == "$gte")
      n = leaf(path, Op::kGte, e);
    else if (name == "$lt")
      n = leaf(path, Op::kLt, e);
    else if (name == "$lte")
      n = leaf(path, Op::kLte, e);
    else if (name == "$in" || name == "$nin" || name == "$all") {
      if (e.type() != BsonType::kArray) return bad_value(std::string(name) + " needs an array");
      n = leaf(path, name == "$in" ? Op::kIn : (name == "$nin" ? Op::kNin : Op::kAll), e);
      for (auto c : e.as_document()) {
        if (c.type() == BsonType::kRegex)
          return bad_value("regular expressions in " + std::string(name) + " are not supported");
        n->list.push_back(c);
      }
    } else if (name == "$exists") {
      n = leaf(path, Op::kExists, e);
    } else if (name == "$type") {
      n = leaf(path, Op::kType, e);
      auto add = [&](const ElementView& t) -> Done {
        if (t.type() == BsonType::kString) {
          int a = type_alias(t.as_string());
          if (a == 0) return bad_value("unknown type name alias: " + std::string(t.as_string()));
          n->types.push_back(a);
        } else if (is_number(t.type())) {
          n->types.push_back(static_cast<int>(t.number_as_double()));
        } else {
          return bad_value("type must be represented as a number or a string");
        }
        return {};
      };
      if (e.type() == BsonType::kArray) {
        for (auto t : e.as_document())
          if (auto d = add(t); !d) return d.error();
      } else if (auto d = add(e); !d) {
        return d.error();
      }
    } else if (name == "$regex") {
      Node r;
      r.kind = Node::Kind::kLeaf;
      r.op = Op::kRegex;
      r.path = std::string(path);
      std::string pattern, opts;
      if (e.type() == BsonType::kRegex) {
        pattern = e.as_regex().pattern;
        opts = e.as_regex().options;
      } else if (e.type() == BsonType::kString) {
        pattern = e.as_string();
      } else {
        return bad_value("$regex has to be a string");
      }
      if (options.valid() && options.type() == BsonType::kString) opts += options.as_string();
      try {
        r.re = std::make_shared<const std::regex>(pattern, regex_flags(opts));
      } catch (const std::regex_error&) {
        return bad_value("invalid regular expression: " + pattern);
      }
      n = std::move(r);
    } else if (name == "$options") {
      continue;
    } else if (name == "$size") {
      if (!is_number(e.type())) return bad_value("$size needs a number");
      n = leaf(path, Op::kSize, e);
      n->size = static_cast<std::int64_t>(e.number_as_double());
    } else if (name == "$not") {
      Node neg;
      neg.kind = Node::Kind::kNot;
      if (e.type() == BsonType::kRegex) {
        auto r = leaf(path, Op::kRegex, e);
        if (!r) return r.error();
        neg.children.push_back(std::move(*r));
      } else if (is_operator_doc(e)) {
        auto inner = compile_field(path, e);
        if (!inner) return inner.error();
        neg.children.push_back(std::move(*inner));
      } else {
        return bad_value("$not needs a regex or a document");
      }
      n = std::move(neg);
    } else {
      return bad_value("unknown operator: " + std::string(name));
    }
    if (!n) return n.error();
    all.children.push_back(std::move(*n));
  }
  return all;
}

Expected<Node> compile_doc(DocView filter) {
  Node root;
  root.kind = Node::Kind::kAnd;
  for (auto e : filter) {
    auto key = e.key();
    if (key == "$and" || key == "$or" || key == "$nor") {
      if (e.type() != BsonType::kArray || e.as_document().empty())
        return bad_value(std::string(key) + " must be a nonempty array");
      Node group;
      group.kind = key == "$and" ? Node::Kind::kAnd : (key == "$or" ? Node::Kind::kOr : Node::Kind::kNor);
      for (auto c : e.as_document()) {
        if (c.type() != BsonType::kDocument) return bad_value(std::string(key) + " argument's entries must be objects");
        auto sub = compile_doc(c.as_document());
        if (!sub) return sub.error();
        group.children.push_back(std::move(*sub));
      }
      root.children.push_back(std::move(group));
    } else if (key == "$comment") {
      continue;
    } else if (!key.empty() && key[0] == '$') {
      return bad_value("unknown top level operator: " + std::string(key));
    } else {
      auto f = compile_field(key, e);
      if (!f) return f.error();
      root.children.push_back(std::move(*f));
    }
  }
  return root;
}

bool comparable(const ElementView& v, const ElementView& arg) {
  return formats::canonical_type_rank(v.type()) == formats::canonical_type_rank(arg.type());
}

bool is_nullish(BsonType t) {
  return t == BsonType::kNull || t == BsonType::kUndefined;
}

bool equal_any(const std::vector<ElementView>& values, const ElementView& arg) {
  if (is_nullish(arg.type()) && values.empty()) return true;
  for (auto& v : values)
    if (comparable(v, arg) && formats::compare_values(v, arg) == 0) return true;
  return false;
}

bool type_matches(const ElementView& v, const std::vector<int>& types) {
  for (int t : types) {
    if (t == -1 ? is_number(v.type()) : static_cast<int>(v.type()) == t) return true;
  }
  return false;
}

bool eval(const Node& n, DocView doc, std::vector<ElementView>& scratch);

bool eval_leaf(const Node& n, DocView doc, std::vector<ElementView>& values) {
  values.clear();
  collect_path_values(doc, n.path, values);
  switch (n.op) {
    case Op::kEq: return equal_any(values, n.arg);
    case Op::kNe: return !equal_any(values, n.arg);
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte: {
      bool inclusive = n.op == Op::kGte || n.op == Op::kLte;
      if (inclusive && is_nullish(n.arg.type()) && values.empty()) return true;
      bool any_type = n.arg.type() == BsonType::kMinKey || n.arg.type() == BsonType::kMaxKey;
      for (auto& v : values) {
        if (!any_type && !comparable(v, n.arg)) continue;
        int c = formats::compare_values(v, n.arg);
        if ((n.op == Op::kGt && c > 0) || (n.op == Op::kGte && c >= 0) || (n.op == Op::kLt && c < 0) ||
            (n.op == Op::kLte && c <= 0))
          return true;
      }
      return false;
    }
    case Op::kIn:
    case Op::kNin: {
      bool found = false;
      for (auto& a : n.list) {
        if (equal_any(values, a)) {
          found = true;
          break;
        }
      }
      return n.op == Op::kIn ? found : !found;
    }
    case Op::kAll: {
      if (n.list.empty()) return false;
      for (auto& a : n.list)
        if (!equal_any(values, a)) return false;
      return true;
    }
    case Op::kExists: return values.empty() != truthy(n.arg);
    case Op::kType:
      for (auto& v : values)
        if (type_matches(v, n.types)) return true;
      return false;
    case Op::kRegex:
      for (auto& v : values) {
        if (v.type() == BsonType::kString || v.type() == BsonType::kSymbol) {
          auto s = v.as_string();
          if (std::regex_search(s.begin(), s.end(), *n.re)) return true;
        } else if (v.type() == BsonType::kRegex && n.arg.valid() && n.arg.type() == BsonType::kRegex &&
                   formats::compare_values(v, n.arg) == 0) {
          return true;
        }
      }
      return false;
    case Op::kSize:
      for (auto& v : values)
        if (v.type() == BsonType::kArray && static_cast<std::int64_t>(v.as_document().count()) == n.size) return true;
      return false;
  }
  return false;
}

bool eval(const Node& n, DocView doc, std::vector<ElementView>& scratch) {
  switch (n.kind) {
    case Node::Kind::kAnd:
      for (auto& c : n.children)
        if (!eval(c, doc, scratch)) return false;
      return true;
    case Node::Kind::kOr:
      for (auto& c : n.children)
        if (eval(c, doc, scratch)) return true;
      return false;
    case Node::Kind::kNor:
      for (auto& c : n.children)
        if (eval(c, doc, scratch)) return false;
      return true;
    case Node::Kind::kNot: return !eval(n.children.front(), doc, scratch);
    case Node::Kind::kLeaf: return eval_leaf(n, doc, scratch);
  }
  return false;
}

void tighten(IdBounds& b, const Node& n) {
  if (n.kind == Node::Kind::kAnd) {
    for (auto& c : n.children) tighten(b, c);
    return;
  }
  if (n.kind != Node::Kind::kLeaf || n.path != "_id") return;
  if (n.arg.valid() && (n.arg.type() == BsonType::kRegex || n.arg.type() == BsonType::kArray)) return;
  auto raise_lo = [&](ElementView v, bool incl) {
    int c = b.lo.valid() ? formats::compare_values(v, b.lo) : 1;
    if (c > 0 || (c == 0 && !incl)) b.lo = v, b.lo_inclusive = incl;
  };
  auto lower_hi = [&](ElementView v, bool incl) {
    int c = b.hi.valid() ? formats::compare_values(v, b.hi) : -1;
    if (c < 0 || (c == 0 && !incl)) b.hi = v, b.hi_inclusive = incl;
  };
  switch (n.op) {
    case Op::kEq:
      if (is_nullish(n.arg.type())) return;
      raise_lo(n.arg, true);
      lower_hi(n.arg, true);
      break;
    case Op::kGt: raise_lo(n.arg, false); break;
    case Op::kGte: raise_lo(n.arg, true); break;
    case Op::kLt: lower_hi(n.arg, false); break;
    case Op::kLte: lower_hi(n.arg, true); break;
    default: break;
  }
}

}  // namespace

Expected<Matcher> Matcher::compile(DocView filter) {
  Matcher m;
  auto owned = std::make_shared<const Bytes>(filter.bytes().begin(), filter.bytes().end());
  auto root = compile_doc(DocView(*owned));
  if (!root) return root.error();
  m.owned_ = std::move(owned);
  m.empty_ = root->children.empty();
  m.root_ = std::make_shared<const Node>(std::move(*root));
  return m;
}

bool Matcher::matches(DocView doc) const {
  if (empty()) return true;
  std::vector<ElementView> scratch;
  return eval(*root_, doc, scratch);
}

IdBounds Matcher::id_bounds() const {
  IdBounds b;
  if (root_) tighten(b, *root_);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Projection

struct Projection::Node {
  std::vector<std::pair<std::string, Node>> children;
  bool leaf = false;
  const Node* find(std::string_view k) const {
    for (auto& [name, n] : children)
      if (name == k) return &n;
    return nullptr;
  }
  Node& child(std::string_view k) {
    for (auto& [name, n] : children)
      if (name == k) return n;
    children.emplace_back(std::string(k), Node{});
    return children.back().second;
  }
};

namespace {

using PNode = Projection::Node;

void project_include(DocView doc, const PNode& node, formats::Builder& b, bool top, bool keep_id) {
  for (auto e : doc) {
    if (top && e.key() == "_id") {
      if (keep_id) b.append_raw_element(e.raw());
      continue;
    }
    const PNode* c = node.find(e.key());
    if (c == nullptr) continue;
    if (c->leaf) {
      b.append_raw_element(e.raw());
    } else if (e.type() == BsonType::kDocument) {
      b.open_document(e.key());
      project_include(e.as_document(), *c, b, false, keep_id);
      b.close();
    } else if (e.type() == BsonType::kArray) {
      b.open_array(e.key());
      for (auto x : e.as_document()) {
        if (x.type() != BsonType::kDocument) continue;
        b.open_document(b.next_array_key());
        project_include(x.as_document(), *c, b, false, keep_id);
        b.close();
      }
      b.close();
    }
  }
}

void project_exclude(DocView doc, const PNode& node, formats::Builder& b, bool top, bool keep_id) {
  for (auto e : doc) {
    if (top && e.key() == "_id" && !keep_id) continue;
    const PNode* c = node.find(e.key());
    if (c == nullptr) {
      b.append_raw_element(e.raw());
    } else if (c->leaf) {
      continue;
    } else if (e.type() == BsonType::kDocument) {
      b.open_document(e.key());
      project_exclude(e.as_document(), *c, b, false, keep_id);
      b.close();
    } else if (e.type() == BsonType::kArray) {
      b.open_array(e.key());
      for (auto x : e.as_document()) {
        if (x.type() == BsonType::kDocument) {
          b.open_document(b.next_array_key());
          project_exclude(x.as_document(), *c, b, false, keep_id);
          b.close();
        } else {
          b.append_element(b.next_array_key(), x);
        }
      }
      b.close();
    } else {
      b.append_raw_element(e.raw());
    }
  }
}

}  // namespace

Expected<Projection> Projection::compile(DocView spec) {
  Projection p;
  if (spec.empty()) return p;
  auto root = std::make_shared<Node>();
  int mode = 0;  // 1 inclusion, -1 exclusion
  bool id_set = false, id_value = true;
  for (auto e : spec) {
    bool numeric = is_number(e.type()) || e.type() == BsonType::kBool;
    if (!numeric) return bad_value("projection value for '" + std::string(e.key()) + "' is not supported");
    bool inc = truthy(e);
    if (e.key() == "_id") {
      id_set = true;
      id_value = inc;
      continue;
    }
    int m = inc ? 1 : -1;
    if (mode != 0 && mode != m)
      return CmdError{31254, "Cannot do " + std::string(inc ? "inclusion" : "exclusion") + " on field " +
                                 std::string(e.key()) + " in " + (inc ? "exclusion" : "inclusion") + " projection"};
    mode = m;
    Node* n = root.get();
    std::string_view path = e.key();
    while (true) {
      auto dot = path.find('.');
      n = &n->child(path.substr(0, dot));
      if (dot == std::string_view::npos) break;
      path.remove_prefix(dot + 1);
    }
    n->leaf = true;
  }
  if (mode == 0) mode = (id_set && !id_value) ? -1 : 1;
  p.inclusion_ = mode == 1;
  p.keep_id_ = id_set ? id_value : true;
  p.root_ = std::move(root);
  return p;
}

Bytes Projection::apply(DocView doc) const {
  if (!root_) return Bytes(doc.bytes().begin(), doc.bytes().end());
  bool keep_id = keep_id_;
  formats::Builder b;
  if (inclusion_)
    project_include(doc, *root_, b, true, keep_id);
  else
    project_exclude(doc, *root_, b, true, keep_id);
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// Sort

Expected<SortSpec> SortSpec::compile(DocView spec) {
  SortSpec s;
  for (auto e : spec) {
    if (!is_number(e.type())) return bad_value("$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    double d = e.number_as_double();
    if (d != 1 && d != -1) return bad_value("$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    s.keys_.emplace_back(std::string(e.key()), d > 0 ? 1 : -1);
  }
  return s;
}

int SortSpec::compare(DocView a, DocView b) const {
  for (auto& [path, dir] : keys_) {
    ElementView x = a.find_path(path), y = b.find_path(path);
    if (!x.valid()) x = null_element();
    if (!y.valid()) y = null_element();
    if (int c = formats::compare_values(x, y); c != 0) return c * dir;
  }
  return 0;
}

int SortSpec::simple_kind() const {
  if (keys_.size() != 1) return 0;
  if (keys_[0].first == "_id") return keys_[0].second;
  if (keys_[0].first == "$natural") return 2 * keys_[0].second;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Updates

namespace {

enum class ModKind { kSet, kUnset, kInc };
struct Mod {
  std::vector<std::string_view> parts;
  ModKind kind;
  ElementView value;
};

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> parts;
  while (true) {
    auto dot = p.find('.');
    parts.push_back(p.substr(0, dot));
    if (dot == std::string_view::npos) break;
    p.remove_prefix(dot + 1);
  }
  return parts;
}

Done append_inc(formats::Builder& b, std::string_view key, const ElementView* cur, const ElementView& by) {
  if (!is_number(by.type()) || by.type() == BsonType::kDecimal128)
    return CmdError{code::kTypeMismatch, "Cannot increment with non-numeric argument"};
  if (cur == nullptr) {
    b.append_element(key, by);
    return {};
  }
  if (!is_number(cur->type()) || cur->type() == BsonType::kDecimal128)
    return CmdError{code::kTypeMismatch, "Cannot apply $inc to a value of non-numeric type"};
  if (cur->type() == BsonType::kDouble || by.type() == BsonType::kDouble) {
    b.append_double(key, cur->number_as_double() + by.number_as_double());
    return {};
  }
  auto as64 = [](const ElementView& e) -> std::int64_t {
    return e.type() == BsonType::kInt32 ? e.as_int32() : e.as_int64();
  };
  std::int64_t r = 0;
  if (__builtin_add_overflow(as64(*cur), as64(by), &r)) {
    b.append_double(key, cur->number_as_double() + by.number_as_double());
  } else if (cur->type() == BsonType::kInt32 && by.type() == BsonType::kInt32 &&
             r >= std::numeric_limits<std::int32_t>::min() && r <= std::numeric_limits<std::int32_t>::max()) {
    b.append_int32(key, static_cast<std::int32_t>(r));
  } else {
    b.append_int64(key, r);
  }
  return {};
}

Done rebuild(DocView src, const std::vector<const Mod*>& mods, std::size_t depth, formats::Builder& b) {
  std::vector<bool> used(mods.size(), false);
  for (auto e : src) {
    std::vector<const Mod*> here;
    for (std::size_t i = 0; i < mods.size(); ++i)
      if (mods[i]->parts[depth] == e.key()) here.push_back(mods[i]), used[i] = true;
    if (here.empty()) {
      b.append_raw_element(e.raw());
      continue;
    }
    const Mod* final_mod = nullptr;
    for (auto* m : here)
      if (m->parts.size() == depth + 1) final_mod = m;
    if (final_mod != nullptr) {
      if (here.size() > 1)
        return CmdError{40, "Updating the path '" + std::string(e.key()) + "' would create a conflict"};
      if (final_mod->kind == ModKind::kSet)
        b.append_element(e.key(), final_mod->value);
      else if (final_mod->kind == ModKind::kInc) {
        if (auto d = append_inc(b, e.key(), &e, final_mod->value); !d) return d;
      }
      continue;
    }
    if (e.type() == BsonType::kDocument || e.type() == BsonType::kArray) {
      if (e.type() == BsonType::kDocument)
        b.open_document(e.key());
      else
        b.open_array(e.key());
      if (auto d = rebuild(e.as_document(), here, depth + 1, b); !d) return d;
      b.close();
      continue;
    }
    bool only_unset = std::all_of(here.begin(), here.end(), [](const Mod* m) { return m->kind == ModKind::kUnset; });
    if (only_unset) {
      b.append_raw_element(e.raw());
      continue;
    }
    return CmdError{28, "Cannot create field '" + std::string(here[0]->parts[depth + 1]) + "' in element {" +
                            std::string(e.key()) + ": ...}"};
  }
  // Fields not present yet, in the order their first update names them.
  std::vector<std::string_view> done;
  for (std::size_t i = 0; i < mods.size(); ++i) {
    if (used[i] || mods[i]->kind == ModKind::kUnset) continue;
    auto key = mods[i]->parts[depth];
    if (std::find(done.begin(), done.end(), key) != done.end()) continue;
    done.push_back(key);
    std::vector<const Mod*> here;
    for (std::size_t j = i; j < mods.size(); ++j)
      if (!used[j] && mods[j]->parts[depth] == key && mods[j]->kind != ModKind::kUnset) here.push_back(mods[j]);
    if (here.size() == 1 && here[0]->parts.size() == depth + 1) {
      if (here[0]->kind == ModKind::kInc) {
        if (auto d = append_inc(b, key, nullptr, here[0]->value); !d) return d;
      } else {
        b.append_element(key, here[0]->value);
      }
      continue;
    }
    for (auto* m : here)
      if (m->parts.size() == depth + 1)
        return CmdError{40, "Updating the path '" + std::string(key) + "' would create a conflict"};
    b.open_document(key);
    if (auto d = rebuild(empty_doc(), here, depth + 1, b); !d) return d;
    b.close();
  }
  return {};
}

}  // namespace

bool is_operator_update(DocView update) {
  auto it = update.begin();
  return it != update.end() && !(*it).key().empty() && (*it).key()[0] == '$';
}

Expected<Bytes> apply_update(DocView doc, DocView update, bool is_insert) {
  ElementView old_id = doc.find("_id");
  formats::Builder b;
  if (!is_operator_update(update)) {
    ElementView new_id = update.find("_id");
    if (old_id.valid() && new_id.valid() && formats::compare_values(old_id, new_id) != 0 && !is_insert)
      return CmdError{66, "After applying the update, the (immutable) field '_id' was found to have been altered"};
    if (old_id.valid())
      b.append_raw_element(old_id.raw());
    else if (new_id.valid())
      b.append_raw_element(new_id.raw());
    for (auto e : update) {
      if (e.key() == "_id") continue;
      if (!e.key().empty() && e.key()[0] == '$')
        return bad_value("The dollar ($) prefixed field '" + std::string(e.key()) + "' is not allowed here");
      b.append_raw_element(e.raw());
    }
    return b.finish();
  }
  std::vector<Mod> mods;
  for (auto op : update) {
    ModKind kind;
    if (op.key() == "$set")
      kind = ModKind::kSet;
    else if (op.key() == "$setOnInsert") {
      if (!is_insert) continue;
      kind = ModKind::kSet;
    } else if (op.key() == "$unset")
      kind = ModKind::kUnset;
    else if (op.key() == "$inc")
      kind = ModKind::kInc;
    else if (op.key() == "$v")
      continue;
    else
      return CmdError{code::kFailedToParse, "Unknown modifier: " + std::string(op.key())};
    if (op.type() != BsonType::kDocument)
      return CmdError{code::kFailedToParse, "Modifiers operate on fields but we found another type instead"};
    for (auto f : op.as_document()) {
      if (f.key() == "_id" && kind != ModKind::kSet)
        return CmdError{66, "Performing an update on the path '_id' would modify the immutable field '_id'"};
      if (f.key() == "_id" && old_id.valid() && formats::compare_values(old_id, f) != 0)
        return CmdError{66, "Performing an update on the path '_id' would modify the immutable field '_id'"};
      mods.push_back({split_path(f.key()), kind, f});
    }
  }
  std::vector<const Mod*> ptrs;
  for (auto& m : mods) ptrs.push_back(&m);
  if (auto d = rebuild(doc, ptrs, 0, b); !d) return d.error();
  return b.finish();
}

Bytes upsert_seed(DocView filter) {
  formats::Builder b;
  for (auto e : filter) {
    if (e.key().empty() || e.key()[0] == '$' || e.key().find('.') != std::string_view::npos) continue;
    if (is_operator_doc(e)) {
      ElementView eq = e.as_document().find("$eq");
      if (eq.valid()) b.append_element(e.key(), eq);
      continue;
    }
    if (e.type() == BsonType::kRegex) continue;
    b.append_raw_element(e.raw());
  }
  return b.finish();
}

}  // namespace bsonpipe::minimongod
