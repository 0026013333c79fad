#include "tools/minimongod/storage.hpp"

#include <algorithm>
#include <cstdio>

namespace bsonpipe::minimongod {

std::string_view type_string(CollectionType t) {
  switch (t) {
    case CollectionType::kCollection: return "collection";
    case CollectionType::kView: return "view";
    case CollectionType::kTimeseries: return "timeseries";
  }
  return "collection";
}

std::string render_value(const ElementView& e) {
  char buf[64];
  switch (e.type()) {
    case BsonType::kInt32: return std::to_string(e.as_int32());
    case BsonType::kInt64: return std::to_string(e.as_int64());
    case BsonType::kDouble: std::snprintf(buf, sizeof buf, "%.17g", e.as_double()); return buf;
    case BsonType::kString: return "\"" + std::string(e.as_string()) + "\"";
    case BsonType::kObjectId: {
      std::string s = "ObjectId('";
      for (auto b : e.as_object_id()) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        s += buf;
      }
      return s + "')";
    }
    case BsonType::kNull: return "null";
    case BsonType::kBool: return e.as_bool() ? "true" : "false";
    case BsonType::kDocument:
    case BsonType::kArray: {
      bool arr = e.type() == BsonType::kArray;
      std::string s = arr ? "[ " : "{ ";
      bool first = true;
      for (auto c : e.as_document()) {
        if (!first) s += ", ";
        first = false;
        if (!arr) s += std::string(c.key()) + ": ";
        s += render_value(c);
      }
      return s + (arr ? " ]" : " }");
    }
    default: return std::string(formats::type_name(e.type()));
  }
}

// ---------------------------------------------------------------------------------------------
// Indexes

std::optional<Bytes> Index::key_of(DocView doc) const {
  if (has_partial && !partial.matches(doc)) return std::nullopt;
  formats::Builder b;
  bool any = false;
  for (auto f : DocView(key)) {
    ElementView v = doc.find_path(f.key());
    if (v.valid())
      any = true;
    else
      v = null_element();
    b.append_element("", v);
  }
  if (sparse && !any) return std::nullopt;
  return b.finish();
}

Expected<Index> parse_index_spec(DocView spec) {
  Index idx;
  ElementView key = spec.find("key");
  ElementView name = spec.find("name");
  if (!key.valid() || key.type() != BsonType::kDocument || key.as_document().empty())
    return CmdError{code::kFailedToParse, "The 'key' field must be a non-empty object"};
  if (!name.valid() || name.type() != BsonType::kString || name.as_string().empty())
    return CmdError{code::kFailedToParse, "The 'name' field must be a non-empty string"};
  idx.name = std::string(name.as_string());
  idx.key.assign(key.as_document().bytes().begin(), key.as_document().bytes().end());
  auto flag = [&](std::string_view f) {
    ElementView e = spec.find(f);
    if (!e.valid()) return false;
    if (e.type() == BsonType::kBool) return e.as_bool();
    return e.number_as_double() != 0;
  };
  idx.unique = flag("unique");
  idx.sparse = flag("sparse");
  ElementView partial = spec.find("partialFilterExpression");
  if (partial.valid()) {
    if (partial.type() != BsonType::kDocument)
      return CmdError{code::kTypeMismatch, "partialFilterExpression must be an object"};
    auto m = Matcher::compile(partial.as_document());
    if (!m) return m.error();
    idx.partial = std::move(*m);
    idx.has_partial = true;
  }
  if (spec.find("v").valid()) {
    idx.spec.assign(spec.bytes().begin(), spec.bytes().end());
  } else {
    formats::Builder b;
    b.append_int32("v", 2);
    for (auto e : spec) b.append_raw_element(e.raw());
    idx.spec = b.finish();
  }
  return idx;
}

Index id_index_spec() {
  formats::Builder k;
  k.append_int32("_id", 1);
  Bytes key = k.finish();
  formats::Builder s;
  s.append_int32("v", 2).append_document("key", DocView(key)).append_string("name", "_id_");
  Index idx;
  idx.name = "_id_";
  idx.spec = s.finish();
  idx.key = std::move(key);
  idx.unique = true;
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Collection

Collection::Collection(CollectionConfig cfg, const Uuid& uuid)
    : db_(std::move(cfg.db)),
      name_(std::move(cfg.name)),
      options_(std::move(cfg.options)),
      type_(cfg.type),
      uuid_(uuid),
      capped_(cfg.capped),
      capped_size_(cfg.capped_size),
      capped_max_(cfg.capped_max),
      has_id_index_(cfg.id_index && cfg.type != CollectionType::kView) {
  if (options_.empty()) options_ = formats::Builder().finish();
  if (has_id_index_) indexes_.push_back(id_index_spec());
}

CmdError Collection::duplicate(const Index& idx, DocView doc) const {
  std::string msg = "E11000 duplicate key error collection: " + ns() + " index: " + idx.name + " dup key: { ";
  bool first = true;
  for (auto f : DocView(idx.key)) {
    if (!first) msg += ", ";
    first = false;
    ElementView v = doc.find_path(f.key());
    msg += std::string(f.key()) + ": " + (v.valid() ? render_value(v) : "null");
  }
  return CmdError{code::kDuplicateKey, msg + " }"};
}

Done Collection::check_unique(DocView doc, RecordId self) const {
  if (has_id_index_) {
    ElementView id = doc.find("_id");
    if (!id.valid()) return CmdError{code::kInternalError, "document without _id"};
    auto it = id_index_.find(id);
    if (it != id_index_.end() && it->second->first != self) return duplicate(indexes_[0], doc);
  }
  for (std::size_t i = has_id_index_ ? 1 : 0; i < indexes_.size(); ++i) {
    const Index& idx = indexes_[i];
    if (!idx.unique) continue;
    auto key = idx.key_of(doc);
    if (!key) continue;
    auto it = idx.entries.find(*key);
    if (it != idx.entries.end() && it->second != self) return duplicate(idx, doc);
  }
  return {};
}

Expected<RecordId> Collection::insert(DocPtr doc) {
  DocView d = view(doc);
  if (auto ok = check_unique(d, 0); !ok) return ok.error();
  RecordId id = next_record_++;
  auto rec = records_.emplace_hint(records_.end(), id, std::move(doc));
  if (has_id_index_) id_index_.emplace(d.find("_id"), rec);
  for (std::size_t i = has_id_index_ ? 1 : 0; i < indexes_.size(); ++i) {
    Index& idx = indexes_[i];
    if (!idx.unique) continue;
    if (auto key = idx.key_of(d)) idx.entries.emplace(std::move(*key), id);
  }
  data_bytes_ += rec->second->size();
  if (capped_) {
    while (records_.size() > 1 && ((capped_size_ > 0 && data_bytes_ > static_cast<std::size_t>(capped_size_)) ||
                                   (capped_max_ > 0 && records_.size() > static_cast<std::size_t>(capped_max_)))) {
      RecordId first = records_.begin()->first;
      remove(first);
      capped_removed_through_ = first;
    }
  }
  return id;
}

void Collection::remove(RecordId id) {
  auto it = records_.find(id);
  if (it == records_.end()) return;
  DocView d = view(it->second);
  if (has_id_index_) {
    auto j = id_index_.find(d.find("_id"));
    if (j != id_index_.end() && j->second == it) id_index_.erase(j);
  }
  for (auto& idx : indexes_) {
    if (!idx.unique || idx.entries.empty()) continue;
    if (auto key = idx.key_of(d)) {
      auto j = idx.entries.find(*key);
      if (j != idx.entries.end() && j->second == id) idx.entries.erase(j);
    }
  }
  data_bytes_ -= it->second->size();
  records_.erase(it);
}

Done Collection::replace(RecordId id, DocPtr doc) {
  auto it = records_.find(id);
  if (it == records_.end()) return CmdError{code::kInternalError, "record vanished"};
  DocView d = view(doc);
  if (auto ok = check_unique(d, id); !ok) return ok;
  DocView old = view(it->second);
  if (has_id_index_) {
    id_index_.erase(old.find("_id"));
    id_index_.emplace(d.find("_id"), it);
  }
  for (std::size_t i = has_id_index_ ? 1 : 0; i < indexes_.size(); ++i) {
    Index& idx = indexes_[i];
    if (!idx.unique) continue;
    if (auto key = idx.key_of(old)) {
      auto j = idx.entries.find(*key);
      if (j != idx.entries.end() && j->second == id) idx.entries.erase(j);
    }
    if (auto key = idx.key_of(d)) idx.entries.emplace(std::move(*key), id);
  }
  data_bytes_ = data_bytes_ - it->second->size() + doc->size();
  it->second = std::move(doc);
  return {};
}

Done Collection::add_index(Index index) {
  if (index.unique) {
    for (auto& [rid, doc] : records_) {
      auto key = index.key_of(view(doc));
      if (!key) continue;
      if (!index.entries.emplace(std::move(*key), rid).second) return duplicate(index, view(doc));
    }
  }
  indexes_.push_back(std::move(index));
  return {};
}

bool Collection::drop_index(std::string_view name) {
  auto it = std::find_if(indexes_.begin(), indexes_.end(), [&](const Index& i) { return i.name == name; });
  if (it == indexes_.end()) return false;
  indexes_.erase(it);
  return true;
}

RecordId Collection::find_id(const ElementView& id) const {
  auto it = id_index_.find(id);
  return it == id_index_.end() ? 0 : it->second->first;
}

void Collection::clear() {
  id_index_.clear();
  for (auto& idx : indexes_) idx.entries.clear();
  records_.clear();
  data_bytes_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Catalog

Catalog::Catalog() : rng_(std::random_device{}()) {}

Uuid Catalog::new_uuid() {
  Uuid u;
  std::uint64_t a = rng_(), b = rng_();
  std::memcpy(u.data(), &a, 8);
  std::memcpy(u.data() + 8, &b, 8);
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | 0x40);
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3F) | 0x80);
  return u;
}

std::shared_ptr<Collection> Catalog::find(std::string_view db, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto d = dbs_.find(db);
  if (d == dbs_.end()) return nullptr;
  auto c = d->second.find(name);
  return c == d->second.end() ? nullptr : c->second;
}

Expected<std::shared_ptr<Collection>> Catalog::create(CollectionConfig cfg) {
  std::unique_lock lock(mu_);
  auto& colls = dbs_[cfg.db];
  if (colls.count(cfg.name) != 0)
    return CmdError{code::kNamespaceExists, "Collection " + cfg.db + "." + cfg.name + " already exists."};
  std::string name = cfg.name;
  auto c = std::make_shared<Collection>(std::move(cfg), new_uuid());
  colls.emplace(std::move(name), c);
  return c;
}

std::shared_ptr<Collection> Catalog::get_or_create(std::string_view db, std::string_view name, bool* created) {
  if (created) *created = false;
  if (auto c = find(db, name)) return c;
  std::unique_lock lock(mu_);
  auto& colls = dbs_[std::string(db)];
  auto it = colls.find(name);
  if (it != colls.end()) return it->second;
  CollectionConfig cfg;
  cfg.db = std::string(db);
  cfg.name = std::string(name);
  auto c = std::make_shared<Collection>(std::move(cfg), new_uuid());
  colls.emplace(std::string(name), c);
  if (created) *created = true;
  return c;
}

std::shared_ptr<Collection> Catalog::drop(std::string_view db, std::string_view name) {
  std::unique_lock lock(mu_);
  auto d = dbs_.find(db);
  if (d == dbs_.end()) return nullptr;
  auto c = d->second.find(name);
  if (c == d->second.end()) return nullptr;
  auto coll = c->second;
  d->second.erase(c);
  if (d->second.empty()) dbs_.erase(d);
  return coll;
}

std::vector<std::shared_ptr<Collection>> Catalog::drop_database(std::string_view db) {
  std::unique_lock lock(mu_);
  std::vector<std::shared_ptr<Collection>> out;
  auto d = dbs_.find(db);
  if (d == dbs_.end()) return out;
  for (auto& [n, c] : d->second) out.push_back(c);
  dbs_.erase(d);
  return out;
}

Done Catalog::rename(std::string_view from_db, std::string_view from, std::string_view to_db, std::string_view to,
                     bool drop_target) {
  std::unique_lock lock(mu_);
  auto d = dbs_.find(from_db);
  if (d == dbs_.end() || d->second.find(from) == d->second.end())
    return CmdError{code::kNamespaceNotFound,
                    "Source collection " + std::string(from_db) + "." + std::string(from) + " does not exist"};
  auto src = d->second.find(from)->second;
  auto& target_db = dbs_[std::string(to_db)];
  auto t = target_db.find(to);
  if (t != target_db.end()) {
    if (t->second == src) return {};
    if (!drop_target) {
      return CmdError{code::kNamespaceExists, "target namespace exists"};
    }
    target_db.erase(t);
  }
  d = dbs_.find(from_db);
  d->second.erase(d->second.find(from));
  {
    std::unique_lock cl(src->mutex());
    src->set_name(std::string(to_db), std::string(to));
  }
  target_db.emplace(std::string(to), src);
  if (d->second.empty()) dbs_.erase(d);
  return {};
}

std::vector<std::string> Catalog::database_names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (auto& [n, c] : dbs_)
    if (!c.empty()) out.push_back(n);
  return out;
}

std::vector<std::shared_ptr<Collection>> Catalog::collections(std::string_view db) const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Collection>> out;
  auto d = dbs_.find(db);
  if (d == dbs_.end()) return out;
  for (auto& [n, c] : d->second) out.push_back(c);
  return out;
}

}  // namespace bsonpipe::minimongod
