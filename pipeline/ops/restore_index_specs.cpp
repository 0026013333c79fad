// Index specs and create options from a dump's metadata (declared in pipeline/ops/restore_plan.hpp):
// how metadata.json becomes createIndexes specs and create command options.
#include <map>
#include <set>
#include <string>

#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::pipeline {

using formats::BsonType;
using formats::Builder;
using formats::Bytes;
using formats::CollectionMetadata;
using formats::DocView;
using formats::ElementView;

namespace {

bool is_special_index_type(std::string_view s) {
  return s == "2d" || s == "2dsphere" || s == "geoHaystack" || s == "hashed" || s == "text" || s == "columnstore" ||
         s == "wildcard";
}

const std::set<std::string_view>& valid_index_options() {
  static const std::set<std::string_view> k{"key",
                                            "name",
                                            "v",
                                            "unique",
                                            "sparse",
                                            "background",
                                            "expireAfterSeconds",
                                            "partialFilterExpression",
                                            "storageEngine",
                                            "collation",
                                            "weights",
                                            "default_language",
                                            "language_override",
                                            "textIndexVersion",
                                            "2dsphereIndexVersion",
                                            "bits",
                                            "min",
                                            "max",
                                            "bucketSize",
                                            "wildcardProjection",
                                            "hidden",
                                            "prepareUnique",
                                            "clustered",
                                            "columnstoreProjection",
                                            "originalSpec"};
  return k;
}

Bytes convert_legacy_key(DocView key) {
  Builder b;
  for (auto e : key) {
    switch (e.type()) {
      case BsonType::kInt32:
      case BsonType::kInt64:
      case BsonType::kDouble: {
        double v = e.number_as_double();
        b.append_int32(e.key(), v < 0 ? -1 : 1);
        break;
      }
      case BsonType::kString:
        if (is_special_index_type(e.as_string()))
          b.append_raw_element(e.raw());
        else
          b.append_int32(e.key(), 1);
        break;
      default: b.append_int32(e.key(), 1);
    }
  }
  return b.finish();
}

}  // namespace

Result<std::vector<Bytes>> prepare_index_specs(const std::vector<Bytes>& indexes, const IndexSpecOptions& opts) {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    DocView spec(indexes[i]);
    ElementView name = spec.find("name");
    ElementView key = spec.find("key");
    if (!name.valid() || name.type() != BsonType::kString || name.as_string().empty())
      return Status{ErrorCode::kInvalidArgument, "index #" + std::to_string(i) + " has no name"};
    if (!key.valid() || key.type() != BsonType::kDocument || key.as_document().empty())
      return Status{ErrorCode::kInvalidArgument, "index " + std::string(name.as_string()) + " has no key"};
    if (name.as_string() == "_id_") continue;  // comes with the collection
    Builder b;
    for (auto e : spec) {
      if (e.key() == "ns") continue;
      if (e.key() == "v" && !opts.keep_index_version) continue;
      if (opts.convert_legacy_indexes) {
        if (!valid_index_options().contains(e.key())) continue;
        if (e.key() == "key") {
          Bytes k = convert_legacy_key(e.as_document());
          b.append_document("key", DocView(k));
          continue;
        }
      }
      b.append_raw_element(e.raw());
    }
    out.push_back(b.finish());
  }
  return out;
}

Bytes prepare_create_options(const CollectionMetadata& m, bool preserve_uuid) {
  Builder b;
  if (!m.options.empty())
    for (auto e : DocView(m.options)) b.append_raw_element(e.raw());
  if (preserve_uuid && m.uuid.size() == 32) {
    Bytes uuid;
    for (std::size_t i = 0; i < 32; i += 2)
      uuid.push_back(static_cast<std::uint8_t>(std::stoi(m.uuid.substr(i, 2), nullptr, 16)));
    b.append_binary("uuid", 4, uuid);
  }
  return b.finish();
}

bool same_index_spec(DocView a, DocView b) {
  auto fields = [](DocView d) {
    std::map<std::string, ElementView, std::less<>> m;
    for (auto e : d)
      if (e.key() != "v" && e.key() != "ns" && e.key() != "background") m.emplace(std::string(e.key()), e);
    return m;
  };
  auto fa = fields(a), fb = fields(b);
  if (fa.size() != fb.size()) return false;
  for (auto& [k, ea] : fa) {
    auto it = fb.find(k);
    if (it == fb.end()) return false;
    const ElementView& eb = it->second;
    if (k == "key") {
      // Key order matters; numeric types do not (1 == 1.0).
      if (ea.type() != BsonType::kDocument || eb.type() != BsonType::kDocument) return false;
      auto da = ea.as_document(), db = eb.as_document();
      auto ia = da.begin(), ib = db.begin();
      for (; ia != da.end() && ib != db.end(); ++ia, ++ib)
        if ((*ia).key() != (*ib).key() || formats::compare_values(*ia, *ib) != 0) return false;
      if (ia != da.end() || ib != db.end()) return false;
      continue;
    }
    if (formats::compare_values(ea, eb) != 0) return false;
  }
  return true;
}

}  // namespace bsonpipe::pipeline
