// The command layer of minimongod: runs one MongoDB command (an OP_MSG body plus its kind-1
// document sequences) against the catalog and returns the reply document. Knows nothing about
// sockets, so tests drive it directly; the network server (server.hpp) wraps it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/bson.hpp"
#include "tools/minimongod/errors.hpp"
#include "tools/minimongod/scram_server.hpp"
#include "tools/minimongod/storage.hpp"

namespace bsonpipe::minimongod {

inline constexpr std::int32_t kMaxBsonObjectSize = 16 * 1024 * 1024;
inline constexpr std::int32_t kMaxMessageSizeBytes = 48'000'000;
inline constexpr std::int32_t kMaxWriteBatchSize = 100'000;
inline constexpr std::int32_t kMaxWireVersion = 17;
inline constexpr std::int32_t kDefaultFirstBatch = 101;
inline constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;

// One kind-1 section of an OP_MSG: "documents", "updates", "deletes" with concatenated BSON.
struct Sequence {
  std::string_view identifier;
  formats::ByteSpan documents;
};

struct CommandRequest {
  DocView body;
  std::span<const Sequence> sequences;
};

// --fault-fail CMD:CODE[:COUNT]
struct FailRule {
  std::string command;
  int code = 0;
  int count = -1;  // times to fail; -1 = always
};

struct EngineOptions {
  // Replica-set name; empty = standalone (no oplog).
  std::string repl_set;
  // host:port reported by hello (hosts/primary/me); the server sets it once bound.
  std::string host = "127.0.0.1:27017";
  // Size bound of local.oplog.rs in replica-set mode; old entries roll off.
  std::int64_t oplog_max_bytes = 256LL * 1024 * 1024;
  // Log operator updates as `$v: 2` deltas, as a 5.0+ primary does (replacements stay whole).
  // Off: every update is logged as the whole new document (the 4.x-style image older tests expect).
  bool oplog_v2_updates = false;
  // When both are set, every command but the handshake and SASL needs a SCRAM login.
  std::string user;
  std::string password;
  std::vector<FailRule> fail_rules;
  // Compressors offered in hello's `compression` (intersected with the client's list).
  std::vector<std::string> compressors = {"zstd", "zlib"};
  // Open cursors allowed at once (bounded; new ones fail beyond it).
  std::size_t max_cursors = 100'000;
  // --ignore-list-filters: behave like the MongoDB-compatible servers that return everything
  // whatever `filter` says: listCollections, listDatabases, and find on system.* collections.
  // Clients must match names themselves.
  bool ignore_list_filters = false;
};

class ScramConversation;  // defined in auth.cpp

// Per-connection state. Commands of one session are run one at a time by its owner.
struct Session {
  Session();
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  std::int64_t connection_id = 0;
  bool authenticated = false;
  std::string authenticated_user;
  std::string authenticated_db = "admin";  // "$external" after MONGODB-X509
  // The verified TLS client certificate's subject in RFC 2253 form ("CN=c,OU=u,O=o,C=US"); empty
  // when the client presented none (or the connection is not TLS). Set by the server.
  std::string client_subject;
  // Compressors negotiated by the handshake, in the client's order of preference.
  std::vector<std::string> compression;
  std::unique_ptr<ScramConversation> scram;
  std::int32_t next_conversation_id = 1;
};

struct Cursor;

class Engine {
 public:
  explicit Engine(EngineOptions opts = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one command and returns its reply ({ok: 1, ...} or {ok: 0, errmsg, code, codeName}).
  // Thread-safe; one session's commands must not run concurrently.
  Bytes run(Session& session, const CommandRequest& req);
  // Convenience: a command without sequences.
  Bytes run(Session& session, DocView body) { return run(session, CommandRequest{body, {}}); }

  // Stores documents directly (validated; _id added when missing). For --generate and tests.
  Done insert_documents(std::string_view db, std::string_view coll, std::span<const Bytes> docs);

  Catalog& catalog() { return catalog_; }
  const EngineOptions& options() const { return opts_; }
  void set_host(std::string host_port);
  bool auth_required() const { return !opts_.user.empty(); }
  std::int64_t new_connection_id() { return next_connection_id_.fetch_add(1) + 1; }
  formats::ObjectId new_object_id();
  // Wakes tailable cursors waiting for data; later commands fail with ShutdownInProgress.
  void shutdown();
  std::size_t open_cursors() const;

  // Command handlers (one per command; engine*.cpp). Public for the dispatch table only.
  struct Ctx;
  using Handler = Expected<Bytes> (Engine::*)(Ctx&);

 private:
  friend struct EngineAccess;
  Expected<Bytes> dispatch(Ctx& ctx);

  // engine.cpp: handshake, diagnostics
  Expected<Bytes> cmd_hello(Ctx& ctx);
  Expected<Bytes> cmd_build_info(Ctx& ctx);
  Expected<Bytes> cmd_ping(Ctx& ctx);
  Expected<Bytes> cmd_get_parameter(Ctx& ctx);
  Expected<Bytes> cmd_server_status(Ctx& ctx);
  Expected<Bytes> cmd_end_sessions(Ctx& ctx);
  Expected<Bytes> cmd_connection_status(Ctx& ctx);
  Expected<Bytes> cmd_repl_set_get_status(Ctx& ctx);
  // auth.cpp
  Expected<Bytes> cmd_sasl_start(Ctx& ctx);
  Expected<Bytes> cmd_sasl_continue(Ctx& ctx);
  Expected<Bytes> cmd_logout(Ctx& ctx);
  Expected<Bytes> cmd_authenticate(Ctx& ctx);  // MONGODB-X509 only
  // engine_crud.cpp
  Expected<Bytes> cmd_insert(Ctx& ctx);
  Expected<Bytes> cmd_update(Ctx& ctx);
  Expected<Bytes> cmd_delete(Ctx& ctx);
  Expected<Bytes> cmd_find(Ctx& ctx);
  Expected<Bytes> cmd_get_more(Ctx& ctx);
  Expected<Bytes> cmd_kill_cursors(Ctx& ctx);
  Expected<Bytes> cmd_count(Ctx& ctx);
  Expected<Bytes> cmd_distinct(Ctx& ctx);
  Expected<Bytes> cmd_aggregate(Ctx& ctx);
  // engine_catalog.cpp
  Expected<Bytes> cmd_list_databases(Ctx& ctx);
  Expected<Bytes> cmd_list_collections(Ctx& ctx);
  Expected<Bytes> cmd_list_indexes(Ctx& ctx);
  Expected<Bytes> cmd_create(Ctx& ctx);
  Expected<Bytes> cmd_drop(Ctx& ctx);
  Expected<Bytes> cmd_drop_database(Ctx& ctx);
  Expected<Bytes> cmd_create_indexes(Ctx& ctx);
  Expected<Bytes> cmd_drop_indexes(Ctx& ctx);
  Expected<Bytes> cmd_coll_stats(Ctx& ctx);
  Expected<Bytes> cmd_db_stats(Ctx& ctx);
  Expected<Bytes> cmd_rename_collection(Ctx& ctx);
  Expected<Bytes> cmd_apply_ops(Ctx& ctx);

  // users.cpp: users and roles in admin.system.users/roles, the auth schema in admin.system.version
  Expected<Bytes> cmd_create_user(Ctx& ctx);
  Expected<Bytes> cmd_drop_user(Ctx& ctx);
  Expected<Bytes> cmd_users_info(Ctx& ctx);
  Expected<Bytes> cmd_create_role(Ctx& ctx);
  Expected<Bytes> cmd_drop_role(Ctx& ctx);
  Expected<Bytes> cmd_roles_info(Ctx& ctx);
  Expected<Bytes> cmd_merge_authz_collections(Ctx& ctx);
  Done ensure_auth_schema();
  Done insert_authz(std::string_view coll, std::string_view key, Bytes doc, int exists_code, const std::string& what);
  std::size_t remove_authz(std::string_view coll, const std::vector<Bytes>& ids);
  Done merge_authz(std::string_view temp_ns, std::string_view target, std::string_view name_field, std::string_view db,
                   bool drop);
  // Whether user@db has a document in admin.system.users.
  bool user_exists(std::string_view db, std::string_view user);
  // The SCRAM credentials stored for user@db (admin.system.users), and the mechanisms it has.
  std::optional<ScramCredentials> stored_credentials(std::string_view db, std::string_view user, io::ScramMechanism m);
  std::vector<std::string> stored_mechanisms(std::string_view db, std::string_view user);

  // Shared helpers.
  struct WriteResult;
  Expected<std::shared_ptr<Collection>> writable_collection(std::string_view db, std::string_view name, bool* created);
  // Adds _id when missing, validates size and BSON; returns the stored form.
  Expected<DocPtr> prepare_insert(DocView doc);
  // Inserts and logs to the oplog. The caller holds the collection's lock exclusively.
  Done insert_one(const std::shared_ptr<Collection>& coll, DocPtr doc);
  // Appends an oplog entry when in replica-set mode. Call with the collection's lock held.
  void log_op(char op, std::string_view ns, const Uuid* ui, DocView o, const DocView* o2);
  Expected<Bytes> run_create(std::string_view db, DocView cmd);
  Expected<Bytes> run_apply_op(std::string_view db, DocView entry);

  // Cursors (engine_crud.cpp)
  std::shared_ptr<Cursor> checkout_cursor(std::int64_t id, std::string_view ns);
  void checkin_cursor(std::shared_ptr<Cursor> c);
  Expected<std::int64_t> register_cursor(std::shared_ptr<Cursor> c);
  // Appends up to `max_docs` documents (and about kMaxBatchBytes) to the open array of `b`.
  Done fill_batch(Cursor& c, formats::Builder& b, std::int64_t max_docs, std::int64_t await_ms);
  Expected<Bytes> cursor_reply(std::shared_ptr<Cursor> c, std::int64_t batch, bool first, bool single_batch,
                               std::int64_t await_ms);
  Expected<std::vector<DocPtr>> run_pipeline(std::string_view db, std::shared_ptr<Collection> coll, DocView pipeline,
                                             std::string_view coll_name);

  EngineOptions opts_;
  Catalog catalog_;
  std::vector<ScramCredentials> credentials_;  // one per mechanism, for opts_.user
  std::shared_ptr<Collection> oplog_;          // local.oplog.rs in replica-set mode
  std::mutex ts_mu_;                           // orders oplog timestamps
  formats::Timestamp last_ts_;
  std::mutex host_mu_;
  std::string host_;

  mutable std::mutex cursors_mu_;
  std::unordered_map<std::int64_t, std::shared_ptr<Cursor>> cursors_;
  std::int64_t cursor_seq_ = 0;

  std::mutex fail_mu_;
  std::vector<FailRule> fail_rules_;

  std::atomic<std::int64_t> next_connection_id_{0};
  std::atomic<std::uint32_t> oid_counter_;
  std::array<std::uint8_t, 5> oid_random_{};
  std::atomic<bool> shutting_down_{false};
  std::int64_t start_ms_ = 0;
};

// Builds {ok: 0, errmsg, code, codeName}.
Bytes error_reply(const CmdError& e);

}  // namespace bsonpipe::minimongod
