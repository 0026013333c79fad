// Users and roles, kept where mongod keeps them: documents in admin.system.users ({_id:
// "<db>.<user>", userId, user, db, credentials.{SCRAM-SHA-1,SCRAM-SHA-256}, roles}) and
// admin.system.roles ({_id: "<db>.<role>", role, db, privileges, roles}), with the auth schema
// document {_id: "authSchema", currentVersion: 5} in admin.system.version written with the first
// user or role. Commands: createUser, dropUser, usersInfo, createRole, dropRole, rolesInfo and
// _mergeAuthzCollections (what mongorestore uses to load users and roles).
//
// _mergeAuthzCollections, as mongod implements it for mongorestore: {tempUsersCollection:
// "admin.<tmp>", tempRolesCollection: "admin.<tmp>", db: "<db>" ("" = every database), drop:
// bool}, run on admin. For each temp collection given, its documents of `db` (all when db is "")
// go into system.users/system.roles. Without drop, a document whose user (role) already exists is
// left out (the existing one stays) and the others are added. With drop, the result is exactly
// the temp collection's set for `db`: existing ones are replaced in place, the ones not in the
// temp collection are removed afterwards (never all at once, so the set is never empty midway).
// A missing temp collection counts as empty.
#include <algorithm>
#include <random>
#include <set>

#include "tools/minimongod/engine_internal.hpp"
#include "tools/minimongod/scram_server.hpp"

namespace bsonpipe::minimongod {

namespace {

constexpr int kUserNotFound = 11;
constexpr int kRoleNotFound = 31;
constexpr int kUserExists = 51003;
constexpr int kRoleExists = 51002;
constexpr std::int32_t kAuthSchemaVersion = 5;

// Built-in roles (those valid in any database, then those only in admin).
constexpr std::string_view kDbRoles[] = {"read", "readWrite", "dbAdmin", "dbOwner", "userAdmin", "enableSharding"};
constexpr std::string_view kAdminRoles[] = {"readAnyDatabase",
                                            "readWriteAnyDatabase",
                                            "userAdminAnyDatabase",
                                            "dbAdminAnyDatabase",
                                            "clusterAdmin",
                                            "clusterManager",
                                            "clusterMonitor",
                                            "hostManager",
                                            "backup",
                                            "restore",
                                            "root",
                                            "__system",
                                            "__queryableBackup",
                                            "directShardOperations"};

bool is_builtin_role(std::string_view db, std::string_view role) {
  if (std::find(std::begin(kDbRoles), std::end(kDbRoles), role) != std::end(kDbRoles)) return true;
  return db == "admin" && std::find(std::begin(kAdminRoles), std::end(kAdminRoles), role) != std::end(kAdminRoles);
}

std::string at_name(std::string_view name, std::string_view db) {
  return std::string(name) + "@" + std::string(db);
}

Bytes spec_of(std::string_view first, std::string_view name) {
  formats::Builder b;
  b.append_int32("v", 2).append_bool("unique", true);
  b.open_document("key").append_int32(first, 1).append_int32("db", 1).close();
  b.append_string("name", name);
  return b.finish();
}

// {_id: "<db>.<name>"}
Bytes id_doc(std::string_view db, std::string_view name) {
  formats::Builder b;
  b.append_string("_id", std::string(db) + "." + std::string(name));
  return b.finish();
}

struct NameDb {
  std::string name;
  std::string db;
  bool operator<(const NameDb& o) const { return std::tie(db, name) < std::tie(o.db, o.name); }
};

// A role or user reference: "name" (in `dflt_db`) or {<field>: name, db}.
Expected<NameDb> parse_ref(const ElementView& e, std::string_view field, std::string_view dflt_db) {
  if (e.type() == BsonType::kString) return NameDb{std::string(e.as_string()), std::string(dflt_db)};
  if (e.type() == BsonType::kDocument) {
    auto n = get_string(e.as_document(), field);
    auto d = get_string(e.as_document(), "db");
    if (n && d) return NameDb{std::string(*n), std::string(*d)};
  }
  return bad_value("a " + std::string(field) + " must be a string or a document {" + std::string(field) +
                   ": <name>, db: <db>}");
}

}  // namespace

// ---- storage helpers (admin.system.*) ------------------------------------------------------------

namespace {

// admin.<name>, created with its unique {<key>: 1, db: 1} index when `create`.
std::shared_ptr<Collection> authz_collection(Catalog& catalog, std::string_view name, std::string_view key,
                                             bool create) {
  if (!create) return catalog.find("admin", name);
  bool created = false;
  auto c = catalog.get_or_create("admin", name, &created);
  std::unique_lock lock(c->mutex());
  std::string name_of_index = std::string(key) + "_1_db_1";
  bool has =
      std::any_of(c->indexes().begin(), c->indexes().end(), [&](const Index& i) { return i.name == name_of_index; });
  if (!has && !key.empty()) {
    auto idx = parse_index_spec(DocView(spec_of(key, name_of_index)));
    if (idx) (void)c->add_index(std::move(*idx));
  }
  return c;
}

// Every document of a collection matching `pred`, copied out under the shared lock.
template <class Pred>
std::vector<DocPtr> collect(const std::shared_ptr<Collection>& c, Pred&& pred) {
  std::vector<DocPtr> out;
  if (!c) return out;
  std::shared_lock lock(c->mutex());
  for (auto& [rid, doc] : c->records())
    if (pred(view(doc))) out.push_back(doc);
  return out;
}

bool field_is(DocView d, std::string_view key, std::string_view value) {
  auto s = get_string(d, key);
  return s && *s == value;
}

// Sorted by (<field>, db), as mongod lists users and roles.
void sort_by_name(std::vector<DocPtr>& docs, std::string_view field) {
  std::sort(docs.begin(), docs.end(), [field](const DocPtr& a, const DocPtr& b) {
    auto key = [field](const DocPtr& p) {
      return std::pair{get_string(view(p), field).value_or(""), get_string(view(p), "db").value_or("")};
    };
    return key(a) < key(b);
  });
}

// usersInfo / rolesInfo selection (field "user" or "role"): a number means every one of database
// `db`; a name, a {<field>, db} document or an array of them means those.
Expected<std::vector<DocPtr>> select_named(const std::shared_ptr<Collection>& c, const ElementView& arg,
                                           std::string_view db, std::string_view field) {
  std::vector<DocPtr> found;
  if (is_numeric(arg)) {
    found = collect(c, [&](DocView d) { return field_is(d, "db", db); });
  } else {
    std::set<NameDb> wanted;
    auto add = [&](const ElementView& e) -> Done {
      auto r = parse_ref(e, field, db);
      if (!r) return r.error();
      wanted.insert(*r);
      return {};
    };
    if (arg.type() == BsonType::kArray) {
      for (auto e : arg.as_document())
        if (auto s = add(e); !s) return s.error();
    } else if (auto s = add(arg); !s) {
      return s.error();
    }
    found = collect(c, [&](DocView d) {
      auto n = get_string(d, field);
      auto in = get_string(d, "db");
      return n && in && wanted.contains(NameDb{std::string(*n), std::string(*in)});
    });
  }
  sort_by_name(found, field);
  return found;
}

}  // namespace

// ---- engine members ----------------------------------------------------------------------------

std::optional<ScramCredentials> Engine::stored_credentials(std::string_view db, std::string_view user,
                                                           io::ScramMechanism m) {
  auto users = catalog_.find("admin", "system.users");
  if (!users) return std::nullopt;
  auto found = collect(users, [&](DocView d) { return field_is(d, "user", user) && field_is(d, "db", db); });
  if (found.empty()) return std::nullopt;
  auto creds = get_doc(view(found.front()), "credentials");
  if (!creds) return std::nullopt;
  auto mech = get_doc(*creds, io::mechanism_name(m));
  if (!mech) return std::nullopt;
  auto iters = get_int(*mech, "iterationCount");
  auto salt = get_string(*mech, "salt");
  auto stored = get_string(*mech, "storedKey");
  auto server = get_string(*mech, "serverKey");
  if (!iters || *iters <= 0 || !salt || !stored || !server) return std::nullopt;
  auto s = io::base64_decode(*salt);
  auto st = io::base64_decode(*stored);
  auto sv = io::base64_decode(*server);
  if (!s || !st || !sv) return std::nullopt;
  ScramCredentials c;
  c.mechanism = m;
  c.salt = std::move(*s);
  c.iterations = static_cast<std::uint32_t>(*iters);
  c.stored_key = std::move(*st);
  c.server_key = std::move(*sv);
  return c;
}

bool Engine::user_exists(std::string_view db, std::string_view user) {
  auto users = catalog_.find("admin", "system.users");
  return !collect(users, [&](DocView d) { return field_is(d, "user", user) && field_is(d, "db", db); }).empty();
}

std::vector<std::string> Engine::stored_mechanisms(std::string_view db, std::string_view user) {
  std::vector<std::string> out;
  for (auto m : {io::ScramMechanism::kSha1, io::ScramMechanism::kSha256})
    if (stored_credentials(db, user, m)) out.emplace_back(io::mechanism_name(m));
  return out;
}

Done Engine::ensure_auth_schema() {
  auto c = catalog_.get_or_create("admin", "system.version");
  std::unique_lock lock(c->mutex());
  formats::Builder key;
  key.append_string("_id", "authSchema");
  Bytes k = key.finish();
  if (c->find_id(*DocView(k).begin()) != 0) return {};
  formats::Builder b;
  b.append_string("_id", "authSchema").append_int32("currentVersion", kAuthSchemaVersion);
  return insert_one(c, std::make_shared<const Bytes>(b.finish()));
}

// Inserts one users/roles document; DuplicateKey becomes mongod's "already exists" error.
Done Engine::insert_authz(std::string_view coll, std::string_view key, Bytes doc, int exists_code,
                          const std::string& what) {
  auto c = authz_collection(catalog_, coll, key, true);
  std::unique_lock lock(c->mutex());
  Done r = insert_one(c, std::make_shared<const Bytes>(std::move(doc)));
  if (!r && r.error().code == code::kDuplicateKey) return CmdError{exists_code, what + " already exists"};
  return r;
}

// Removes the documents with these _ids; returns how many there were.
std::size_t Engine::remove_authz(std::string_view coll, const std::vector<Bytes>& ids) {
  auto c = catalog_.find("admin", coll);
  if (!c) return 0;
  std::unique_lock lock(c->mutex());
  std::size_t n = 0;
  for (auto& id : ids) {
    RecordId rid = c->find_id(*DocView(id).begin());
    if (rid == 0) continue;
    c->remove(rid);
    log_op('d', c->ns(), &c->uuid(), DocView(id), nullptr);
    ++n;
  }
  return n;
}

// ---- users ---------------------------------------------------------------------------------------

namespace {

// roles: [..] as stored: [{role, db}, ...]; checks that each role exists.
Expected<Bytes> stored_roles(Catalog& catalog, DocView roles, std::string_view db) {
  formats::Builder b;
  b.open_array("roles");
  auto custom = catalog.find("admin", "system.roles");
  for (auto e : roles) {
    auto r = parse_ref(e, "role", db);
    if (!r) return r.error();
    if (!is_builtin_role(r->db, r->name)) {
      auto found = collect(custom, [&](DocView d) { return field_is(d, "role", r->name) && field_is(d, "db", r->db); });
      if (found.empty()) return CmdError{kRoleNotFound, "Could not find role: " + at_name(r->name, r->db)};
    }
    b.open_document(b.next_array_key()).append_string("role", r->name).append_string("db", r->db).close();
  }
  b.close();
  return b.finish();
}

}  // namespace

Expected<Bytes> Engine::cmd_create_user(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString || ctx.arg.as_string().empty())
    return bad_value("createUser needs a user name");
  std::string user(ctx.arg.as_string());
  std::string db(ctx.db);
  // Users of $external (MONGODB-X509: the user name is a certificate subject) have no password;
  // mongod stores credentials {external: true} for them.
  const bool external = db == "$external";
  auto pwd = get_string(ctx.cmd, "pwd");
  if (external && pwd) return bad_value("Cannot set the password for users defined on the '$external' database");
  if (!external && (!pwd || pwd->empty())) return bad_value("createUser needs a non-empty pwd");
  auto roles_el = ctx.cmd.find("roles");
  if (!roles_el.valid() || roles_el.type() != BsonType::kArray)
    return CmdError{code::kBadValue, "\"createUser\" command requires a \"roles\" array"};
  if (!get_bool(ctx.cmd, "digestPassword", true))
    return bad_value("Use of SCRAM-SHA-256 requires undigested passwords");
  std::vector<io::ScramMechanism> mechs = {io::ScramMechanism::kSha1, io::ScramMechanism::kSha256};
  if (auto asked = get_doc(ctx.cmd, "mechanisms")) {
    mechs.clear();
    for (auto m : *asked) {
      auto pm = m.type() == BsonType::kString ? io::parse_mechanism(m.as_string())
                                              : Result<io::ScramMechanism>(Status{ErrorCode::kInvalidArgument, ""});
      if (!pm) return bad_value("Unknown auth mechanism in mechanisms");
      mechs.push_back(*pm);
    }
    if (mechs.empty()) return bad_value("mechanisms field must not be empty");
  }
  auto roles = stored_roles(catalog_, roles_el.as_document(), db);
  if (!roles) return roles.error();

  formats::Builder b;
  b.append_string("_id", db + "." + user);
  Uuid uid;  // a random (version 4) UUID, as mongod gives each user
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (auto& byte : uid) byte = static_cast<std::uint8_t>(rng());
  uid[6] = static_cast<std::uint8_t>((uid[6] & 0x0f) | 0x40);
  uid[8] = static_cast<std::uint8_t>((uid[8] & 0x3f) | 0x80);
  append_uuid(b, "userId", uid);
  b.append_string("user", user).append_string("db", db);
  b.open_document("credentials");
  if (external) {
    b.append_bool("external", true);
    mechs.clear();
  }
  for (auto m : mechs) {
    auto cr = make_credentials(m, user, *pwd);
    if (!cr) return bad_value("cannot derive credentials: " + cr.status().to_string());
    b.open_document(io::mechanism_name(m));
    b.append_int32("iterationCount", static_cast<std::int32_t>(cr->iterations));
    b.append_string("salt", io::base64_encode(cr->salt));
    b.append_string("storedKey", io::base64_encode(cr->stored_key));
    b.append_string("serverKey", io::base64_encode(cr->server_key));
    b.close();
  }
  b.close();
  if (auto cd = ctx.cmd.find("customData"); cd.valid()) {
    if (cd.type() != BsonType::kDocument) return bad_value("customData must be an object");
    b.append_element("customData", cd);
  }
  b.append_array("roles", DocView(*roles).find("roles").as_document());
  if (auto s = ensure_auth_schema(); !s) return s.error();
  if (auto s = insert_authz("system.users", "user", b.finish(), kUserExists, "User \"" + at_name(user, db) + "\""); !s)
    return s.error();
  return ok_only();
}

Expected<Bytes> Engine::cmd_drop_user(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString) return bad_value("dropUser needs a user name");
  std::string user(ctx.arg.as_string());
  if (remove_authz("system.users", {id_doc(ctx.db, user)}) == 0)
    return CmdError{kUserNotFound, "User '" + at_name(user, ctx.db) + "' not found"};
  return ok_only();
}

Expected<Bytes> Engine::cmd_users_info(Ctx& ctx) {
  auto users = catalog_.find("admin", "system.users");
  std::vector<DocPtr> found;
  if (ctx.arg.type() == BsonType::kDocument && get_bool(ctx.arg.as_document(), "forAllDBs")) {
    found = collect(users, [](DocView) { return true; });
    sort_by_name(found, "user");
  } else {
    auto selected = select_named(users, ctx.arg, ctx.db, "user");
    if (!selected) return selected.error();
    found = std::move(*selected);
  }
  bool show_credentials = get_bool(ctx.cmd, "showCredentials");
  formats::Builder b;
  b.open_array("users");
  for (auto& p : found) {
    b.open_document(b.next_array_key());
    for (auto e : view(p))
      if (e.key() != "credentials" || show_credentials) b.append_raw_element(e.raw());
    b.open_array("mechanisms");
    if (auto creds = get_doc(view(p), "credentials"))
      for (auto m : *creds) b.append_string(b.next_array_key(), m.key());
    b.close();
    b.close();
  }
  b.close();
  return finish_ok(b);
}

// ---- roles ---------------------------------------------------------------------------------------

Expected<Bytes> Engine::cmd_create_role(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString || ctx.arg.as_string().empty())
    return bad_value("createRole needs a role name");
  std::string role(ctx.arg.as_string());
  std::string db(ctx.db);
  if (is_builtin_role(db, role) || is_builtin_role("admin", role))
    return CmdError{kRoleExists, "Role \"" + at_name(role, db) + "\" already exists"};
  auto privs = ctx.cmd.find("privileges");
  if (!privs.valid() || privs.type() != BsonType::kArray)
    return bad_value("\"createRole\" command requires a \"privileges\" array");
  for (auto p : privs.as_document()) {
    if (p.type() != BsonType::kDocument || !get_doc(p.as_document(), "resource") ||
        !get_doc(p.as_document(), "actions"))
      return bad_value("a privilege must be a document {resource: {...}, actions: [...]}");
  }
  auto roles_el = ctx.cmd.find("roles");
  if (!roles_el.valid() || roles_el.type() != BsonType::kArray)
    return bad_value("\"createRole\" command requires a \"roles\" array");
  auto roles = stored_roles(catalog_, roles_el.as_document(), db);
  if (!roles) return roles.error();
  formats::Builder b;
  b.append_string("_id", db + "." + role).append_string("role", role).append_string("db", db);
  b.append_array("privileges", privs.as_document());
  b.append_array("roles", DocView(*roles).find("roles").as_document());
  if (auto s = ensure_auth_schema(); !s) return s.error();
  if (auto s = insert_authz("system.roles", "role", b.finish(), kRoleExists, "Role \"" + at_name(role, db) + "\""); !s)
    return s.error();
  return ok_only();
}

Expected<Bytes> Engine::cmd_drop_role(Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString) return bad_value("dropRole needs a role name");
  std::string role(ctx.arg.as_string());
  if (is_builtin_role(ctx.db, role))
    return CmdError{code::kBadValue, "Cannot drop built-in role: " + at_name(role, ctx.db)};
  if (remove_authz("system.roles", {id_doc(ctx.db, role)}) == 0)
    return CmdError{kRoleNotFound, "Role '" + at_name(role, ctx.db) + "' not found"};
  return ok_only();
}

Expected<Bytes> Engine::cmd_roles_info(Ctx& ctx) {
  auto selected = select_named(catalog_.find("admin", "system.roles"), ctx.arg, ctx.db, "role");
  if (!selected) return selected.error();
  std::vector<DocPtr> found = std::move(*selected);
  bool show_privileges = get_bool(ctx.cmd, "showPrivileges");
  formats::Builder b;
  b.open_array("roles");
  for (auto& p : found) {
    DocView d = view(p);
    b.open_document(b.next_array_key());
    for (auto e : d)
      if (e.key() != "privileges" || show_privileges) b.append_raw_element(e.raw());
    b.append_bool("isBuiltin", false);
    if (auto r = d.find("roles"); r.valid()) b.append_element("inheritedRoles", r);
    b.close();
  }
  b.close();
  return finish_ok(b);
}

// ---- _mergeAuthzCollections ----------------------------------------------------------------------

Done Engine::merge_authz(std::string_view temp_ns, std::string_view target, std::string_view name_field,
                         std::string_view db, bool drop) {
  auto [tdb, tcoll] = split_ns(temp_ns);
  if (tdb.empty() || tcoll.empty()) return bad_value("bad temporary collection namespace: " + std::string(temp_ns));
  auto for_db = [&](DocView d) { return db.empty() || field_is(d, "db", db); };
  auto incoming = collect(catalog_.find(tdb, tcoll), for_db);
  auto dst = authz_collection(catalog_, target, name_field, true);

  // The ones present before the merge (for drop: those not seen again are removed at the end).
  std::set<NameDb> existing;
  for (auto& p : collect(dst, for_db))
    existing.insert({std::string(get_string(view(p), name_field).value_or("")),
                     std::string(get_string(view(p), "db").value_or(""))});
  std::set<NameDb> seen;
  std::unique_lock lock(dst->mutex());
  for (auto& p : incoming) {
    DocView d = view(p);
    auto name = get_string(d, name_field);
    auto ddb = get_string(d, "db");
    if (!name || !ddb)
      return bad_value("a document of " + std::string(temp_ns) + " has no string " + std::string(name_field) +
                       " or db field");
    NameDb key{std::string(*name), std::string(*ddb)};
    seen.insert(key);
    auto fresh = prepare_insert(d);
    if (!fresh) return fresh.error();
    if (drop && existing.contains(key)) {
      // Replace in place, by the user (role) name rather than the _id.
      for (auto& [rid, doc] : dst->records()) {
        if (field_is(view(doc), name_field, key.name) && field_is(view(doc), "db", key.db)) {
          Bytes id = formats::Builder().append_element("_id", view(doc).find("_id")).finish();
          if (auto s = dst->replace(rid, *fresh); !s) return s;
          DocView o2(id);
          log_op('u', dst->ns(), &dst->uuid(), d, &o2);
          break;
        }
      }
      continue;
    }
    // Without drop an existing one is kept (mongod logs and goes on, as mongorestore expects).
    (void)insert_one(dst, *fresh);
  }
  if (drop) {
    std::vector<RecordId> gone;
    for (auto& [rid, doc] : dst->records()) {
      auto name = get_string(view(doc), name_field);
      auto ddb = get_string(view(doc), "db");
      if (!name || !ddb || !for_db(view(doc))) continue;
      NameDb key{std::string(*name), std::string(*ddb)};
      if (existing.contains(key) && !seen.contains(key)) gone.push_back(rid);
    }
    for (RecordId rid : gone) {
      Bytes id = formats::Builder().append_element("_id", view(dst->records().at(rid)).find("_id")).finish();
      dst->remove(rid);
      log_op('d', dst->ns(), &dst->uuid(), DocView(id), nullptr);
    }
  }
  return {};
}

Expected<Bytes> Engine::cmd_merge_authz_collections(Ctx& ctx) {
  if (ctx.db != "admin")
    return CmdError{code::kUnauthorized, "_mergeAuthzCollections may only be run against the admin database."};
  auto users = get_string(ctx.cmd, "tempUsersCollection").value_or("");
  auto roles = get_string(ctx.cmd, "tempRolesCollection").value_or("");
  auto db_el = ctx.cmd.find("db");
  if (!db_el.valid() || db_el.type() != BsonType::kString)
    return bad_value("_mergeAuthzCollections needs a string \"db\" field (\"\" for every database)");
  if (users.empty() && roles.empty())
    return bad_value("Must provide at least one of \"tempUsersCollection\" and \"tempRolescollection\"");
  std::string_view db = db_el.as_string();
  bool drop = get_bool(ctx.cmd, "drop");
  if (!users.empty())
    if (auto s = merge_authz(users, "system.users", "user", db, drop); !s) return s.error();
  if (!roles.empty())
    if (auto s = merge_authz(roles, "system.roles", "role", db, drop); !s) return s.error();
  if (auto s = ensure_auth_schema(); !s) return s.error();
  return ok_only();
}

}  // namespace bsonpipe::minimongod
