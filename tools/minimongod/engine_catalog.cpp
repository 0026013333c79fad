#include <algorithm>

#include "tools/minimongod/engine_internal.hpp"

namespace bsonpipe::minimongod {

namespace {

// Fields every command may carry that are not options of the command itself.
bool is_generic_field(std::string_view k) {
  static constexpr std::string_view kGeneric[] = {
      "$db",
      "lsid",
      "$clusterTime",
      "txnNumber",
      "autocommit",
      "startTransaction",
      "$readPreference",
      "readConcern",
      "writeConcern",
      "comment",
      "maxTimeMS",
      "apiVersion",
      "apiStrict",
      "apiDeprecationErrors",
      "$audit",
      "$client",
      "$configServerState",
      "$gleStats",
      "$oplogQueryData",
      "$replData",
      "mayBypassWriteBlocking",
      "$readPreference",
  };
  return std::find(std::begin(kGeneric), std::end(kGeneric), k) != std::end(kGeneric);
}

Bytes id_index_doc() {
  formats::Builder b;
  b.append_int32("v", 2).open_document("key").append_int32("_id", 1).close().append_string("name", "_id_");
  return b.finish();
}

// The listCollections entry of one collection. Takes the collection's lock.
Bytes collection_entry(Collection& c, bool name_only) {
  std::shared_lock lock(c.mutex());
  formats::Builder b;
  b.append_string("name", c.name()).append_string("type", type_string(c.type()));
  if (name_only) return b.finish();
  b.append_document("options", DocView(c.options()));
  b.open_document("info").append_bool("readOnly", c.type() == CollectionType::kView);
  if (c.type() != CollectionType::kView) append_uuid(b, "uuid", c.uuid());
  b.close();
  if (c.type() == CollectionType::kCollection && c.has_id_index()) {
    Bytes idx = id_index_doc();
    b.append_document("idIndex", DocView(idx));
  }
  return b.finish();
}

std::int64_t cursor_batch(DocView cmd) {
  if (auto c = get_doc(cmd, "cursor"))
    if (auto bs = get_int(*c, "batchSize")) return *bs;
  return kDefaultFirstBatch;
}

}  // namespace

Expected<Bytes> Engine::cmd_list_databases(Ctx& ctx) {
  Bytes empty = formats::Builder().finish();
  auto m = Matcher::compile(opts_.ignore_list_filters ? DocView(empty)
                                                      : get_doc(ctx.cmd, "filter").value_or(DocView(empty)));
  if (!m) return m.error();
  bool name_only = get_bool(ctx.cmd, "nameOnly");
  formats::Builder b;
  b.open_array("databases");
  std::int64_t total = 0;
  for (auto& name : catalog_.database_names()) {
    std::int64_t size = 0;
    for (auto& c : catalog_.collections(name)) {
      std::shared_lock lock(c->mutex());
      size += static_cast<std::int64_t>(c->data_bytes());
    }
    formats::Builder e;
    e.append_string("name", name);
    if (!name_only) e.append_int64("sizeOnDisk", size).append_bool("empty", size == 0);
    Bytes entry = e.finish();
    if (!m->matches(DocView(entry))) continue;
    total += size;
    b.append_document(b.next_array_key(), DocView(entry));
  }
  b.close();
  if (!name_only) b.append_int64("totalSize", total).append_int64("totalSizeMb", total >> 20);
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_list_collections(Ctx& ctx) {
  Bytes empty = formats::Builder().finish();
  auto m = Matcher::compile(opts_.ignore_list_filters ? DocView(empty)
                                                      : get_doc(ctx.cmd, "filter").value_or(DocView(empty)));
  if (!m) return m.error();
  bool name_only = get_bool(ctx.cmd, "nameOnly");
  auto c = std::make_shared<Cursor>();
  c->ns = std::string(ctx.db) + ".$cmd.listCollections";
  for (auto& coll : catalog_.collections(ctx.db)) {
    // The filter may name fields nameOnly omits (type, options), so match on the full entry.
    Bytes full = collection_entry(*coll, false);
    if (!m->matches(DocView(full))) continue;
    c->docs.push_back(std::make_shared<const Bytes>(name_only ? collection_entry(*coll, true) : std::move(full)));
  }
  return cursor_reply(c, cursor_batch(ctx.cmd), true, false, 0);
}

Expected<Bytes> Engine::cmd_list_indexes(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto coll = catalog_.find(ctx.db, *name);
  if (!coll)
    return CmdError{code::kNamespaceNotFound, "ns does not exist: " + std::string(ctx.db) + "." + std::string(*name)};
  auto c = std::make_shared<Cursor>();
  c->ns = std::string(ctx.db) + ".$cmd.listIndexes." + std::string(*name);
  {
    std::shared_lock lock(coll->mutex());
    if (coll->type() == CollectionType::kView)
      return CmdError{code::kCommandNotSupportedOnView, "Namespace " + coll->ns() + " is a view, not a collection"};
    for (auto& idx : coll->indexes()) c->docs.push_back(std::make_shared<const Bytes>(idx.spec));
  }
  return cursor_reply(c, cursor_batch(ctx.cmd), true, false, 0);
}

std::optional<CmdError> invalid_namespace(std::string_view db, std::string_view coll) {
  // A Linux server's database rules (the Windows-only * < > : | ? are allowed).
  if (db.empty() || db.size() >= 64 || db.find_first_of(std::string_view("/\\. \"$\0", 7)) != std::string_view::npos)
    return CmdError{code::kInvalidNamespace, "Invalid database name: '" + std::string(db) + "'"};
  // NamespaceString::validCollectionName: non-empty, no leading '.', no '$', no NUL.
  if (coll.empty() || coll[0] == '.' || coll.find_first_of(std::string_view("$\0", 2)) != std::string_view::npos)
    return CmdError{code::kInvalidNamespace,
                    "Invalid namespace specified '" + std::string(db) + "." + std::string(coll) + "'"};
  // Since 4.4 a collection's namespace may be 255 bytes long.
  if (db.size() + 1 + coll.size() > 255)
    return CmdError{code::kInvalidNamespace, "Fully qualified namespace is too long. Namespace: " + std::string(db) +
                                                 "." + std::string(coll) + " Max: 255"};
  return std::nullopt;
}

Expected<Bytes> Engine::run_create(std::string_view db, DocView cmd) {
  ElementView arg = *cmd.begin();
  if (arg.type() != BsonType::kString || arg.as_string().empty())
    return CmdError{code::kInvalidNamespace, "create needs a collection name"};
  if (auto bad = invalid_namespace(db, arg.as_string())) return *bad;
  CollectionConfig cfg;
  cfg.db = std::string(db);
  cfg.name = std::string(arg.as_string());
  formats::Builder o;
  bool first = true;
  for (auto e : cmd) {
    if (first) {
      first = false;
      continue;
    }
    if (!is_generic_field(e.key())) o.append_raw_element(e.raw());
  }
  cfg.options = o.finish();
  DocView opts(cfg.options);
  if (opts.find("viewOn").valid()) {
    if (opts.find("viewOn").type() != BsonType::kString)
      return CmdError{code::kTypeMismatch, "'viewOn' must be a string"};
    if (opts.find("pipeline").valid() && opts.find("pipeline").type() != BsonType::kArray)
      return CmdError{code::kTypeMismatch, "'pipeline' must be an array"};
    cfg.type = CollectionType::kView;
  } else if (opts.find("timeseries").valid()) {
    cfg.type = CollectionType::kTimeseries;
  }
  if (get_bool(opts, "capped")) {
    auto size = get_int(opts, "size");
    if (!size || *size <= 0)
      return CmdError{code::kInvalidOptions, "the 'size' field is required when 'capped' is true"};
    cfg.capped = true;
    cfg.capped_size = *size;
    cfg.capped_max = get_int(opts, "max").value_or(0);
  }
  if (auto existing = catalog_.find(db, cfg.name)) {
    // Idempotent when the options are the same, as the server does.
    std::shared_lock lock(existing->mutex());
    if (existing->options() == cfg.options) return ok_only();
    return CmdError{code::kNamespaceExists, "Collection " + existing->ns() + " already exists."};
  }
  auto created = catalog_.create(std::move(cfg));
  if (!created) return created.error();
  if (oplog_ && db != "local") {
    formats::Builder lo;
    lo.append_string("create", arg.as_string());
    for (auto e : DocView((*created)->options())) lo.append_raw_element(e.raw());
    Bytes ov = lo.finish();
    std::string ns = std::string(db) + ".$cmd";
    log_op('c', ns, &(*created)->uuid(), DocView(ov), nullptr);
  }
  return ok_only();
}

Expected<Bytes> Engine::cmd_create(Ctx& ctx) {
  return run_create(ctx.db, ctx.cmd);
}

Expected<Bytes> Engine::cmd_drop(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  if (ctx.db == "local" && *name == "oplog.rs" && oplog_)
    return CmdError{code::kIllegalOperation, "can't drop live oplog while replicating"};
  auto c = catalog_.drop(ctx.db, *name);
  if (!c) return CmdError{code::kNamespaceNotFound, "ns not found"};
  std::size_t n;
  {
    std::shared_lock lock(c->mutex());
    n = c->indexes().size();
  }
  if (oplog_ && ctx.db != "local") {
    formats::Builder o;
    o.append_string("drop", *name);
    Bytes ov = o.finish();
    log_op('c', std::string(ctx.db) + ".$cmd", &c->uuid(), DocView(ov), nullptr);
  }
  formats::Builder b;
  b.append_int32("nIndexesWas", static_cast<std::int32_t>(n));
  b.append_string("ns", std::string(ctx.db) + "." + std::string(*name));
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_drop_database(Ctx& ctx) {
  if (ctx.db == "local" && oplog_)
    return CmdError{code::kIllegalOperation, "Cannot drop 'local' database while replication is active"};
  (void)catalog_.drop_database(ctx.db);
  if (oplog_ && ctx.db != "local") {
    formats::Builder o;
    o.append_int32("dropDatabase", 1);
    Bytes ov = o.finish();
    log_op('c', std::string(ctx.db) + ".$cmd", nullptr, DocView(ov), nullptr);
  }
  formats::Builder b;
  b.append_string("dropped", ctx.db);
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_create_indexes(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto specs = get_doc(ctx.cmd, "indexes");
  if (!specs || ctx.cmd.find("indexes").type() != BsonType::kArray || specs->empty())
    return CmdError{code::kFailedToParse, "Must specify at least one index to create"};
  std::vector<Index> parsed;
  for (auto e : *specs) {
    if (e.type() != BsonType::kDocument) return CmdError{code::kTypeMismatch, "index specs must be objects"};
    auto idx = parse_index_spec(e.as_document());
    if (!idx) return idx.error();
    parsed.push_back(std::move(*idx));
  }
  bool created = false;
  auto coll = writable_collection(ctx.db, *name, &created);
  if (!coll) return coll.error();
  Collection& c = **coll;
  std::unique_lock lock(c.mutex());
  auto before = static_cast<std::int32_t>(c.indexes().size());
  bool all_exist = true;
  for (auto& idx : parsed) {
    bool skip = false;
    for (auto& have : c.indexes()) {
      bool same_key = formats::compare_documents(DocView(have.key), DocView(idx.key)) == 0 && have.key == idx.key;
      if (have.name == idx.name) {
        if (!same_key)
          return CmdError{
              code::kIndexKeySpecsConflict,
              "An existing index has the same name as the requested index but a different key: " + have.name};
        skip = true;
        break;
      }
      if (same_key && have.unique == idx.unique && !have.has_partial && !idx.has_partial) {
        return CmdError{code::kIndexOptionsConflict, "Index already exists with a different name: " + have.name};
      }
    }
    if (skip) continue;
    all_exist = false;
    Bytes spec = idx.spec;
    if (auto r = c.add_index(std::move(idx)); !r) {
      CmdError e = r.error();
      if (e.code == code::kDuplicateKey) e.message = "Index build failed: " + e.message;
      return e;
    }
    if (oplog_ && ctx.db != "local") {
      formats::Builder o;
      o.append_string("createIndexes", *name);
      for (auto f : DocView(spec)) o.append_raw_element(f.raw());
      Bytes ov = o.finish();
      log_op('c', std::string(ctx.db) + ".$cmd", &c.uuid(), DocView(ov), nullptr);
    }
  }
  formats::Builder b;
  b.append_int32("numIndexesBefore", before);
  b.append_int32("numIndexesAfter", static_cast<std::int32_t>(c.indexes().size()));
  b.append_bool("createdCollectionAutomatically", created);
  if (all_exist) b.append_string("note", "all indexes already exist");
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_drop_indexes(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto coll = catalog_.find(ctx.db, *name);
  if (!coll)
    return CmdError{code::kNamespaceNotFound, "ns not found " + std::string(ctx.db) + "." + std::string(*name)};
  ElementView which = ctx.cmd.find("index");
  if (!which.valid()) return CmdError{code::kFailedToParse, "dropIndexes needs 'index'"};
  std::unique_lock lock(coll->mutex());
  auto was = static_cast<std::int32_t>(coll->indexes().size());
  std::vector<std::string> names;
  if (which.type() == BsonType::kString && which.as_string() == "*") {
    for (auto& idx : coll->indexes())
      if (idx.name != "_id_") names.push_back(idx.name);
  } else if (which.type() == BsonType::kString) {
    names.emplace_back(which.as_string());
  } else if (which.type() == BsonType::kArray) {
    for (auto e : which.as_document())
      if (e.type() == BsonType::kString) names.emplace_back(e.as_string());
  } else if (which.type() == BsonType::kDocument) {
    Bytes key(which.as_document().bytes().begin(), which.as_document().bytes().end());
    for (auto& idx : coll->indexes())
      if (idx.key == key) names.push_back(idx.name);
    if (names.empty()) return CmdError{code::kIndexNotFound, "can't find index with key: " + render_value(which)};
  }
  for (auto& n : names) {
    if (n == "_id_") return CmdError{code::kInvalidOptions, "cannot drop _id index"};
    bool found =
        std::any_of(coll->indexes().begin(), coll->indexes().end(), [&](const Index& i) { return i.name == n; });
    if (!found) return CmdError{code::kIndexNotFound, "index not found with name [" + n + "]"};
  }
  for (auto& n : names) {
    coll->drop_index(n);
    if (oplog_ && ctx.db != "local") {
      formats::Builder o;
      o.append_string("dropIndexes", *name).append_string("index", n);
      Bytes ov = o.finish();
      log_op('c', std::string(ctx.db) + ".$cmd", &coll->uuid(), DocView(ov), nullptr);
    }
  }
  formats::Builder b;
  b.append_int32("nIndexesWas", was);
  return finish_ok(b);
}

void append_storage_stats(formats::Builder& b, const Collection& c) {
  auto count = static_cast<std::int64_t>(c.records().size());
  auto size = static_cast<std::int64_t>(c.data_bytes());
  b.append_int64("size", size).append_int64("count", count);
  b.append_int64("avgObjSize", count ? size / count : 0);
  b.append_int64("storageSize", size);
  b.append_int32("nindexes", static_cast<std::int32_t>(c.indexes().size()));
  b.append_int64("totalIndexSize", 0);
  b.open_document("indexSizes");
  for (auto& idx : c.indexes()) b.append_int64(idx.name, 0);
  b.close();
  b.append_bool("capped", c.capped());
  if (c.capped()) b.append_int64("max", c.capped_max()).append_int64("maxSize", c.capped_size());
}

Expected<Bytes> Engine::cmd_coll_stats(Ctx& ctx) {
  auto name = collection_arg(ctx);
  if (!name) return name.error();
  auto coll = catalog_.find(ctx.db, *name);
  if (!coll)
    return CmdError{code::kNamespaceNotFound,
                    "Collection [" + std::string(ctx.db) + "." + std::string(*name) + "] not found."};
  formats::Builder b;
  std::shared_lock lock(coll->mutex());
  b.append_string("ns", coll->ns());
  append_storage_stats(b, *coll);
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_db_stats(Ctx& ctx) {
  std::int64_t colls = 0, views = 0, objects = 0, size = 0, indexes = 0;
  for (auto& c : catalog_.collections(ctx.db)) {
    std::shared_lock lock(c->mutex());
    if (c->type() == CollectionType::kView) {
      ++views;
      continue;
    }
    ++colls;
    objects += static_cast<std::int64_t>(c->records().size());
    size += static_cast<std::int64_t>(c->data_bytes());
    indexes += static_cast<std::int64_t>(c->indexes().size());
  }
  formats::Builder b;
  b.append_string("db", ctx.db).append_int64("collections", colls).append_int64("views", views);
  b.append_int64("objects", objects).append_double("avgObjSize", objects ? static_cast<double>(size) / objects : 0);
  b.append_int64("dataSize", size).append_int64("storageSize", size).append_int64("indexes", indexes);
  b.append_int64("indexSize", 0);
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_rename_collection(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString) return CmdError{code::kTypeMismatch, "renameCollection needs a namespace"};
  auto to = get_string(ctx.cmd, "to");
  if (!to) return CmdError{code::kTypeMismatch, "renameCollection needs 'to'"};
  auto [fdb, fcoll] = split_ns(ctx.arg.as_string());
  auto [tdb, tcoll] = split_ns(*to);
  if (fcoll.empty() || tcoll.empty()) return CmdError{code::kInvalidNamespace, "Invalid namespace"};
  if (fdb == tdb && fcoll == tcoll) return CmdError{code::kIllegalOperation, "Can't rename a collection to itself"};
  if (auto bad = invalid_namespace(tdb, tcoll)) return *bad;
  bool drop_target = get_bool(ctx.cmd, "dropTarget");
  if (auto src = catalog_.find(fdb, fcoll); src && src.get() == oplog_.get())
    return CmdError{code::kIllegalOperation, "can't rename live oplog while replicating"};
  if (auto r = catalog_.rename(fdb, fcoll, tdb, tcoll, drop_target); !r) return r.error();
  if (oplog_ && fdb != "local") {
    formats::Builder o;
    o.append_string("renameCollection", ctx.arg.as_string()).append_string("to", *to);
    o.append_bool("dropTarget", drop_target);
    Bytes ov = o.finish();
    log_op('c', std::string(fdb) + ".$cmd", nullptr, DocView(ov), nullptr);
  }
  return ok_only();
}

}  // namespace bsonpipe::minimongod
