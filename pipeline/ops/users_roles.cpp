// What mongodump and mongorestore (mongodb/mongo-tools) do with users and roles, as read in their
// sources (mongodump/mongodump.go and prepare.go, mongorestore/mongorestore.go, metadata.go and
// filepath.go, common/intents/intent.go, common/auth/auth_info.go); summarised here in our words.
//
// Dump, --dumpDbUsersAndRoles:
// - Refused without --db, and with --collection. With --db admin it is not refused: the admin
//   database is dumped whole (its system.users, system.roles and system.version included) and the
//   per-database step is skipped with a message.
// - First the server's auth schema version is asked (getParameter {authSchemaVersion: 1} on
//   admin); below 3 the dump fails ("only supported for auth schema versions >= 3").
// - Three extra namespaces belong to the dumped database D: "$admin.system.users" (the documents of
//   admin.system.users with {db: D}), "$admin.system.roles" ({db: D} in admin.system.roles) and
//   "$admin.system.version" (every document of admin.system.version, e.g. featureCompatibilityVersion
//   and {_id: "authSchema", currentVersion: 5}).
// - Directory: they are files in D's directory named literally "$admin.system.users.bson" (".gz"
//   with --gzip), with no metadata.json. Archive: prelude entries {db: D, collection:
//   "$admin.system.users", metadata: "", size: 0, type: ""} after the collections, and their data
//   segments written right after the prelude, before any collection's data.
//
// Restore, --restoreDbUsersAndRoles:
// - Refused without --db and with --db admin. With it, the dump must hold D's $admin.system.users
//   or $admin.system.roles (else "No users or roles found in restore target").
// - A full restore (no --db) or --db admin also restores users and roles: those of
//   admin/system.users and admin/system.roles, for every database.
// - Auth versions: the dump's comes from the authSchema document of the version namespace; if that
//   namespace is missing it is taken as 3 (per-database) or 1 (admin); if present without an
//   authSchema document it is an error. The server's comes from getParameter (1 when the server
//   does not know the parameter). Allowed (dump, server): (3,5), (5,5), (3,3), (1,1), (1,3);
//   versions 2 and 4 (mid-upgrade) and every other pair are refused.
// - After all collections: for users and for roles, admin.tempusers / admin.temproles is dropped
//   if present, the dump's documents are inserted into it, then one command on admin:
//   {_mergeAuthzCollections: 1, tempUsersCollection: "admin.tempusers", tempRolesCollection:
//   "admin.temproles", drop: <--drop>, db: D} (db "" when the users come from the admin database:
//   every database). The temporary collections are dropped at the end whatever happened.
// - The server side (see tools/minimongod/users.cpp): with drop the database's users (roles)
//   become exactly those of the temp collection; without it the missing ones are added and the
//   existing ones kept.
#include "pipeline/ops/users_roles.hpp"

#include <algorithm>

#include "formats/doc_sequence.hpp"
#include "io/commands.hpp"
#include "io/compress.hpp"
#include "io/storage.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::ByteSpan;
using formats::DocView;

namespace {

constexpr std::string_view kTempUsers = "tempusers";  // mongorestore's --tempUsersColl default
constexpr std::string_view kTempRoles = "temproles";
constexpr std::size_t kMaxAuthzBytes = 256u << 20;  // users and roles are small; a bound all the same

// getParameter {authSchemaVersion: 1}; 1 when the server does not have the parameter.
Result<int> server_auth_version(io::Connection& conn) {
  Bytes cmd = Builder().append_int32("getParameter", 1).append_int32("authSchemaVersion", 1).finish();
  auto r = io::run_command(conn, "admin", DocView(cmd));
  if (!r) {
    const std::string m = r.error().message();
    if (m.find("no option found to get") != std::string::npos || m.find("no such c") != std::string::npos) return 1;
    return Status{ErrorCode::kServer, "getting the auth schema version: " + r.error().to_string()};
  }
  auto v = r->body().find("authSchemaVersion");
  if (!v.valid() || (v.type() != formats::BsonType::kInt32 && v.type() != formats::BsonType::kInt64 &&
                     v.type() != formats::BsonType::kDouble))
    return Status{ErrorCode::kServer, "getParameter returned no numeric authSchemaVersion"};
  return static_cast<int>(v.number_as_double());
}

// Every document of admin.<coll> matching `filter`, concatenated. The filter is checked here too:
// some servers ignore it on system collections and would hand over every database's users.
Result<DbAuthzPart> read_all(io::Connection& conn, std::string_view coll, std::string_view part, DocView filter) {
  io::FindOptions fo;
  if (!filter.empty()) fo.filter = filter;
  auto cur = io::find(conn, "admin", coll, fo);
  if (!cur) return Status{ErrorCode::kServer, "find on admin." + std::string(coll) + ": " + cur.error().to_string()};
  DbAuthzPart p;
  p.collection = std::string(part);
  while (true) {
    for (ByteSpan d : cur->batch()) {
      if (!io::matches_filter(DocView(d), filter)) continue;
      ++p.count;
      p.documents.insert(p.documents.end(), d.begin(), d.end());
    }
    if (p.documents.size() > kMaxAuthzBytes)
      return Status{ErrorCode::kInvalidArgument, "admin." + std::string(coll) + " is larger than 256 MiB"};
    if (cur->exhausted()) break;
    auto more = cur->next_batch();
    if (!more)
      return Status{ErrorCode::kServer, "getMore on admin." + std::string(coll) + ": " + more.error().to_string()};
  }
  return p;
}

Result<Bytes> read_file(io::Storage& storage, const fs::path& path, formats::Compression c) {
  auto in = storage.open(path);
  if (!in) return in.status();
  Bytes raw;
  Bytes buf(1u << 20);
  while (true) {
    auto n = (*in)->read(buf.data(), buf.size());
    if (!n) return n.status();
    if (*n == 0) break;
    raw.insert(raw.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    if (raw.size() > kMaxAuthzBytes)
      return Status{ErrorCode::kInvalidArgument, path.string() + ": larger than 256 MiB"};
  }
  io::Codec codec = c == formats::Compression::kGzip   ? io::Codec::kGzip
                    : c == formats::Compression::kZstd ? io::Codec::kZstd
                                                       : io::detect_codec(raw);
  if (codec == io::Codec::kNone) return raw;
  auto dec = io::StreamDecompressor::create(codec);
  Bytes out;
  if (Status s = dec->feed(raw, out); !s) return Status{s.code(), path.string() + ": " + s.message(), s.offset()};
  if (Status s = dec->finish(); !s) return Status{s.code(), path.string() + ": " + s.message(), s.offset()};
  return out;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The file of admin.<coll> in a directory dump: <dir>/<coll>.bson[.gz|.zst], if there.
void find_file(io::Storage& storage, const fs::path& dir, std::string_view coll, UsersRolesRestore::Source& s) {
  for (const formats::CodecInfo& info : formats::codecs()) {
    formats::Compression c = info.codec;
    fs::path p = dir / (std::string(coll) + ".bson" + std::string(info.suffix));
    auto there = storage.exists(p);
    if (!there || !*there) continue;
    if (auto is_dir = storage.is_directory(p); is_dir && !*is_dir) {
      s.file = p;
      s.compression = c;
      s.present = true;
      return;
    }
  }
}

}  // namespace

// ---- dump ---------------------------------------------------------------------------------------

Status check_dump_users_and_roles(const DumpOptions& o) {
  if (!o.dump_users_and_roles) return {};
  if (o.db.empty())
    return {ErrorCode::kInvalidArgument, "--dumpDbUsersAndRoles needs --db (the database whose users and roles)"};
  if (!o.collection.empty())
    return {ErrorCode::kInvalidArgument, "--dumpDbUsersAndRoles cannot be used with --collection"};
  return {};
}

Result<std::vector<DbAuthzPart>> read_db_users_and_roles(io::Connection& conn, const std::string& db) {
  auto version = server_auth_version(conn);
  if (!version) return Status{version.status().code(), "--dumpDbUsersAndRoles: " + version.status().message()};
  if (*version < 3)
    return Status{
        ErrorCode::kInvalidArgument,
        "--dumpDbUsersAndRoles needs a server with auth schema version 3 or later, found " + std::to_string(*version)};
  Bytes by_db = Builder().append_string("db", db).finish();
  std::vector<DbAuthzPart> parts;
  for (auto [coll, part, filter] : {std::tuple{"system.users", kDbUsersCollection, DocView(by_db)},
                                    std::tuple{"system.roles", kDbRolesCollection, DocView(by_db)},
                                    std::tuple{"system.version", kDbVersionCollection, DocView()}}) {
    auto p = read_all(conn, coll, part, filter);
    if (!p) return p.status();
    parts.push_back(std::move(*p));
  }
  return parts;
}

Result<std::string> db_authz_file_path(const std::string& db, std::string_view collection, formats::Compression c) {
  auto any = formats::dump_file_path(db, "x", formats::DumpFileKind::kBson, c);  // for the database directory
  if (!any) return any.status();
  return (fs::path(*any).parent_path() /
          (std::string(collection) + ".bson" + std::string(formats::compression_suffix(c))))
      .string();
}

// ---- restore ------------------------------------------------------------------------------------

Status check_restore_users_and_roles(const RestoreOptions& o) {
  if (!o.plan.restore_users_and_roles) return {};
  if (o.plan.db.empty())
    return {ErrorCode::kInvalidArgument, "cannot use --restoreDbUsersAndRoles without a specified database (--db)"};
  if (o.plan.db == "admin")
    return {ErrorCode::kInvalidArgument, "cannot use --restoreDbUsersAndRoles with the admin database"};
  return {};
}

Result<std::unique_ptr<UsersRolesRestore>> UsersRolesRestore::prepare(const RestoreOptions& o, Plan& plan) {
  auto r = std::make_unique<UsersRolesRestore>();
  r->storage_ = o.storage ? o.storage : &io::local_storage();
  const bool db_mode = o.plan.restore_users_and_roles;
  const bool admin_mode = !db_mode && (o.plan.db.empty() || o.plan.db == "admin");
  r->db_mode_ = db_mode;

  // "$admin.system.*" entries are never collections: take them out of the plan.
  std::vector<RestoreTarget> special;
  std::erase_if(plan.targets, [&](RestoreTarget& t) {
    if (!starts_with(t.source_collection, "$admin.system.")) return false;
    special.push_back(std::move(t));
    return true;
  });
  for (auto& t : special) {
    Source* s = t.source_collection == kDbUsersCollection     ? &r->users_
                : t.source_collection == kDbRolesCollection   ? &r->roles_
                : t.source_collection == kDbVersionCollection ? &r->version_
                                                              : nullptr;
    if (!db_mode || s == nullptr || t.source_db != o.plan.db) {
      plan.skipped.push_back("not restoring " + t.source_ns() + " (users and roles of " + t.source_db +
                             ": restore them with --db " + t.source_db + " --restoreDbUsersAndRoles)");
      continue;
    }
    *s = Source{t.source_db, t.source_collection, t.data_file, t.compression, true, {}};
  }

  if (db_mode) {
    if (!r->users_.present && !r->roles_.present)
      return Status{ErrorCode::kInvalidArgument,
                    "--restoreDbUsersAndRoles: no users or roles of " + o.plan.db +
                        " in the dump ($admin.system.users / $admin.system.roles); dump with --dumpDbUsersAndRoles"};
    r->target_db_ = o.plan.db;
    return r;
  }
  if (!admin_mode) return std::unique_ptr<UsersRolesRestore>();

  // Full restore or --db admin: the instance's users and roles, from the admin database. The
  // planner listed them as skipped when the dump has them: that tells an archive's too.
  std::size_t found = 0;
  for (auto [coll, s] : {std::pair{"system.users", &r->users_}, std::pair{"system.roles", &r->roles_},
                         std::pair{"system.version", &r->version_}}) {
    auto why = skip_reason("admin", coll, o.plan);
    auto it = why ? std::find(plan.skipped.begin(), plan.skipped.end(), *why) : plan.skipped.end();
    if (it == plan.skipped.end()) continue;
    plan.skipped.erase(it);
    ++found;
    *s = Source{"admin", coll, {}, formats::Compression::kNone, !o.archive, {}};
    if (!o.archive) {
      s->present = false;
      fs::path dir = o.plan.db.empty() ? o.input / "admin" : o.input;
      find_file(*r->storage_, dir, coll, *s);
    } else {
      s->present = true;
    }
  }
  if (!r->users_.present && !r->roles_.present) {
    if (found > 0) plan.skipped.push_back("not restoring admin.system.version (no users or roles in the dump)");
    return std::unique_ptr<UsersRolesRestore>();
  }
  r->target_db_ = "";  // every database
  return r;
}

Result<bool> UsersRolesRestore::capture(const StreamEvent& ev) {
  if (!ev.entry) return false;
  for (Source* s : {&users_, &roles_, &version_}) {
    if (!s->present || ev.entry->db != s->db || ev.entry->collection != s->collection) continue;
    if (ev.kind == StreamEventKind::kDocuments) {
      s->captured.insert(s->captured.end(), ev.documents.begin(), ev.documents.end());
      if (s->captured.size() > kMaxAuthzBytes)
        return Status{ErrorCode::kInvalidArgument, "archive: " + ev.entry->ns() + " is larger than 256 MiB"};
    }
    return true;
  }
  return false;
}

Result<Bytes> UsersRolesRestore::documents(const Source& s) const {
  Bytes docs = s.file.empty() ? s.captured : Bytes();
  if (!s.file.empty()) {
    auto f = read_file(*storage_, s.file, s.compression);
    if (!f) return f.status();
    docs = std::move(*f);
  }
  std::string where = s.file.empty() ? "archive: " + s.db + "." + s.collection : s.file.string();
  auto n = formats::walk_documents(docs);
  if (!n) return Status{n.status().code(), where + ": " + n.status().message(), n.status().offset()};
  return docs;
}

Result<int> UsersRolesRestore::dump_auth_version() const {
  if (!version_.present) return db_mode_ ? 3 : 1;  // what mongorestore assumes without the file
  auto docs = documents(version_);
  if (!docs) return docs.status();
  for (DocView d : formats::DocSequence(*docs)) {  // walked whole by documents()
    auto id = d.find("_id");
    if (!id.valid() || id.type() != formats::BsonType::kString || id.as_string() != "authSchema") continue;
    auto v = d.find("currentVersion");
    if (v.valid() && (v.type() == formats::BsonType::kInt32 || v.type() == formats::BsonType::kInt64))
      return static_cast<int>(v.type() == formats::BsonType::kInt32 ? v.as_int32() : v.as_int64());
    return Status{ErrorCode::kInvalidArgument, version_.db + "." + version_.collection +
                                                   ": the authSchema document's currentVersion is not an integer"};
  }
  return Status{ErrorCode::kInvalidArgument,
                version_.db + "." + version_.collection + " in the dump has no authSchema document"};
}

// mongorestore's rule: which auth schema versions of a dump (d) a server (s) accepts.
static Status check_auth_versions(int d, int s, const std::function<void(const std::string&)>& log) {
  auto incompatible = [&](const std::string& why) {
    return Status{ErrorCode::kInvalidArgument,
                  "the users and roles in the dump have an auth schema version incompatible with the server: " + why};
  };
  if (d == 2 || d == 4) return incompatible("the dump's is " + std::to_string(d) + " (an unfinished upgrade)");
  if (s == 2 || s == 4) return incompatible("the server's is " + std::to_string(s) + " (an unfinished upgrade)");
  bool allowed =
      (d == 3 && s == 5) || (d == 5 && s == 5) || (d == 3 && s == 3) || (d == 1 && s == 1) || (d == 1 && s == 3);
  if (!allowed) return incompatible("dump " + std::to_string(d) + ", server " + std::to_string(s));
  if (d == 1 && s == 3) log("users and roles will have to be updated with the authSchemaUpgrade command");
  return {};
}

Status UsersRolesRestore::restore(io::Connection& conn, bool drop, const Bytes& write_concern,
                                  const std::function<void(const std::string&)>& log) {
  auto dump_v = dump_auth_version();
  if (!dump_v) return dump_v.status();
  auto server_v = server_auth_version(conn);
  if (!server_v) return server_v.status();
  if (auto st = check_auth_versions(*dump_v, *server_v, log); !st) return st;

  struct Temp {
    const Source* source;
    std::string_view name;
    std::string_view field;
  };
  std::vector<Temp> temps;
  if (users_.present) temps.push_back({&users_, kTempUsers, "tempUsersCollection"});
  if (roles_.present) temps.push_back({&roles_, kTempRoles, "tempRolesCollection"});

  // The temporary collections go away whatever happens.
  struct DropTemps {
    io::Connection& conn;
    std::vector<Temp>& temps;
    ~DropTemps() {
      for (auto& t : temps) (void)io::drop_collection(conn, "admin", t.name, true);
    }
  } drop_temps{conn, temps};

  Builder cmd;
  cmd.append_int32("_mergeAuthzCollections", 1);
  std::size_t max_bytes = io::insert_payload_limit(conn.server());
  std::size_t max_docs = conn.server().max_write_batch_size;
  io::InsertOptions io_opts;
  if (!write_concern.empty()) io_opts.write_concern = DocView(write_concern);
  std::uint64_t counts[2] = {0, 0};
  for (std::size_t i = 0; i < temps.size(); ++i) {
    const Temp& t = temps[i];
    auto docs = documents(*t.source);
    if (!docs) return docs.status();
    std::string what = t.source->db + "." + t.source->collection;
    if (docs->empty()) log(what + " is empty in the dump");
    if (auto e = io::drop_collection(conn, "admin", t.name, true); !e)
      return Status{ErrorCode::kServer, "dropping admin." + std::string(t.name) + ": " + e.to_string()};
    ByteSpan rest(*docs);
    while (!rest.empty()) {
      std::size_t n = 0;
      auto batch = io::next_insert_batch(rest, max_docs, max_bytes, &n);
      if (!batch) return Status{batch.status().code(), what + ": " + batch.status().message()};
      auto w = io::insert(conn, "admin", t.name, *batch, io_opts);
      if (!w)
        return Status{ErrorCode::kServer,
                      "inserting " + what + " into admin." + std::string(t.name) + ": " + w.error().to_string()};
      if (!w->ok()) {
        std::string m = w->write_errors.empty() ? "write concern error" : w->write_errors.front().errmsg;
        return Status{ErrorCode::kServer, "inserting " + what + " into admin." + std::string(t.name) + ": " + m};
      }
      counts[i] += n;
      rest = rest.subspan(batch->size());
    }
    cmd.append_string(t.field, "admin." + std::string(t.name));
  }
  cmd.append_bool("drop", drop).append_string("db", target_db_);
  if (!write_concern.empty()) cmd.append_document("writeConcern", DocView(write_concern));
  Bytes c = cmd.finish();
  if (auto r = io::run_command(conn, "admin", DocView(c)); !r)
    return Status{ErrorCode::kServer, "_mergeAuthzCollections: " + r.error().to_string()};
  std::string scope = target_db_.empty() ? "every database" : target_db_;
  std::string msg = "restored users and roles of " + scope + " (";
  for (std::size_t i = 0; i < temps.size(); ++i)
    msg += (i ? ", " : "") + std::to_string(counts[i]) + " from " + temps[i].source->db + "." +
           temps[i].source->collection;
  log(msg + (drop ? "; --drop: replaced the existing ones)" : ")"));
  return {};
}

}  // namespace bsonpipe::pipeline
