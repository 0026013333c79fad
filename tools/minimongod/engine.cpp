#include <algorithm>
#include <cstring>
#include <random>

#include "formats/doc_sequence.hpp"
#include "tools/minimongod/engine_internal.hpp"

namespace bsonpipe::minimongod {

std::string_view code_name(int c) {
  switch (c) {
    case 1: return "InternalError";
    case 2: return "BadValue";
    case 6: return "HostUnreachable";
    case 7: return "HostNotFound";
    case 9: return "FailedToParse";
    case 11: return "UserNotFound";
    case 13: return "Unauthorized";
    case 14: return "TypeMismatch";
    case 16: return "InvalidLength";
    case 17: return "ProtocolError";
    case 18: return "AuthenticationFailed";
    case 20: return "IllegalOperation";
    case 26: return "NamespaceNotFound";
    case 27: return "IndexNotFound";
    case 28: return "PathNotViable";
    case 31: return "RoleNotFound";  // users.cpp
    case 40: return "ConflictingUpdateOperators";
    case 43: return "CursorNotFound";
    case 48: return "NamespaceExists";
    case 50: return "MaxTimeMSExpired";
    case 59: return "CommandNotFound";
    case 64: return "WriteConcernFailed";
    case 66: return "ImmutableField";
    case 67: return "CannotCreateIndex";
    case 72: return "InvalidOptions";
    case 73: return "InvalidNamespace";
    case 76: return "NoReplicationEnabled";
    case 85: return "IndexOptionsConflict";
    case 86: return "IndexKeySpecsConflict";
    case 89: return "NetworkTimeout";
    case 91: return "ShutdownInProgress";
    case 96: return "OperationFailed";
    case 112: return "WriteConflict";
    case 115: return "CommandNotSupported";
    case 121: return "DocumentValidationFailure";
    case 136: return "CappedPositionLost";
    case 166: return "CommandNotSupportedOnView";
    case 189: return "PrimarySteppedDown";
    case 262: return "ExceededTimeLimit";
    case 10107: return "NotWritablePrimary";
    case 51002: return "Location51002";  // users.cpp: role already exists
    case 51003: return "Location51003";  // users.cpp: user already exists
    case 10334: return "BSONObjectTooLarge";
    case 11000: return "DuplicateKey";
    case 11600: return "InterruptedAtShutdown";
    case 11602: return "InterruptedDueToReplStateChange";
    case 13435: return "NotPrimaryNoSecondaryOk";
    case 31254: return "Location31254";
    default: return "UnknownError";
  }
}

Bytes error_reply(const CmdError& e) {
  formats::Builder b;
  b.append_double("ok", 0.0);
  b.append_string("errmsg", e.message);
  b.append_int32("code", e.code);
  b.append_string("codeName", code_name(e.code));
  if (e.retryable_write) b.open_array("errorLabels").append_string("0", "RetryableWriteError").close();
  return b.finish();
}

Expected<std::string_view> collection_arg(const Engine::Ctx& ctx) {
  if (ctx.arg.type() != BsonType::kString || ctx.arg.as_string().empty())
    return CmdError{code::kInvalidNamespace,
                    "collection name has invalid type " + std::string(formats::type_name(ctx.arg.type()))};
  return ctx.arg.as_string();
}

Expected<std::vector<DocView>> Engine::Ctx::documents(std::string_view field) const {
  std::vector<DocView> out;
  for (auto& s : req.sequences) {
    if (s.identifier != field) continue;
    formats::DocSequence docs(s.documents);
    for (DocView d : docs) {
      // Inserted documents are validated when stored; other statements are read here, so check them now.
      if (field != "documents" && !formats::validate(d.bytes()).is_ok())
        return CmdError{code::kInvalidOptions, "invalid BSON in document sequence '" + std::string(field) + "'"};
      out.push_back(d);
    }
    if (docs.error().fault == formats::SequenceFault::kTruncated)
      return CmdError{code::kInvalidOptions, "truncated document sequence"};
    if (!docs.ok()) return CmdError{code::kInvalidOptions, "bad document in sequence"};
  }
  ElementView arr = cmd.find(field);
  if (arr.valid()) {
    if (arr.type() != BsonType::kArray)
      return CmdError{code::kTypeMismatch, "'" + std::string(field) + "' must be an array"};
    for (auto e : arr.as_document()) {
      if (e.type() != BsonType::kDocument)
        return CmdError{code::kTypeMismatch, "'" + std::string(field) + "' entries must be objects"};
      out.push_back(e.as_document());
    }
  }
  return out;
}

Engine::Engine(EngineOptions opts) : opts_(std::move(opts)), fail_rules_(opts_.fail_rules), start_ms_(now_ms()) {
  std::random_device rd;
  std::mt19937 rng(rd());
  for (auto& b : oid_random_) b = static_cast<std::uint8_t>(rng());
  oid_counter_ = static_cast<std::uint32_t>(rng());
  host_ = opts_.host;
  if (auth_required()) {
    for (auto m : {io::ScramMechanism::kSha1, io::ScramMechanism::kSha256}) {
      auto cr = make_credentials(m, opts_.user, opts_.password);
      if (cr) credentials_.push_back(std::move(*cr));
    }
  }
  if (!opts_.repl_set.empty()) {
    CollectionConfig cfg;
    cfg.db = "local";
    cfg.name = "oplog.rs";
    cfg.id_index = false;
    cfg.capped = true;
    cfg.capped_size = opts_.oplog_max_bytes;
    formats::Builder o;
    o.append_bool("capped", true).append_int64("size", opts_.oplog_max_bytes);
    cfg.options = o.finish();
    auto c = catalog_.create(std::move(cfg));
    if (c) oplog_ = *c;
  }
}

Engine::~Engine() {
  shutdown();
}

void Engine::shutdown() {
  shutting_down_ = true;
  // Wake tailable cursors waiting on any capped collection.
  for (auto& db : catalog_.database_names()) {
    for (auto& c : catalog_.collections(db)) {
      std::unique_lock lock(c->mutex());
      if (c->capped()) c->inserted().notify_all();
    }
  }
}

void Engine::set_host(std::string host_port) {
  std::lock_guard lock(host_mu_);
  host_ = std::move(host_port);
}

formats::ObjectId Engine::new_object_id() {
  formats::ObjectId oid;
  auto secs = static_cast<std::uint32_t>(now_ms() / 1000);
  oid[0] = static_cast<std::uint8_t>(secs >> 24);
  oid[1] = static_cast<std::uint8_t>(secs >> 16);
  oid[2] = static_cast<std::uint8_t>(secs >> 8);
  oid[3] = static_cast<std::uint8_t>(secs);
  std::memcpy(oid.data() + 4, oid_random_.data(), 5);
  std::uint32_t c = oid_counter_.fetch_add(1);
  oid[9] = static_cast<std::uint8_t>(c >> 16);
  oid[10] = static_cast<std::uint8_t>(c >> 8);
  oid[11] = static_cast<std::uint8_t>(c);
  return oid;
}

void Engine::log_op(char op, std::string_view ns, const Uuid* ui, DocView o, const DocView* o2) {
  if (!oplog_) return;
  std::unique_lock lock(oplog_->mutex());
  formats::Timestamp ts;
  {
    std::lock_guard tl(ts_mu_);
    auto secs = static_cast<std::uint32_t>(now_ms() / 1000);
    if (secs > last_ts_.t)
      ts = {secs, 1};
    else
      ts = {last_ts_.t, last_ts_.i + 1};
    last_ts_ = ts;
  }
  formats::Builder b;
  char opstr[2] = {op, 0};
  b.append_timestamp("ts", ts).append_int64("t", 1).append_int64("v", 2).append_string("op", opstr);
  b.append_string("ns", ns);
  if (ui) append_uuid(b, "ui", *ui);
  b.append_document("o", o);
  if (o2) b.append_document("o2", *o2);
  b.append_datetime("wall", now_ms());
  auto doc = std::make_shared<const Bytes>(b.finish());
  (void)oplog_->insert(std::move(doc));
  oplog_->inserted().notify_all();
}

// ---------------------------------------------------------------------------------------------
// Dispatch

namespace {

struct CommandInfo {
  std::string_view name;
  Engine::Handler handler;
  bool needs_auth;
};

}  // namespace

struct EngineAccess {
  static const CommandInfo* find(std::string_view name) {
    static constexpr CommandInfo kCommands[] = {
        {"hello", &Engine::cmd_hello, false},
        {"isMaster", &Engine::cmd_hello, false},
        {"ismaster", &Engine::cmd_hello, false},
        {"buildInfo", &Engine::cmd_build_info, false},
        {"buildinfo", &Engine::cmd_build_info, false},
        {"ping", &Engine::cmd_ping, false},
        {"saslStart", &Engine::cmd_sasl_start, false},
        {"saslContinue", &Engine::cmd_sasl_continue, false},
        {"logout", &Engine::cmd_logout, false},
        {"authenticate", &Engine::cmd_authenticate, false},
        {"getParameter", &Engine::cmd_get_parameter, true},
        {"serverStatus", &Engine::cmd_server_status, true},
        {"endSessions", &Engine::cmd_end_sessions, true},
        {"connectionStatus", &Engine::cmd_connection_status, false},
        {"replSetGetStatus", &Engine::cmd_repl_set_get_status, true},
        {"insert", &Engine::cmd_insert, true},
        {"update", &Engine::cmd_update, true},
        {"delete", &Engine::cmd_delete, true},
        {"find", &Engine::cmd_find, true},
        {"getMore", &Engine::cmd_get_more, true},
        {"killCursors", &Engine::cmd_kill_cursors, true},
        {"count", &Engine::cmd_count, true},
        {"distinct", &Engine::cmd_distinct, true},
        {"aggregate", &Engine::cmd_aggregate, true},
        {"listDatabases", &Engine::cmd_list_databases, true},
        {"listCollections", &Engine::cmd_list_collections, true},
        {"listIndexes", &Engine::cmd_list_indexes, true},
        {"create", &Engine::cmd_create, true},
        {"drop", &Engine::cmd_drop, true},
        {"dropDatabase", &Engine::cmd_drop_database, true},
        {"createIndexes", &Engine::cmd_create_indexes, true},
        {"dropIndexes", &Engine::cmd_drop_indexes, true},
        {"deleteIndexes", &Engine::cmd_drop_indexes, true},
        {"collStats", &Engine::cmd_coll_stats, true},
        {"dbStats", &Engine::cmd_db_stats, true},
        {"renameCollection", &Engine::cmd_rename_collection, true},
        {"applyOps", &Engine::cmd_apply_ops, true},
        {"createUser", &Engine::cmd_create_user, true},
        {"dropUser", &Engine::cmd_drop_user, true},
        {"usersInfo", &Engine::cmd_users_info, true},
        {"createRole", &Engine::cmd_create_role, true},
        {"dropRole", &Engine::cmd_drop_role, true},
        {"rolesInfo", &Engine::cmd_roles_info, true},
        {"_mergeAuthzCollections", &Engine::cmd_merge_authz_collections, true},
    };
    for (auto& c : kCommands)
      if (c.name == name) return &c;
    return nullptr;
  }
};

Bytes Engine::run(Session& session, const CommandRequest& req) {
  DocView body = req.body;
  auto first = body.begin();
  if (first == body.end()) return error_reply({code::kFailedToParse, "empty command"});
  ElementView arg = *first;
  std::string_view db = "admin";
  if (auto d = get_string(body, "$db")) db = *d;
  Ctx ctx{session, req, body, arg.key(), db, arg};
  auto r = dispatch(ctx);
  if (!r) return error_reply(r.error());
  return std::move(r).value();
}

Expected<Bytes> Engine::dispatch(Ctx& ctx) {
  const CommandInfo* info = EngineAccess::find(ctx.name);
  if (info == nullptr) return CmdError{code::kCommandNotFound, "no such command: '" + std::string(ctx.name) + "'"};
  if (shutting_down_) return CmdError{code::kShutdownInProgress, "The server is in quiesce mode and will shut down"};
  if (info->needs_auth && auth_required() && !ctx.session.authenticated)
    return CmdError{code::kUnauthorized, "command " + std::string(ctx.name) + " requires authentication"};
  {
    std::lock_guard lock(fail_mu_);
    for (auto& rule : fail_rules_) {
      if (rule.command != ctx.name || rule.count == 0) continue;
      if (rule.count > 0) --rule.count;
      CmdError err{rule.code, "injected failure for " + rule.command};
      static constexpr int kRetryable[] = {6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436};
      bool is_write =
          ctx.name == "insert" || ctx.name == "update" || ctx.name == "delete" || ctx.name == "findAndModify";
      err.retryable_write =
          is_write && std::find(std::begin(kRetryable), std::end(kRetryable), rule.code) != std::end(kRetryable);
      return err;
    }
  }
  return (this->*(info->handler))(ctx);
}

// ---------------------------------------------------------------------------------------------
// Handshake and diagnostics

Expected<Bytes> Engine::cmd_hello(Ctx& ctx) {
  std::string host;
  {
    std::lock_guard lock(host_mu_);
    host = host_;
  }
  formats::Builder b;
  if (ctx.name == "hello" || get_bool(ctx.cmd, "helloOk")) b.append_bool("helloOk", true);
  bool legacy = ctx.name != "hello";
  b.append_bool(legacy ? "ismaster" : "isWritablePrimary", true);
  if (!opts_.repl_set.empty()) {
    b.append_string("setName", opts_.repl_set).append_int32("setVersion", 1);
    b.open_array("hosts").append_string("0", host).close();
    b.append_string("primary", host).append_string("me", host).append_bool("secondary", false);
    formats::ObjectId election{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1};
    b.append_object_id("electionId", election);
    formats::Timestamp ts;
    {
      std::lock_guard lock(ts_mu_);
      ts = last_ts_;
    }
    b.open_document("lastWrite");
    b.open_document("opTime").append_timestamp("ts", ts).append_int64("t", 1).close();
    b.append_datetime("lastWriteDate", static_cast<std::int64_t>(ts.t) * 1000);
    b.close();
  }
  b.append_int32("maxBsonObjectSize", kMaxBsonObjectSize);
  b.append_int32("maxMessageSizeBytes", kMaxMessageSizeBytes);
  b.append_int32("maxWriteBatchSize", kMaxWriteBatchSize);
  b.append_datetime("localTime", now_ms());
  b.append_int32("logicalSessionTimeoutMinutes", 30);
  b.append_int32("connectionId", static_cast<std::int32_t>(ctx.session.connection_id));
  b.append_int32("minWireVersion", 0).append_int32("maxWireVersion", kMaxWireVersion);
  b.append_bool("readOnly", false);
  if (auto asked = get_doc(ctx.cmd, "compression"); asked && ctx.cmd.find("compression").type() == BsonType::kArray) {
    ctx.session.compression.clear();
    for (auto c : *asked) {
      if (c.type() != BsonType::kString) continue;
      auto name = c.as_string();
      if (std::find(opts_.compressors.begin(), opts_.compressors.end(), name) != opts_.compressors.end())
        ctx.session.compression.emplace_back(name);
    }
    b.open_array("compression");
    for (auto& c : ctx.session.compression) b.append_string(b.next_array_key(), c);
    b.close();
  }
  if (auto mechs = get_string(ctx.cmd, "saslSupportedMechs"); mechs && auth_required()) {
    auto [udb, uname] = split_ns(*mechs);
    if (udb == "admin" && uname == opts_.user) {
      b.open_array("saslSupportedMechs").append_string("0", "SCRAM-SHA-1").append_string("1", "SCRAM-SHA-256").close();
    }
  }
  if (auto mechs = get_string(ctx.cmd, "saslSupportedMechs");
      mechs && !(auth_required() && split_ns(*mechs).first == "admin" && split_ns(*mechs).second == opts_.user)) {
    // A user stored in admin.system.users (users.cpp).
    auto [udb, uname] = split_ns(*mechs);
    auto stored = stored_mechanisms(udb, uname);
    if (!stored.empty()) {
      b.open_array("saslSupportedMechs");
      for (auto& m : stored) b.append_string(b.next_array_key(), m);
      b.close();
    }
  }
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_build_info(Ctx&) {
  formats::Builder b;
  b.append_string("version", "6.0.0");
  b.append_string("gitVersion", "minimongod");
  b.open_array("versionArray").append_int32("0", 6).append_int32("1", 0).append_int32("2", 0).append_int32("3", 0);
  b.close();
  b.append_int32("bits", 64).append_bool("debug", false).append_int32("maxBsonObjectSize", kMaxBsonObjectSize);
  b.open_array("storageEngines").append_string("0", "minimongod").close();
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_ping(Ctx&) {
  return ok_only();
}

Expected<Bytes> Engine::cmd_get_parameter(Ctx& ctx) {
  formats::Builder b;
  bool all = ctx.arg.type() == BsonType::kString && ctx.arg.as_string() == "*";
  if (all || ctx.cmd.find("featureCompatibilityVersion").valid())
    b.open_document("featureCompatibilityVersion").append_string("version", "6.0").close();
  if (all || ctx.cmd.find("authenticationMechanisms").valid())
    b.open_array("authenticationMechanisms")
        .append_string("0", "SCRAM-SHA-1")
        .append_string("1", "SCRAM-SHA-256")
        .close();
  if (all || ctx.cmd.find("maxBsonObjectSize").valid()) b.append_int32("maxBsonObjectSize", kMaxBsonObjectSize);
  if (all || ctx.cmd.find("authSchemaVersion").valid()) b.append_int32("authSchemaVersion", 5);  // users.cpp
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_server_status(Ctx&) {
  formats::Builder b;
  std::string host;
  {
    std::lock_guard lock(host_mu_);
    host = host_;
  }
  b.append_string("host", host).append_string("version", "6.0.0").append_string("process", "minimongod");
  b.append_int64("uptime", (now_ms() - start_ms_) / 1000).append_datetime("localTime", now_ms());
  b.open_document("connections").append_int64("totalCreated", next_connection_id_.load()).close();
  b.open_document("metrics").open_document("cursor").open_document("open");
  b.append_int64("total", static_cast<std::int64_t>(open_cursors())).close().close().close();
  if (!opts_.repl_set.empty()) b.open_document("repl").append_string("setName", opts_.repl_set).close();
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_end_sessions(Ctx&) {
  return ok_only();
}

Expected<Bytes> Engine::cmd_connection_status(Ctx& ctx) {
  formats::Builder b;
  b.open_document("authInfo").open_array("authenticatedUsers");
  if (ctx.session.authenticated && !ctx.session.authenticated_user.empty())
    b.open_document("0")
        .append_string("user", ctx.session.authenticated_user)
        .append_string("db", ctx.session.authenticated_db)
        .close();
  b.close().open_array("authenticatedUserRoles").close().close();
  return finish_ok(b);
}

Expected<Bytes> Engine::cmd_repl_set_get_status(Ctx&) {
  if (opts_.repl_set.empty()) return CmdError{76, "not running with --replSet"};
  std::string host;
  {
    std::lock_guard lock(host_mu_);
    host = host_;
  }
  formats::Builder b;
  b.append_string("set", opts_.repl_set).append_datetime("date", now_ms()).append_int32("myState", 1);
  b.open_array("members").open_document("0").append_int32("_id", 0).append_string("name", host);
  b.append_int32("state", 1).append_string("stateStr", "PRIMARY").append_bool("self", true).close().close();
  return finish_ok(b);
}

// ---------------------------------------------------------------------------------------------
// Direct inserts

Done Engine::insert_documents(std::string_view db, std::string_view coll, std::span<const Bytes> docs) {
  bool created = false;
  auto c = writable_collection(db, coll, &created);
  if (!c) return c.error();
  std::unique_lock lock((*c)->mutex());
  for (auto& d : docs) {
    auto p = prepare_insert(DocView(d));
    if (!p) return p.error();
    if (auto ok = insert_one(*c, std::move(*p)); !ok) return ok;
  }
  (*c)->inserted().notify_all();
  return {};
}

}  // namespace bsonpipe::minimongod
