// mongodump/mongorestore 100.x command lines through the real binary against minimongod: the
// database in the URI (common/options/options.go: it is --db), go-flags parsing (--archive alone
// vs --archive=FILE, bool flags, -dNAME/-d=NAME, -vvv, --verbose=N, positional connection
// strings), --host/--port beside --uri, --out - (mongodump/mongodump.go, ValidateOptions),
// restoring a .bson from standard input (mongorestore/mongorestore.go) and --config FILE.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"
#include "tests/support/server_suite.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::bsonpipe;
using test::show;

constexpr const char* kUser = "cliuser";
constexpr const char* kPassword = "cliPw-4471";

// shop.orders (30 documents), shop.items (7) and crm.people (11).
class Cli : public test::ServerSuite<Cli> {
 public:
  static std::vector<std::string> server_flags() {
    return {"--generate", "shop.orders:30:64", "--generate", "shop.items:7:64", "--generate", "crm.people:11:64"};
  }
  static constexpr const char* kDirPrefix = "cli_";
};

// ---- the database in the URI -------------------------------------------------------------------

TEST_F(Cli, DumpTakesTheDatabaseFromTheUri) {
  fs::path out = dir("uri_db") / "dump";
  auto r = bsonpipe({"dump", "--uri", uri() + "crm", "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(out / "crm" / "people.bson")) << show(r);
  EXPECT_FALSE(fs::exists(out / "shop")) << "the URI's database is --db: only crm is dumped";
  // The same database given again with --db is fine.
  fs::path out2 = dir("uri_db_same") / "dump";
  auto same = bsonpipe({"dump", "--uri", uri() + "crm", "--db", "crm", "--out", out2.string(), "--quiet"});
  ASSERT_EQ(same.exit_code, 0) << show(same);
  EXPECT_TRUE(fs::exists(out2 / "crm" / "people.bson"));
  EXPECT_FALSE(fs::exists(out2 / "shop"));
}

TEST_F(Cli, DatabaseInTheUriAndADifferentDbIsAnError) {
  fs::path out = dir("uri_db_conflict") / "dump";
  auto r = bsonpipe({"dump", "--uri", uri() + "crm", "--db", "shop", "--out", out.string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("Invalid Options: Cannot specify different database in connection URI and command-line "
                       "option `crm` was specified in the URI and `shop` was specified in the --db option"),
            std::string::npos)
      << show(r);
  EXPECT_FALSE(fs::exists(out));
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", "--uri", target.uri() + "crm", "--db", "shop", (full_dump() / "shop").string()});
  EXPECT_NE(rr.exit_code, 0) << show(rr);
  EXPECT_NE(rr.err.find("Cannot specify different database"), std::string::npos) << show(rr);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 0u);
}

TEST_F(Cli, RestoreReadsTheDirectoryAsTheUriDatabasesFolder) {
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri() + "shop", (full_dump() / "shop").string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 30u) << show(r);
  EXPECT_EQ(count(target.uri(), "shop", "items"), 7u) << show(r);
  EXPECT_NE(r.err.find("37 document(s) restored successfully"), std::string::npos) << show(r);
}

// mongorestore with a database (here from the URI) reads the given directory as that database's
// folder: a whole dump's root holds only subdirectories, which it skips one line each and
// restores nothing ("0 document(s) restored successfully", exit 0, mongorestore/filepath.go).
TEST_F(Cli, RestoreWithADatabaseOfADumpRootSaysWhatItSkipped) {
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri() + "shop", full_dump().string()});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("don't know what to do with subdirectory"), std::string::npos) << show(r);
  EXPECT_NE(r.err.find((full_dump() / "shop").string()), std::string::npos) << show(r);
  EXPECT_NE(r.err.find("0 document(s) restored successfully"), std::string::npos) << show(r);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 0u);
}

// mongorestore with --db and --collection wants a .bson file: a directory is an error
// (mongorestore/filepath.go, CreateIntentForCollection), not a run that restores nothing.
TEST_F(Cli, RestoreDbAndCollectionOfADirectoryIsAnError) {
  test::MiniMongod target;
  for (const char* coll : {"items", "no_such_collection"}) {
    auto r =
        bsonpipe({"restore", "--uri", target.uri() + "shop", "--collection", coll, (full_dump() / "shop").string()});
    EXPECT_EQ(r.exit_code, 1) << show(r);
    EXPECT_NE(r.err.find("is a directory, not a bson file"), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("restored successfully"), std::string::npos) << show(r);
  }
  EXPECT_EQ(count(target.uri(), "shop", "items"), 0u);
}

// ---- go-flags parsing ---------------------------------------------------------------------------
// A command line mongodump/mongorestore cannot parse exits 1 (util.ExitFailure in
// mongodump/main/mongodump.go and mongorestore/main/mongorestore.go), like any other failure.

TEST_F(Cli, ArchiveAloneIsStdoutArchiveEqualsIsAFileArchiveSpaceIsPositional) {
  fs::path tmp = dir("archive_forms");
  fs::path file = tmp / "crm.archive";
  // --archive FILE: FILE is a positional argument, which mongodump refuses.
  auto spaced = bsonpipe({"dump", "--uri", uri(), "--db", "crm", "--archive", file.string()});
  EXPECT_EQ(spaced.exit_code, 1) << show(spaced);
  EXPECT_NE(spaced.err.find("error parsing positional arguments: provide only one MongoDB connection string"),
            std::string::npos)
      << show(spaced);
  EXPECT_TRUE(spaced.out.empty()) << "nothing on stdout";
  EXPECT_FALSE(fs::exists(file));
  // --archive=FILE writes the file; --archive alone writes standard output.
  auto eq = bsonpipe({"dump", "--uri", uri(), "--db", "crm", "--archive=" + file.string(), "--quiet"});
  ASSERT_EQ(eq.exit_code, 0) << show(eq);
  ASSERT_TRUE(fs::exists(file));
  auto alone = bsonpipe({"dump", "--uri", uri(), "--db", "crm", "--archive", "--quiet"});
  ASSERT_EQ(alone.exit_code, 0) << show(alone);
  EXPECT_EQ(alone.out.size(), fs::file_size(file));
  // restore: --archive FILE would read standard input and ignore FILE (mongorestore): refused.
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--archive", file.string()});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_NE(r.err.find("--archive=" + file.string()), std::string::npos) << show(r);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 0u);
  auto ok = bsonpipe({"restore", "--uri", target.uri(), "--archive=" + file.string()});
  ASSERT_EQ(ok.exit_code, 0) << show(ok);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
}

// mongorestore --archive=DIR reads DIR/archive (DIR/archive.gz with --gzip): mongorestore.go,
// getArchiveReader.
TEST_F(Cli, RestoreArchiveDirectoryReadsItsArchiveFile) {
  fs::path tmp = dir("archive_dir");
  auto d = bsonpipe({"dump", "--uri", uri(), "--db", "crm", "--archive=" + (tmp / "archive").string(), "--quiet"});
  ASSERT_EQ(d.exit_code, 0) << show(d);
  test::MiniMongod target;
  auto r = bsonpipe({"restore", "--uri", target.uri(), "--archive=" + tmp.string()});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_EQ(count(target.uri(), "crm", "people"), 11u);
}

TEST_F(Cli, ShortFormsAndEqualsFormsAsGoFlags) {
  fs::path tmp = dir("short_forms");
  for (const std::vector<std::string>& form : {
           std::vector<std::string>{"-d", "shop", "-c", "items", "-o", (tmp / "a").string()},
           std::vector<std::string>{"-dshop", "-citems", "-o" + (tmp / "b").string()},
           std::vector<std::string>{"-d=shop", "-c=items", "-o=" + (tmp / "c").string(), "-j=2"},
           std::vector<std::string>{"--db=shop", "--collection=items", "--out=" + (tmp / "d").string(), "-j", "2"},
       }) {
    std::vector<std::string> args = {"dump", "-h", hostport(), "--quiet"};
    args.insert(args.end(), form.begin(), form.end());
    auto r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << show(r);
  }
  for (const char* d : {"a", "b", "c", "d"}) {
    EXPECT_TRUE(fs::exists(tmp / d / "shop" / "items.bson")) << d;
    EXPECT_FALSE(fs::exists(tmp / d / "shop" / "orders.bson")) << d;
  }
  // -q with a query (dump's --query).
  auto q = bsonpipe({"dump", "-h", hostport(), "-d", "shop", "-c", "orders", "-q", "{\"_id\": {\"$exists\": false}}",
                     "-o", (tmp / "q").string(), "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << show(q);
  EXPECT_EQ(fs::file_size(tmp / "q" / "shop" / "orders.bson"), 0u);
}

// go-flags keeps the last value of a flag given twice (a script's defaults, then an override);
// a bool flag given twice is still set.
TEST_F(Cli, AFlagGivenTwiceKeepsItsLastValue) {
  fs::path tmp = dir("twice");
  auto r = bsonpipe({"dump", "-h", hostport(), "-d", "crm", "--db", "shop", "-c", "orders", "--collection=items",
                     "--gzip", "--gzip", "-o", (tmp / "first").string(), "--out=" + (tmp / "a").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(tmp / "a" / "shop" / "items.bson.gz"));
  EXPECT_FALSE(fs::exists(tmp / "a" / "shop" / "orders.bson.gz"));
  EXPECT_FALSE(fs::exists(tmp / "a" / "crm"));
  EXPECT_FALSE(fs::exists(tmp / "first"));
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", "--uri", target.uri(), "-d", "x", "--db=shop2", "--dir", (tmp / "nothing").string(),
                      "--dir=" + (tmp / "a" / "shop").string(), "--gzip"});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  EXPECT_EQ(count(target.uri(), "shop2", "items"), count(uri(), "shop", "items"));
  EXPECT_EQ(count(target.uri(), "x", "items"), 0u);
}

TEST_F(Cli, BoolFlagsTakeNoValue) {
  test::MiniMongod target;
  auto eq = bsonpipe({"restore", "--uri", target.uri(), "--drop=true", full_dump().string()});
  EXPECT_EQ(eq.exit_code, 1) << show(eq);
  EXPECT_NE(eq.err.find("bool flag `--drop' cannot have an argument"), std::string::npos) << show(eq);
  // "--drop true": true is a positional argument, a second dump path.
  auto spaced = bsonpipe({"restore", "--uri", target.uri(), "--drop", "true", full_dump().string()});
  EXPECT_EQ(spaced.exit_code, 1) << show(spaced);
  EXPECT_NE(spaced.err.find("error parsing positional arguments"), std::string::npos) << show(spaced);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 0u);
}

TEST_F(Cli, VerbosityRepeatedAndNumeric) {
  for (const std::vector<std::string>& v :
       {std::vector<std::string>{"-vvv"}, std::vector<std::string>{"-v", "-v"}, std::vector<std::string>{"--verbose=2"},
        std::vector<std::string>{"-v=3"}, std::vector<std::string>{"-vv=3"}, std::vector<std::string>{"--verbose"}}) {
    test::MiniMongod target;
    std::vector<std::string> args = {"restore", "--uri", target.uri(), "--progress", "none", full_dump().string()};
    args.insert(args.end(), v.begin(), v.end());
    auto r = bsonpipe(args);
    ASSERT_EQ(r.exit_code, 0) << v[0] << "\n" << show(r);
    EXPECT_EQ(count(target.uri(), "shop", "orders"), 30u) << v[0];
    // "--verbose 2": 2 is positional (a second dump path).
  }
  auto bad = bsonpipe({"restore", "--uri", uri(), "--verbose", "2", full_dump().string()});
  EXPECT_EQ(bad.exit_code, 1) << show(bad);
}

TEST_F(Cli, PositionalConnectionString) {
  fs::path out = dir("positional_uri") / "dump";
  auto r = bsonpipe({"dump", uri() + "crm", "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(out / "crm" / "people.bson"));
  EXPECT_FALSE(fs::exists(out / "shop"));
  auto both = bsonpipe({"dump", uri(), "--uri", uri(), "--out", (out / "x").string()});
  EXPECT_EQ(both.exit_code, 1) << show(both);
  EXPECT_NE(both.err.find("cannot specify a URI in a positional argument and --uri"), std::string::npos) << show(both);
  test::MiniMongod target;
  auto rr = bsonpipe({"restore", target.uri() + "shop", (full_dump() / "shop").string()});
  ASSERT_EQ(rr.exit_code, 0) << show(rr);
  EXPECT_EQ(count(target.uri(), "shop", "orders"), 30u);
}

TEST_F(Cli, HostAndPortBesideTheUri) {
  fs::path tmp = dir("host_port");
  // Agreeing with the URI: fine (mongo-tools merges them).
  auto same = bsonpipe({"dump", "--uri", uri(), "--host", hostport(), "--port", std::to_string(server_->port()), "-d",
                        "crm", "-o", (tmp / "a").string(), "--quiet"});
  ASSERT_EQ(same.exit_code, 0) << show(same);
  EXPECT_TRUE(fs::exists(tmp / "a" / "crm" / "people.bson"));
  // --host host with --port.
  auto split = bsonpipe({"dump", "--host", "127.0.0.1", "--port", std::to_string(server_->port()), "-d", "crm", "-o",
                         (tmp / "b").string(), "--quiet"});
  ASSERT_EQ(split.exit_code, 0) << show(split);
  EXPECT_TRUE(fs::exists(tmp / "b" / "crm" / "people.bson"));
  // A different port: mongo-tools' conflict error.
  auto other = bsonpipe({"dump", "--uri", uri(), "--port", "1", "-o", (tmp / "c").string()});
  EXPECT_NE(other.exit_code, 0) << show(other);
  EXPECT_NE(other.err.find("Cannot specify different port"), std::string::npos) << show(other);
  EXPECT_FALSE(fs::exists(tmp / "c"));
}

TEST_F(Cli, HostWithReplicaSetName) {
  test::MiniMongod rs({"--replSet", "rs9", "--generate", "app.c:5:64"});
  std::string hp = "127.0.0.1:" + std::to_string(rs.port());
  fs::path tmp = dir("host_rs");
  auto r = bsonpipe({"dump", "--host", "rs9/" + hp, "-d", "app", "-o", (tmp / "a").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(tmp / "a" / "app" / "c.bson"));
  // A comma-separated seed list (here the same host twice).
  auto list = bsonpipe({"dump", "--host", hp + "," + hp, "-d", "app", "-o", (tmp / "b").string(), "--quiet"});
  ASSERT_EQ(list.exit_code, 0) << show(list);
  EXPECT_TRUE(fs::exists(tmp / "b" / "app" / "c.bson"));
  // A replica set name that is not the URI's.
  auto wrong = bsonpipe(
      {"dump", "--uri", "mongodb://" + hp + "/?replicaSet=rs9", "--host", "other/" + hp, "-o", (tmp / "c").string()});
  EXPECT_NE(wrong.exit_code, 0) << show(wrong);
  EXPECT_NE(wrong.err.find("Cannot specify different replica set name"), std::string::npos) << show(wrong);
}

// ---- standard input and output ------------------------------------------------------------------

TEST_F(Cli, OutDashNeedsOneCollection) {
  auto r = bsonpipe({"dump", "--uri", uri(), "--db", "shop", "--out", "-"});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("can only dump a single collection to stdout"), std::string::npos) << show(r);
  EXPECT_TRUE(r.out.empty());
  auto one = bsonpipe({"dump", "--uri", uri(), "--db", "shop", "--collection", "items", "--out", "-"});
  ASSERT_EQ(one.exit_code, 0) << show(one);
  formats::Bytes b(one.out.begin(), one.out.end());
  EXPECT_EQ(test::split_documents(b).size(), 7u);
}

TEST_F(Cli, RestoreABsonStreamFromStandardInput) {
  auto bytes = test::read_file(full_dump() / "shop" / "items.bson");
  std::string stream(bytes.begin(), bytes.end());
  test::MiniMongod target;
  auto no_coll = bsonpipe({"restore", "--uri", target.uri(), "--db", "shop", "-"}, stream);
  EXPECT_NE(no_coll.exit_code, 0) << show(no_coll);
  EXPECT_NE(no_coll.err.find("cannot restore from stdin without a specified collection"), std::string::npos)
      << show(no_coll);
  auto no_db = bsonpipe({"restore", "--uri", target.uri(), "--collection", "copy", "-"}, stream);
  EXPECT_NE(no_db.exit_code, 0) << show(no_db);
  EXPECT_NE(no_db.err.find("without a specified database"), std::string::npos) << show(no_db);
  EXPECT_EQ(count(target.uri(), "shop", "copy"), 0u);
  auto ok = bsonpipe({"restore", "--uri", target.uri(), "--db", "shop", "--collection", "copy", "-"}, stream);
  ASSERT_EQ(ok.exit_code, 0) << show(ok);
  EXPECT_EQ(count(target.uri(), "shop", "copy"), 7u);
}

// ---- --config FILE ------------------------------------------------------------------------------

TEST(CliConfig, PasswordAndUriFromTheConfigFileCommandLineWins) {
  test::MiniMongod server({"--user", kUser, "--password", kPassword, "--generate", "cfg.c:9:64"});
  fs::path tmp = test::temp_dir("cli_config");
  std::string hp = "127.0.0.1:" + std::to_string(server.port());
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp / name) << text;
    return (tmp / name).string();
  };
  // password from the file, user on the command line.
  std::string pw = write("pw.yaml", std::string("password: ") + kPassword + "\n");
  auto r = bsonpipe({"dump", "--host", hp, "-u", kUser, "--authenticationDatabase", "admin", "--config", pw, "-d",
                     "cfg", "-o", (tmp / "a").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(tmp / "a" / "cfg" / "c.bson"));
  // uri from the file (with credentials), sslPEMKeyPassword accepted.
  std::string u = write("uri.yaml", "uri: mongodb://" + std::string(kUser) + ":" + kPassword + "@" + hp +
                                        "/cfg?authSource=admin\nsslPEMKeyPassword: unused\n");
  auto r2 = bsonpipe({"dump", "--config=" + u, "-o", (tmp / "b").string(), "--quiet"});
  ASSERT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_TRUE(fs::exists(tmp / "b" / "cfg" / "c.bson"));  // the file's URI names the database
  // The command line wins over the file.
  std::string wrong = write("wrong.yaml", "password: not-the-password\n");
  auto r3 = bsonpipe({"dump", "--host", hp, "-u", kUser, "-p", kPassword, "--authenticationDatabase", "admin",
                      "--config", wrong, "-d", "cfg", "-o", (tmp / "c").string(), "--quiet"});
  ASSERT_EQ(r3.exit_code, 0) << show(r3);
  auto r4 = bsonpipe({"dump", "--host", hp, "-u", kUser, "--authenticationDatabase", "admin", "--config", wrong, "-d",
                      "cfg", "-o", (tmp / "d").string(), "--quiet"});
  EXPECT_NE(r4.exit_code, 0) << show(r4);
  for (auto* x : {&r, &r2, &r3, &r4}) EXPECT_EQ(x->err.find(kPassword), std::string::npos) << show(*x);
  // Unknown or repeated keys, bad YAML and a missing file: one line naming the file.
  for (const std::string& bad : {write("typo.yaml", "pasword: x\n"), write("twice.yaml", "password: a\npassword: b\n"),
                                 write("broken.yaml", "password: [x\n"), (tmp / "none.yaml").string()}) {
    auto e = bsonpipe({"dump", "--host", hp, "--config", bad, "-o", (tmp / "e").string()});
    EXPECT_NE(e.exit_code, 0) << show(e);
    EXPECT_NE(e.err.find(bad), std::string::npos) << show(e);
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << show(e);
    EXPECT_FALSE(fs::exists(tmp / "e"));
  }
}

}  // namespace
// ---- the authentication database ------------------------------------------------------------

// mongo-tools authenticates against --db when neither --authenticationDatabase nor an authSource
// says otherwise (options.go, GetAuthenticationDatabase): a user of database `sec` logs in with
// `-u ... --db sec`, and a user of `admin` then needs --authenticationDatabase admin.
TEST(CliAuthDatabase, DbIsTheAuthenticationDatabaseByDefault) {
  test::MiniMongod server({"--user", kUser, "--password", kPassword, "--generate", "sec.c:5:64"});
  std::string hp = "127.0.0.1:" + std::to_string(server.port());
  {
    auto c = test::connect("mongodb://" + std::string(kUser) + ":" + kPassword + "@" + hp + "/?authSource=admin");
    ASSERT_TRUE(c);
    formats::Builder b;
    b.append_string("createUser", "secuser").append_string("pwd", "secPw-1").open_array("roles");
    b.open_document("0").append_string("role", "readWrite").append_string("db", "sec").close();
    b.close();
    formats::Bytes cmd = b.finish();
    auto r = io::run_command(*c, "sec", formats::DocView(cmd));
    ASSERT_TRUE(r.is_ok()) << r.error().to_string();
  }
  fs::path tmp = test::temp_dir("cli_authdb");
  // A user of `sec`, authenticated against --db.
  auto r = bsonpipe(
      {"dump", "--host", hp, "-u", "secuser", "-p", "secPw-1", "--db", "sec", "-o", (tmp / "a").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(tmp / "a" / "sec" / "c.bson"));
  // A user of `admin` is not found in `sec` ...
  r = bsonpipe(
      {"dump", "--host", hp, "-u", kUser, "-p", kPassword, "--db", "sec", "-o", (tmp / "b").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << show(r);
  EXPECT_FALSE(fs::exists(tmp / "b"));
  // ... unless --authenticationDatabase (or the URI's authSource) names it.
  r = bsonpipe({"dump", "--host", hp, "-u", kUser, "-p", kPassword, "--authenticationDatabase", "admin", "--db", "sec",
                "-o", (tmp / "c").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  r = bsonpipe({"dump", "--uri", "mongodb://" + hp + "/?authSource=admin", "-u", kUser, "-p", kPassword, "--db", "sec",
                "-o", (tmp / "d").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(tmp / "d" / "sec" / "c.bson"));
}

}  // namespace bsonpipe
