// minimongod's users and roles (tools/minimongod/users.cpp): documents shaped as mongod's in
// admin.system.users/roles, SCRAM credentials checked against OpenSSL directly (not io/scram),
// logins of stored users, and _mergeAuthzCollections with and without drop.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <set>

#include "io/scram.hpp"
#include "tests/minimongod/mm_util.hpp"

namespace bsonpipe::minimongod::test {
namespace {

class UsersTest : public ::testing::Test {
 protected:
  Bytes cmd(std::string_view json, std::string_view db = "app") { return run(engine, session, json, db); }
  void must(std::string_view json, std::string_view db = "app") {
    Bytes r = cmd(json, db);
    ASSERT_TRUE(ok(r)) << json << " -> " << DocView(r).find("errmsg").as_string();
  }
  // The admin.<coll> documents, as stored.
  std::vector<Bytes> stored(std::string_view coll) {
    return batch(cmd(R"({"find":")" + std::string(coll) + R"(","batchSize":1000})", "admin"));
  }
  // "user@db" of every user of admin.system.users (or "role@db" of system.roles).
  std::set<std::string> names(std::string_view coll, std::string_view field) {
    std::set<std::string> out;
    for (auto& d : stored(coll))
      out.insert(std::string(DocView(d).find(field).as_string()) + "@" +
                 std::string(DocView(d).find("db").as_string()));
    return out;
  }
  // A whole SCRAM conversation for user@db; true when the server accepted the proof.
  bool login(std::string_view db, const std::string& user, const std::string& pw, io::ScramMechanism mech) {
    Session t;
    io::ScramClient client(mech, user, pw);
    auto first = client.first_message();
    EXPECT_TRUE(first.is_ok());
    Builder b;
    b.append_int32("saslStart", 1).append_string("mechanism", io::mechanism_name(mech));
    b.append_binary("payload", 0, io::as_bytes(*first)).open_document("options").append_bool("skipEmptyExchange", true);
    b.close().append_string("$db", db);
    Bytes start = b.finish();
    Bytes r = engine.run(t, DocView(start));
    if (!ok(r)) return false;
    auto payload = DocView(r).find("payload").as_binary().data;
    auto fin =
        client.handle_server_first(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
    if (!fin.is_ok()) return false;
    Builder c;
    c.append_int32("saslContinue", 1)
        .append_int32("conversationId", static_cast<std::int32_t>(num(DocView(r), "conversationId")));
    c.append_binary("payload", 0, io::as_bytes(*fin)).append_string("$db", db);
    Bytes cont = c.finish();
    r = engine.run(t, DocView(cont));
    if (!ok(r)) return false;
    payload = DocView(r).find("payload").as_binary().data;
    return client.handle_server_final(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()))
        .is_ok();
  }
  Engine engine;
  Session session;
};

std::string b64(std::string_view text) {
  auto d = io::base64_decode(text);
  EXPECT_TRUE(d.is_ok()) << text;
  return d.is_ok() ? std::string(d->begin(), d->end()) : std::string();
}

// storedKey and serverKey per RFC 5802, computed with OpenSSL alone.
std::pair<std::string, std::string> rfc_keys(const EVP_MD* md, const std::string& password, const std::string& salt,
                                             int iterations) {
  unsigned char salted[64];
  int n = EVP_MD_size(md);
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations, md,
                    n, salted);
  unsigned char client_key[64], server_key[64], stored[64];
  unsigned int len = 0;
  HMAC(md, salted, n, reinterpret_cast<const unsigned char*>("Client Key"), 10, client_key, &len);
  HMAC(md, salted, n, reinterpret_cast<const unsigned char*>("Server Key"), 10, server_key, &len);
  EVP_Digest(client_key, static_cast<std::size_t>(n), stored, &len, md, nullptr);
  return {std::string(reinterpret_cast<char*>(stored), static_cast<std::size_t>(n)),
          std::string(reinterpret_cast<char*>(server_key), static_cast<std::size_t>(n))};
}

std::string md5_hex(const std::string& s) {
  unsigned char d[16];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d, &len, EVP_md5(), nullptr);
  static const char* x = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) out += {x[c >> 4], x[c & 15]};
  return out;
}

TEST_F(UsersTest, CreateUserStoresMongodShapedDocumentsWithRfcCredentials) {
  // No auth schema document before the first user, as on a fresh mongod.
  EXPECT_TRUE(stored("system.version").empty());
  must(R"({"createUser":"alice","pwd":"s3cret","roles":["readWrite",{"role":"read","db":"other"}]})");
  auto users = stored("system.users");
  ASSERT_EQ(users.size(), 1u);
  DocView u(users[0]);
  EXPECT_EQ(u.find("_id").as_string(), "app.alice");
  EXPECT_EQ(u.find("user").as_string(), "alice");
  EXPECT_EQ(u.find("db").as_string(), "app");
  EXPECT_EQ(u.find("userId").type(), formats::BsonType::kBinary);
  EXPECT_EQ(u.find("userId").as_binary().subtype, 4);
  EXPECT_EQ(u.find_path("roles.0.role").as_string(), "readWrite");
  EXPECT_EQ(u.find_path("roles.0.db").as_string(), "app");
  EXPECT_EQ(u.find_path("roles.1.db").as_string(), "other");

  DocView sha256 = u.find_path("credentials.SCRAM-SHA-256").as_document();
  EXPECT_EQ(num(sha256, "iterationCount"), 15000);
  std::string salt = b64(sha256.find("salt").as_string());
  EXPECT_EQ(salt.size(), 28u);
  auto [stored256, server256] = rfc_keys(EVP_sha256(), "s3cret", salt, 15000);
  EXPECT_EQ(b64(sha256.find("storedKey").as_string()), stored256);
  EXPECT_EQ(b64(sha256.find("serverKey").as_string()), server256);

  // SCRAM-SHA-1 hashes MongoDB's digest of "user:mongo:password", not the password itself.
  DocView sha1 = u.find_path("credentials.SCRAM-SHA-1").as_document();
  EXPECT_EQ(num(sha1, "iterationCount"), 10000);
  salt = b64(sha1.find("salt").as_string());
  EXPECT_EQ(salt.size(), 16u);
  auto [stored1, server1] = rfc_keys(EVP_sha1(), md5_hex("alice:mongo:s3cret"), salt, 10000);
  EXPECT_EQ(b64(sha1.find("storedKey").as_string()), stored1);
  EXPECT_EQ(b64(sha1.find("serverKey").as_string()), server1);

  auto version = stored("system.version");
  ASSERT_EQ(version.size(), 1u);
  EXPECT_EQ(DocView(version[0]).find("_id").as_string(), "authSchema");
  EXPECT_EQ(num(DocView(version[0]), "currentVersion"), 5);
  EXPECT_EQ(num(DocView(cmd(R"({"getParameter":1,"authSchemaVersion":1})", "admin")), "authSchemaVersion"), 5);
  // The unique {user: 1, db: 1} index mongod has.
  Bytes idx = cmd(R"({"listIndexes":"system.users"})", "admin");
  EXPECT_EQ(field_values(batch(idx), "name"), (std::vector<std::string>{"\"_id_\"", "\"user_1_db_1\""}));
}

TEST_F(UsersTest, StoredUsersLogInWithTheirPasswordOnTheirDatabaseOnly) {
  must(R"({"createUser":"alice","pwd":"s3cret","roles":[]})");
  must(R"({"createUser":"bob","pwd":"pw2","roles":[],"mechanisms":["SCRAM-SHA-256"]})");
  for (auto mech : {io::ScramMechanism::kSha1, io::ScramMechanism::kSha256}) {
    EXPECT_TRUE(login("app", "alice", "s3cret", mech));
    EXPECT_FALSE(login("app", "alice", "wrong", mech));
    EXPECT_FALSE(login("admin", "alice", "s3cret", mech));  // alice@app is not alice@admin
  }
  EXPECT_TRUE(login("app", "bob", "pw2", io::ScramMechanism::kSha256));
  EXPECT_FALSE(login("app", "bob", "pw2", io::ScramMechanism::kSha1));  // no SHA-1 credentials
  Bytes hello = cmd(R"({"hello":1,"saslSupportedMechs":"app.bob"})", "admin");
  EXPECT_EQ(field_values({hello}, "saslSupportedMechs.0"), std::vector<std::string>{"\"SCRAM-SHA-256\""});
  must(R"({"dropUser":"alice"})");
  EXPECT_FALSE(login("app", "alice", "s3cret", io::ScramMechanism::kSha256));
}

TEST_F(UsersTest, ErrorsAndInfoCommands) {
  must(
      R"({"createRole":"appReader","privileges":[{"resource":{"db":"app","collection":"items"},"actions":["find"]}],"roles":["read"]})");
  must(R"({"createUser":"alice","pwd":"s3cret","roles":["appReader"]})");
  must(R"({"createUser":"carol","pwd":"pw3","roles":[]})", "other");
  EXPECT_EQ(code(cmd(R"({"createUser":"alice","pwd":"x","roles":[]})")), 51003);
  EXPECT_EQ(code(cmd(R"({"createUser":"zed","pwd":"x","roles":["noSuchRole"]})")), 31);
  EXPECT_EQ(code(cmd(R"({"createUser":"zed","pwd":"x"})")), 2);  // roles are required
  EXPECT_EQ(code(cmd(R"({"createRole":"appReader","privileges":[],"roles":[]})")), 51002);
  EXPECT_EQ(code(cmd(R"({"dropUser":"nobody"})")), 11);
  EXPECT_EQ(code(cmd(R"({"dropRole":"nobody"})")), 31);

  Bytes users = cmd(R"({"usersInfo":1})");
  ASSERT_TRUE(ok(users));
  DocView u(users);
  EXPECT_EQ(u.find("users").as_document().count(), 1u);  // app's only
  EXPECT_EQ(u.find_path("users.0.user").as_string(), "alice");
  EXPECT_FALSE(u.find_path("users.0.credentials").valid());
  EXPECT_EQ(u.find_path("users.0.mechanisms.1").as_string(), "SCRAM-SHA-256");
  Bytes all = cmd(R"({"usersInfo":{"forAllDBs":true}})", "admin");
  EXPECT_EQ(DocView(all).find("users").as_document().count(), 2u);
  Bytes one = cmd(R"({"usersInfo":{"user":"carol","db":"other"},"showCredentials":true})", "admin");
  EXPECT_EQ(DocView(one).find_path("users.0.user").as_string(), "carol");
  EXPECT_TRUE(DocView(one).find_path("users.0.credentials.SCRAM-SHA-1.storedKey").valid());

  Bytes roles = cmd(R"({"rolesInfo":"appReader","showPrivileges":true})");
  EXPECT_EQ(DocView(roles).find_path("roles.0.privileges.0.actions.0").as_string(), "find");
  EXPECT_EQ(DocView(roles).find_path("roles.0.roles.0.role").as_string(), "read");
  must(R"({"dropRole":"appReader"})");
  EXPECT_EQ(DocView(cmd(R"({"rolesInfo":1})")).find("roles").as_document().count(), 0u);
}

// mongod's semantics for the fields mongorestore sends: {tempUsersCollection, tempRolesCollection,
// db, drop}.
TEST_F(UsersTest, MergeAuthzCollectionsAddsOrReplacesOneDatabase) {
  // The temp collection's documents come from another server: alice (new password and roles),
  // dave (new), erin of another database, and role r2.
  Engine src;
  Session ss;
  for (auto [json, db] : {std::pair{R"({"createUser":"alice","pwd":"new","roles":["read"]})", "app"},
                          std::pair{R"({"createUser":"dave","pwd":"pw4","roles":[]})", "app"},
                          std::pair{R"({"createUser":"erin","pwd":"pw5","roles":[]})", "else"},
                          std::pair{R"({"createRole":"r2","privileges":[],"roles":[]})", "app"}})
    ASSERT_TRUE(ok(run(src, ss, json, db)));
  auto load_temps = [&] {
    for (auto [from, to] : {std::pair{"system.users", "tempusers"}, std::pair{"system.roles", "temproles"}}) {
      cmd(R"({"drop":")" + std::string(to) + R"("})", "admin");
      Builder b;
      b.append_string("insert", to).open_array("documents");
      for (auto& d : batch(run(src, ss, R"({"find":")" + std::string(from) + R"("})", "admin")))
        b.append_document(b.next_array_key(), DocView(d));
      b.close().append_string("$db", "admin");
      Bytes ins = b.finish();
      ASSERT_TRUE(ok(engine.run(session, DocView(ins))));
    }
  };
  auto reset = [&] {
    for (auto [json, db] : {std::pair{R"({"dropUser":"alice"})", "app"}, std::pair{R"({"dropUser":"bob"})", "app"},
                            std::pair{R"({"dropUser":"dave"})", "app"}, std::pair{R"({"dropUser":"carol"})", "other"},
                            std::pair{R"({"dropUser":"erin"})", "else"}, std::pair{R"({"dropRole":"r1"})", "app"},
                            std::pair{R"({"dropRole":"r2"})", "app"}})
      cmd(json, db);
    must(R"({"createUser":"alice","pwd":"old","roles":[]})");
    must(R"({"createUser":"bob","pwd":"pw2","roles":[]})");
    must(R"({"createUser":"carol","pwd":"pw3","roles":[]})", "other");
    must(R"({"createRole":"r1","privileges":[],"roles":[]})");
  };
  const char* merge = R"({"_mergeAuthzCollections":1,"tempUsersCollection":"admin.tempusers",)"
                      R"("tempRolesCollection":"admin.temproles","drop":%s,"db":"%s"})";
  auto run_merge = [&](bool drop, const std::string& db) {
    char buf[512];
    std::snprintf(buf, sizeof buf, merge, drop ? "true" : "false", db.c_str());
    Bytes r = cmd(buf, "admin");
    EXPECT_TRUE(ok(r)) << DocView(r).find("errmsg").as_string();
  };

  // Without drop: missing ones are added, existing ones kept as they were.
  reset();
  load_temps();
  run_merge(false, "app");
  EXPECT_EQ(names("system.users", "user"), (std::set<std::string>{"alice@app", "bob@app", "carol@other", "dave@app"}));
  EXPECT_EQ(names("system.roles", "role"), (std::set<std::string>{"r1@app", "r2@app"}));
  EXPECT_TRUE(login("app", "alice", "old", io::ScramMechanism::kSha256));
  EXPECT_FALSE(login("app", "alice", "new", io::ScramMechanism::kSha256));
  EXPECT_TRUE(login("app", "dave", "pw4", io::ScramMechanism::kSha256));

  // With drop: app's users and roles become exactly the temp collection's; other dbs untouched.
  reset();
  load_temps();
  run_merge(true, "app");
  EXPECT_EQ(names("system.users", "user"), (std::set<std::string>{"alice@app", "carol@other", "dave@app"}));
  EXPECT_EQ(names("system.roles", "role"), (std::set<std::string>{"r2@app"}));
  EXPECT_TRUE(login("app", "alice", "new", io::ScramMechanism::kSha1));
  EXPECT_FALSE(login("app", "alice", "old", io::ScramMechanism::kSha1));
  EXPECT_EQ(DocView(cmd(R"({"usersInfo":"alice"})")).find_path("users.0.roles.0.role").as_string(), "read");

  // db "" means every database: with drop, the whole set is the temp collection's.
  reset();
  load_temps();
  run_merge(true, "");
  EXPECT_EQ(names("system.users", "user"), (std::set<std::string>{"alice@app", "dave@app", "erin@else"}));

  // Refusals: not on admin, no temp collection, no db.
  EXPECT_EQ(code(cmd(R"({"_mergeAuthzCollections":1,"tempUsersCollection":"admin.tempusers","db":""})", "app")), 13);
  EXPECT_EQ(code(cmd(R"({"_mergeAuthzCollections":1,"db":"app"})", "admin")), 2);
  EXPECT_EQ(code(cmd(R"({"_mergeAuthzCollections":1,"tempUsersCollection":"admin.tempusers"})", "admin")), 2);
}

}  // namespace
}  // namespace bsonpipe::minimongod::test
