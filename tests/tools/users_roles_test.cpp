// dump --dumpDbUsersAndRoles and restore --restoreDbUsersAndRoles against minimongod: mongodump's
// files and archive namespaces (read back by Python's bson, an independent reader), restores
// that give equal usersInfo/rolesInfo and users who log in with their passwords (our SCRAM
// client and pymongo), --drop replacing one database's users only, and mongodump/mongorestore's
// option rules. Also the stock mongodump fixture with admin users (usersdump).
#include <gtest/gtest.h>

#include <set>

#include "formats/bson.hpp"
#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using formats::Builder;
using formats::Bytes;
using formats::DocView;
using test::bsonpipe;
using test::show;

void command(io::Connection& c, std::string_view db, const Bytes& cmd) {
  auto r = io::run_command(c, db, DocView(cmd));
  ASSERT_TRUE(r.is_ok()) << r.error().to_string();
}

struct RoleRef {
  std::string role, db;
};

Bytes create_user(const std::string& user, const std::string& pwd, const std::vector<RoleRef>& roles) {
  Builder b;
  b.append_string("createUser", user).append_string("pwd", pwd).open_array("roles");
  for (auto& r : roles)
    b.open_document(b.next_array_key()).append_string("role", r.role).append_string("db", r.db).close();
  b.close();
  return b.finish();
}

// app: role appReader, users alice (s3cret) and bob, 10 documents in items; other: carol.
void seed(const std::string& uri) {
  auto c = test::connect(uri);
  ASSERT_TRUE(c);
  Bytes role = [] {
    Builder b;
    b.append_string("createRole", "appReader").open_array("privileges").open_document("0");
    b.open_document("resource").append_string("db", "app").append_string("collection", "items").close();
    b.open_array("actions").append_string("0", "find").close().close().close();
    b.open_array("roles").open_document("0").append_string("role", "read").append_string("db", "app").close().close();
    return b.finish();
  }();
  command(*c, "app", role);
  command(*c, "app", create_user("alice", "s3cret", {{"readWrite", "app"}, {"appReader", "app"}}));
  command(*c, "app", create_user("bob", "pw2", {}));
  command(*c, "other", create_user("carol", "pw3", {{"read", "other"}}));
  Bytes docs;
  for (int i = 0; i < 10; ++i) {
    Bytes d = Builder().append_int32("_id", i).append_string("v", "x").finish();
    docs.insert(docs.end(), d.begin(), d.end());
  }
  auto w = io::insert(*c, "app", "items", docs);
  ASSERT_TRUE(w.is_ok() && w->ok());
}

// The raw usersInfo (with credentials) and rolesInfo (with privileges) replies for `db`.
std::pair<Bytes, Bytes> users_and_roles(const std::string& uri, const std::string& db) {
  auto c = test::connect(uri);
  if (!c) return {};
  Bytes u = Builder().append_int32("usersInfo", 1).append_bool("showCredentials", true).finish();
  Bytes r = Builder().append_int32("rolesInfo", 1).append_bool("showPrivileges", true).finish();
  auto ur = io::run_command(*c, db, DocView(u));
  auto rr = io::run_command(*c, db, DocView(r));
  EXPECT_TRUE(ur.is_ok() && rr.is_ok());
  if (!ur || !rr) return {};
  auto bytes = [](const io::Reply& x) { return Bytes(x.body().bytes().begin(), x.body().bytes().end()); };
  return {bytes(*ur), bytes(*rr)};
}

// "user@db" of the users of `db` on the server.
std::set<std::string> user_names(const std::string& uri, const std::string& db) {
  std::set<std::string> out;
  auto c = test::connect(uri);
  if (!c) return out;
  Bytes u = Builder().append_int32("usersInfo", 1).finish();
  auto r = io::run_command(*c, db, DocView(u));
  EXPECT_TRUE(r.is_ok());
  if (!r) return out;
  for (auto e : r->body().find("users").as_document()) {
    DocView d = e.as_document();
    out.insert(std::string(d.find("user").as_string()) + "@" + std::string(d.find("db").as_string()));
  }
  return out;
}

// Logs in as user@db with our SCRAM client and runs ping.
bool logs_in(int port, const std::string& user, const std::string& pwd, const std::string& db,
             const std::string& mech = "SCRAM-SHA-256") {
  auto u = io::parse_uri("mongodb://" + user + ":" + pwd + "@127.0.0.1:" + std::to_string(port) + "/?authSource=" + db +
                         "&authMechanism=" + mech);
  if (!u) return false;
  auto c = io::connect_selected(*u, io::ReadPreferenceMode::kPrimary);
  if (!c) return false;
  Bytes ping = Builder().append_int32("ping", 1).finish();
  return io::run_command(**c, db, DocView(ping)).is_ok();
}

// Python's bson reads the $admin.* files of a database directory: one line per file.
const char* kReadFiles = R"(
import bson, gzip, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.startswith('$admin'):
        continue
    data = open(os.path.join(d, f), 'rb').read()
    if f.endswith('.gz'):
        data = gzip.decompress(data)
    out = []
    for doc in bson.decode_all(data):
        if 'user' in doc:
            out.append(doc['user'] + '@' + doc['db'] + '[' + '+'.join(sorted(doc['credentials'])) + ']')
        elif 'role' in doc:
            out.append(doc['role'] + '@' + doc['db'] + '[' + str(len(doc['privileges'])) + ' privilege(s)]')
        else:
            out.append(str(doc['_id']) + '=' + str(doc.get('currentVersion')))
    print(f, ','.join(sorted(out)))
)";

// Python reads a mongodump archive by the format's spec: the prelude's namespaces, then each
// namespace's documents.
const char* kReadArchive = R"(
import bson, sys
data = open(sys.argv[1], 'rb').read()
assert data[:4] == bytes([0x6d, 0xe2, 0x99, 0x81]), 'magic'
pos = 4
def length(p):
    return int.from_bytes(data[p:p + 4], 'little', signed=True)
n = length(pos); pos += n  # header
while length(pos) != -1:
    n = length(pos); e = bson.decode(data[pos:pos + n]); pos += n
    if e['collection'].startswith('$'):
        print('prelude', e['db'], e['collection'], repr(e['metadata']), e.get('type'))
pos += 4
docs = {}
while pos < len(data):
    n = length(pos); h = bson.decode(data[pos:pos + n]); pos += n
    ns = h['db'] + '.' + h['collection']
    if h['EOF']:
        pos += 4  # namespace-eof = eof-header, terminator
        continue
    while length(pos) != -1:
        n = length(pos); docs.setdefault(ns, []).append(bson.decode(data[pos:pos + n])); pos += n
    pos += 4
for ns in sorted(docs):
    names = sorted(d.get('user', d.get('role', str(d['_id']))) for d in docs[ns])
    print(ns, ','.join(names))
)";

const std::string kExpectedFiles =
    "$admin.system.roles.bson appReader@app[1 privilege(s)]\n"
    "$admin.system.users.bson alice@app[SCRAM-SHA-1+SCRAM-SHA-256],bob@app[SCRAM-SHA-1+SCRAM-SHA-256]\n"
    "$admin.system.version.bson authSchema=5\n";

TEST(DumpUsersAndRoles, DirectoryAndArchiveHoldWhatMongodumpWrites) {
  test::MiniMongod server;
  seed(server.uri());
  fs::path dir = test::temp_dir("users-dump");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--out",
                     (dir / "plain").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  std::set<std::string> files;
  for (auto& f : fs::directory_iterator(dir / "plain" / "app")) files.insert(f.path().filename().string());
  // Literal "$" names, no metadata.json for them, as mongodump.
  EXPECT_EQ(files, (std::set<std::string>{"$admin.system.roles.bson", "$admin.system.users.bson",
                                          "$admin.system.version.bson", "items.bson", "items.metadata.json"}));
  auto py = test::run({"/usr/bin/python3", "-c", kReadFiles, (dir / "plain" / "app").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, kExpectedFiles);  // carol@other is not app's

  r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--gzip", "--out",
                (dir / "gz").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  py = test::run({"/usr/bin/python3", "-c", kReadFiles, (dir / "gz" / "app").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  std::string gz_expected = kExpectedFiles;
  for (auto pos = gz_expected.find(".bson "); pos != std::string::npos; pos = gz_expected.find(".bson ", pos + 1))
    gz_expected.replace(pos, 6, ".bson.gz ");
  EXPECT_EQ(py.out, gz_expected);

  fs::path archive = dir / "app.archive";
  r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--archive=" + archive.string(),
                "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  py = test::run({"/usr/bin/python3", "-c", kReadArchive, archive.string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out,
            "prelude app $admin.system.users '' \n"
            "prelude app $admin.system.roles '' \n"
            "prelude app $admin.system.version '' \n"
            "app.$admin.system.roles appReader\n"
            "app.$admin.system.users alice,bob\n"
            "app.$admin.system.version authSchema\n"
            "app.items 0,1,2,3,4,5,6,7,8,9\n");
}

TEST(RestoreUsersAndRoles, DirectoryAndArchiveRestoreEqualUsersThatLogIn) {
  test::MiniMongod source;
  seed(source.uri());
  fs::path dir = test::temp_dir("users-restore");
  auto r = bsonpipe({"dump", "--uri", source.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--out",
                     (dir / "d").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  r = bsonpipe({"dump", "--uri", source.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--gzip",
                "--archive=" + (dir / "a.gz").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto want = users_and_roles(source.uri(), "app");
  ASSERT_FALSE(want.first.empty());

  std::vector<std::vector<std::string>> inputs = {{(dir / "d" / "app").string()},
                                                  {"--gzip", "--archive=" + (dir / "a.gz").string()}};
  for (auto& input : inputs) {
    SCOPED_TRACE(input.back());
    test::MiniMongod target;
    std::vector<std::string> args = {"restore", "--uri", target.uri(), "--db", "app", "--restoreDbUsersAndRoles"};
    args.insert(args.end(), input.begin(), input.end());
    r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_NE(r.err.find("restored users and roles of app"), std::string::npos) << r.err;
    auto got = users_and_roles(target.uri(), "app");
    EXPECT_EQ(got.first, want.first) << "usersInfo differs";
    EXPECT_EQ(got.second, want.second) << "rolesInfo differs";
    EXPECT_TRUE(user_names(target.uri(), "other").empty());  // not in the dump
    EXPECT_TRUE(logs_in(target.port(), "alice", "s3cret", "app"));
    EXPECT_TRUE(logs_in(target.port(), "bob", "pw2", "app", "SCRAM-SHA-1"));
    EXPECT_FALSE(logs_in(target.port(), "alice", "wrong", "app"));
    // The temporary collections are gone.
    auto c = test::connect(target.uri());
    ASSERT_TRUE(c);
    auto colls = io::list_collections(*c, "admin");
    ASSERT_TRUE(colls.is_ok());
    for (auto& info : *colls) EXPECT_TRUE(info.name != "tempusers" && info.name != "temproles") << info.name;
    // pymongo, an independent client, logs in too.
    auto py = test::run({"/usr/bin/python3", "-c",
                         "import pymongo, sys\n"
                         "c = pymongo.MongoClient('127.0.0.1', int(sys.argv[1]), username='alice', password='s3cret',"
                         " authSource='app', directConnection=True)\n"
                         "print(c.app.items.count_documents({}))\n",
                         std::to_string(target.port())});
    EXPECT_EQ(py.exit_code, 0) << py.err;
    EXPECT_EQ(py.out, "10\n");
  }
}

TEST(RestoreUsersAndRoles, DropReplacesThatDatabasesUsersOnly) {
  test::MiniMongod source;
  seed(source.uri());
  fs::path dir = test::temp_dir("users-drop");
  auto r = bsonpipe({"dump", "--uri", source.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--out",
                     (dir / "d").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);

  test::MiniMongod target;
  {
    auto c = test::connect(target.uri());
    ASSERT_TRUE(c);
    command(*c, "app", create_user("alice", "old", {}));
    command(*c, "app", create_user("zed", "pwz", {}));
    command(*c, "other", create_user("carol", "pw3", {}));
  }
  // Without --drop: the missing ones are added, the existing ones kept.
  r = bsonpipe(
      {"restore", "--uri", target.uri(), "--db", "app", "--restoreDbUsersAndRoles", (dir / "d" / "app").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(user_names(target.uri(), "app"), (std::set<std::string>{"alice@app", "bob@app", "zed@app"}));
  EXPECT_TRUE(logs_in(target.port(), "alice", "old", "app"));
  EXPECT_FALSE(logs_in(target.port(), "alice", "s3cret", "app"));

  // With --drop: app's users are exactly the dump's; other's are left alone.
  r = bsonpipe({"restore", "--uri", target.uri(), "--db", "app", "--restoreDbUsersAndRoles", "--drop",
                (dir / "d" / "app").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(user_names(target.uri(), "app"), (std::set<std::string>{"alice@app", "bob@app"}));
  EXPECT_EQ(user_names(target.uri(), "other"), (std::set<std::string>{"carol@other"}));
  EXPECT_TRUE(logs_in(target.port(), "alice", "s3cret", "app"));
  EXPECT_FALSE(logs_in(target.port(), "alice", "old", "app"));
  EXPECT_TRUE(logs_in(target.port(), "carol", "pw3", "other"));
  EXPECT_EQ(users_and_roles(target.uri(), "app"), users_and_roles(source.uri(), "app"));
}

TEST(UsersAndRolesOptions, RefusedAsTheStockToolsRefuseThem) {
  test::MiniMongod server;
  seed(server.uri());
  fs::path dir = test::temp_dir("users-opts");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--dumpDbUsersAndRoles", "--out", (dir / "x").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--dumpDbUsersAndRoles needs --db"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x"));
  r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "-c", "items", "--dumpDbUsersAndRoles", "--out",
                (dir / "x").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--collection"), std::string::npos) << r.err;

  // A dump without users: --restoreDbUsersAndRoles fails before writing anything.
  r = bsonpipe(
      {"dump", "--uri", server.uri(), "--db", "app", "--out", (dir / "nousers").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  test::MiniMongod target;
  r = bsonpipe({"restore", "--uri", target.uri(), "--db", "app", "--restoreDbUsersAndRoles",
                (dir / "nousers" / "app").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no users or roles of app"), std::string::npos) << r.err;
  auto c = test::connect(target.uri());
  ASSERT_TRUE(c);
  auto n = io::count(*c, "app", "items");
  EXPECT_TRUE(!n.is_ok() || *n == 0);

  r = bsonpipe({"restore", "--uri", target.uri(), "--restoreDbUsersAndRoles", (dir / "nousers").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("without a specified database"), std::string::npos) << r.err;
  r = bsonpipe({"restore", "--uri", target.uri(), "--db", "admin", "--restoreDbUsersAndRoles",
                (dir / "nousers" / "app").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("with the admin database"), std::string::npos) << r.err;

  // Without the flag a dump's $admin.* files are not restored as collections.
  r = bsonpipe({"dump", "--uri", server.uri(), "--db", "app", "--dumpDbUsersAndRoles", "--out", (dir / "with").string(),
                "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  r = bsonpipe({"restore", "--uri", target.uri(), "--db", "app", (dir / "with" / "app").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("not restoring app.$admin.system.users"), std::string::npos) << r.err;
  EXPECT_TRUE(user_names(target.uri(), "app").empty());
}

// --db admin: mongodump dumps the admin database whole (every database's users) and skips the
// per-database step; a restore of the admin database restores them all.
TEST(UsersAndRolesOptions, AdminDatabaseDumpCarriesEveryUser) {
  test::MiniMongod server;
  seed(server.uri());
  fs::path dir = test::temp_dir("users-admin");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "admin", "--dumpDbUsersAndRoles", "--out",
                     (dir / "d").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("already dumped admin database"), std::string::npos) << r.err;
  auto py = test::run({"/usr/bin/python3", "-c",
                       "import bson, sys\n"
                       "print(sorted(d['user'] + '@' + d['db'] for d in bson.decode_all(open(sys.argv[1], "
                       "'rb').read())))\n",
                       (dir / "d" / "admin" / "system.users.bson").string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "['alice@app', 'bob@app', 'carol@other']\n");

  test::MiniMongod target;
  r = bsonpipe({"restore", "--uri", target.uri(), (dir / "d").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("restored users and roles of every database"), std::string::npos) << r.err;
  EXPECT_EQ(users_and_roles(target.uri(), "app"), users_and_roles(server.uri(), "app"));
  EXPECT_TRUE(logs_in(target.port(), "carol", "pw3", "other"));

  // The same through a whole-instance archive: admin.system.users/roles come back for every db.
  r = bsonpipe({"dump", "--uri", server.uri(), "--archive=" + (dir / "all.archive").string(), "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  test::MiniMongod target2;
  r = bsonpipe({"restore", "--uri", target2.uri(), "--archive=" + (dir / "all.archive").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("3 from admin.system.users, 1 from admin.system.roles"), std::string::npos) << r.err;
  EXPECT_EQ(users_and_roles(target2.uri(), "app"), users_and_roles(server.uri(), "app"));
  EXPECT_EQ(users_and_roles(target2.uri(), "other"), users_and_roles(server.uri(), "other"));
  EXPECT_EQ(test::server_documents(*test::connect(target2.uri()), "app", "items").size(), 10u);
}

// Real mongodump output (mongo-tools' usersdump: admin.system.users/roles/version of a 4.2
// server): a full restore loads its user and role unchanged, as mongorestore does.
TEST(RestoreUsersAndRoles, StockMongodumpUsersdumpFixture) {
  fs::path fixture = test::restore_testdata() / "usersdump";
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), fixture.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  auto c = test::connect(target.uri());
  ASSERT_TRUE(c);
  for (auto coll : {"system.users", "system.roles"}) {
    auto want = test::split_documents(test::read_file(fixture / "admin" / (std::string(coll) + ".bson")));
    auto got = test::server_documents(*c, "admin", coll);
    EXPECT_EQ(got, want) << coll;  // byte for byte: credentials, userId, roles
  }
  EXPECT_EQ(user_names(target.uri(), "admin"), (std::set<std::string>{"reportsUser@admin"}));
}

}  // namespace
}  // namespace bsonpipe
