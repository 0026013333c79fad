// In-memory storage: a catalog of databases and collections; each collection keeps raw BSON
// documents in insertion order, an ordered _id index (BSON order) and its index specs verbatim,
// enforcing unique indexes. Thread safety: the catalog has its own lock; each collection has a
// shared_mutex that callers take around every use of its guarded members.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <vector>

#include "formats/bson.hpp"
#include "tools/minimongod/errors.hpp"
#include "tools/minimongod/query.hpp"

namespace bsonpipe::minimongod {

// Documents are immutable once stored and shared with cursors: an update stores a new one.
using DocPtr = std::shared_ptr<const Bytes>;
using RecordId = std::uint64_t;
using Uuid = std::array<std::uint8_t, 16>;
using RecordMap = std::map<RecordId, DocPtr>;

inline DocView view(const DocPtr& p) {
  return DocView(*p);
}

struct ElementLess {
  bool operator()(const ElementView& a, const ElementView& b) const { return formats::compare_values(a, b) < 0; }
};
struct DocLess {
  bool operator()(const Bytes& a, const Bytes& b) const {
    return formats::compare_documents(DocView(a), DocView(b)) < 0;
  }
};

enum class CollectionType { kCollection, kView, kTimeseries };
std::string_view type_string(CollectionType t);

// A short rendering of a value for error messages ("1", "\"x\"", "ObjectId('...')").
std::string render_value(const ElementView& e);

struct Index {
  std::string name;
  Bytes spec;  // as given (with "v" added when absent)
  Bytes key;   // the key pattern
  bool unique = false;
  bool sparse = false;
  bool has_partial = false;
  Matcher partial;
  std::map<Bytes, RecordId, DocLess> entries;  // maintained for unique indexes only

  // The index key of `doc` ({"": v1, "": v2, ...}); nullopt when the index skips the document.
  std::optional<Bytes> key_of(DocView doc) const;
};

struct CollectionConfig {
  std::string db;
  std::string name;
  Bytes options;  // the create options, verbatim (empty document when none)
  CollectionType type = CollectionType::kCollection;
  bool id_index = true;
  bool capped = false;
  std::int64_t capped_size = 0;  // bytes
  std::int64_t capped_max = 0;   // documents, 0 = no limit
};

class Collection {
 public:
  Collection(CollectionConfig cfg, const Uuid& uuid);

  // Taken shared to read, exclusive to write, by every caller of the members below.
  std::shared_mutex& mutex() const { return mu_; }
  // Notified after inserts (tailable awaitData cursors wait on it with the shared lock).
  std::condition_variable_any& inserted() { return inserted_; }

  // --- guarded by mutex() ---
  const std::string& db() const { return db_; }
  const std::string& name() const { return name_; }
  std::string ns() const { return db_ + "." + name_; }
  void set_name(std::string db, std::string name) { db_ = std::move(db), name_ = std::move(name); }
  const Bytes& options() const { return options_; }
  CollectionType type() const { return type_; }
  const Uuid& uuid() const { return uuid_; }
  bool capped() const { return capped_; }
  std::int64_t capped_size() const { return capped_size_; }
  std::int64_t capped_max() const { return capped_max_; }

  const RecordMap& records() const { return records_; }
  const std::map<ElementView, RecordMap::const_iterator, ElementLess>& id_index() const { return id_index_; }
  bool has_id_index() const { return has_id_index_; }
  const std::vector<Index>& indexes() const { return indexes_; }
  std::size_t data_bytes() const { return data_bytes_; }
  // Highest record id removed by capping (a tailable cursor behind it lost its position).
  RecordId capped_removed_through() const { return capped_removed_through_; }
  RecordId last_record_id() const { return next_record_ - 1; }

  // The document must be validated and carry an _id (when the collection has an _id index).
  // DuplicateKey errors name the index and the key.
  Expected<RecordId> insert(DocPtr doc);
  void remove(RecordId id);
  Done replace(RecordId id, DocPtr doc);
  // Adds an index (spec verbatim); fails with DuplicateKey when existing data violates it.
  Done add_index(Index index);
  // Removes by name; false when absent.
  bool drop_index(std::string_view name);
  // Record holding this _id, or 0.
  RecordId find_id(const ElementView& id) const;
  void clear();

 private:
  Done check_unique(DocView doc, RecordId self) const;
  CmdError duplicate(const Index& idx, DocView doc) const;

  mutable std::shared_mutex mu_;
  std::condition_variable_any inserted_;
  std::string db_, name_;
  Bytes options_;
  CollectionType type_;
  Uuid uuid_;
  bool capped_;
  std::int64_t capped_size_;
  std::int64_t capped_max_;
  bool has_id_index_;
  RecordMap records_;
  std::map<ElementView, RecordMap::const_iterator, ElementLess> id_index_;  // keys point into the stored documents
  std::vector<Index> indexes_;                                              // [0] is _id_ when has_id_index_
  RecordId next_record_ = 1;
  RecordId capped_removed_through_ = 0;
  std::size_t data_bytes_ = 0;
};

// Parses an index spec ({key, name, unique, sparse, partialFilterExpression, ...}).
Expected<Index> parse_index_spec(DocView spec);
// The default index on _id.
Index id_index_spec();

// Databases and their collections. All methods are thread-safe.
class Catalog {
 public:
  Catalog();
  std::shared_ptr<Collection> find(std::string_view db, std::string_view name) const;
  // NamespaceExists (48) when it exists already.
  Expected<std::shared_ptr<Collection>> create(CollectionConfig cfg);
  // Existing collection, or a new plain one; `created` says which.
  std::shared_ptr<Collection> get_or_create(std::string_view db, std::string_view name, bool* created = nullptr);
  std::shared_ptr<Collection> drop(std::string_view db, std::string_view name);
  std::vector<std::shared_ptr<Collection>> drop_database(std::string_view db);
  Done rename(std::string_view from_db, std::string_view from, std::string_view to_db, std::string_view to,
              bool drop_target);
  std::vector<std::string> database_names() const;
  std::vector<std::shared_ptr<Collection>> collections(std::string_view db) const;

 private:
  Uuid new_uuid();

  mutable std::shared_mutex mu_;
  std::map<std::string, std::map<std::string, std::shared_ptr<Collection>, std::less<>>, std::less<>> dbs_;
  std::mt19937_64 rng_;  // guarded by mu_ (exclusive)
};

}  // namespace bsonpipe::minimongod
