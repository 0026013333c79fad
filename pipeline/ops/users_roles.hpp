// Users and roles of one database (dump --dumpDbUsersAndRoles, restore --restoreDbUsersAndRoles),
// and of the whole instance (admin.system.users/roles in a full restore), as mongodump and
// mongorestore handle them. See users_roles.cpp for what the stock tools do.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "formats/archive.hpp"
#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"
#include "formats/status.hpp"
#include "io/connection.hpp"
#include "pipeline/ops/dump.hpp"
#include "pipeline/ops/restore.hpp"
#include "pipeline/sources/namespace_stream.hpp"

namespace bsonpipe::pipeline {

// The names mongodump gives the three parts inside the dumped database's directory (with
// ".bson[.gz]") and archive namespace ("<db>.$admin.system.users").
inline constexpr std::string_view kDbUsersCollection = "$admin.system.users";
inline constexpr std::string_view kDbRolesCollection = "$admin.system.roles";
inline constexpr std::string_view kDbVersionCollection = "$admin.system.version";

// ---- dump -------------------------------------------------------------------------------------

// One part of a database's users and roles: all its documents (small: read whole).
struct DbAuthzPart {
  std::string collection;  // kDbUsersCollection, kDbRolesCollection or kDbVersionCollection
  formats::Bytes documents;
  std::uint64_t count = 0;
};

// mongodump's option rules: --dumpDbUsersAndRoles needs --db and no --collection.
Status check_dump_users_and_roles(const DumpOptions& o);

// Checks the server's auth schema version (>= 3), then reads admin.system.users and
// admin.system.roles documents of `db`, and all of admin.system.version, in that order.
Result<std::vector<DbAuthzPart>> read_db_users_and_roles(io::Connection& conn, const std::string& db);

// "<db dir>/$admin.system.users.bson[.gz|.zst]", relative to the dump root.
Result<std::string> db_authz_file_path(const std::string& db, std::string_view collection, formats::Compression c);

// ---- restore ----------------------------------------------------------------------------------

// mongorestore's option rules: --restoreDbUsersAndRoles needs --db, and not admin.
Status check_restore_users_and_roles(const RestoreOptions& o);

// Restores users and roles after the collections, as mongorestore does. Used by one thread.
class UsersRolesRestore {
 public:
  // Takes the "$admin.system.*" entries out of `plan` (they are never restored as collections)
  // and decides what to restore: with --restoreDbUsersAndRoles --db D, D's users and roles
  // (failing when the dump has none); in a full restore or with --db admin, the users and roles
  // of every database found in admin.system.users/roles. Null: nothing to restore.
  static Result<std::unique_ptr<UsersRolesRestore>> prepare(const RestoreOptions& o, Plan& plan);

  // Archive input: keeps the documents of the users/roles/version namespaces. True when the
  // event was one of them (the caller then ignores it).
  Result<bool> capture(const StreamEvent& ev);

  // Checks the dump's and the server's auth schema versions, loads the users and roles into
  // admin.tempusers / admin.temproles and merges them with _mergeAuthzCollections (replacing
  // the database's users and roles with --drop). The temporary collections are always dropped.
  Status restore(io::Connection& conn, bool drop, const formats::Bytes& write_concern,
                 const std::function<void(const std::string&)>& log);

  struct Source {
    std::string db;  // as in the dump ("app" for app.$admin.system.users, "admin" otherwise)
    std::string collection;
    std::filesystem::path file;  // directory input; empty for an archive
    formats::Compression compression = formats::Compression::kNone;
    bool present = false;     // found in the dump
    formats::Bytes captured;  // archive documents
  };

 private:
  Result<formats::Bytes> documents(const Source& s) const;
  Result<int> dump_auth_version() const;

  io::Storage* storage_ = nullptr;  // reads the dump's files (RestoreOptions::storage)
  std::string target_db_;           // the _mergeAuthzCollections db: "" = every database
  bool db_mode_ = false;            // --restoreDbUsersAndRoles
  Source users_, roles_, version_;
};

}  // namespace bsonpipe::pipeline
