// mongorestore's default write concern is {w: "majority"} unless --writeConcern or the URI's w
// says otherwise (common/db/write_concern.go, NewMongoWriteConcern). minimongod
// --require-write-concern refuses inserts that carry another w, so the server sees what we send.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;

fs::path make_dump(const std::string& name) {
  test::MiniMongod source({"--generate", "wc.c:500:200:3"});
  fs::path out = test::temp_dir(name) / "dump";
  auto r = test::bsonpipe({"dump", "--uri", source.uri(), "--out", out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << test::show(r);
  return out;
}

std::size_t count(const std::string& uri) {
  auto c = test::connect(uri);
  return c ? test::server_documents(*c, "wc", "c").size() : 0;
}

TEST(RestoreWriteConcern, MajorityUnlessTheFlagOrTheUriSaysOtherwise) {
  fs::path dump = make_dump("restore_wc");
  {
    test::MiniMongod target({"--require-write-concern", "majority"});
    auto r = test::bsonpipe({"restore", "--uri", target.uri(), dump.string(), "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << test::show(r);
    EXPECT_EQ(count(target.uri()), 500u);
  }
  {
    // The server's check works: w:1 from the flag is refused by this server, nothing is half-said.
    test::MiniMongod target({"--require-write-concern", "majority"});
    auto r = test::bsonpipe({"restore", "--uri", target.uri(), "--writeConcern", "1", dump.string(), "--quiet"});
    EXPECT_EQ(r.exit_code, 1) << test::show(r);
    EXPECT_NE(r.err.find("requires writeConcern {w: majority}"), std::string::npos) << test::show(r);
  }
  {
    test::MiniMongod target({"--require-write-concern", "1"});
    auto r = test::bsonpipe({"restore", "--uri", target.uri() + "?w=1", dump.string(), "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << test::show(r);
    EXPECT_EQ(count(target.uri()), 500u);
    auto flag = test::bsonpipe(
        {"restore", "--uri", target.uri() + "?w=majority", "--writeConcern", "1", "--drop", dump.string(), "--quiet"});
    ASSERT_EQ(flag.exit_code, 0) << test::show(flag);
  }
  {
    // An archive restore sends the same default.
    test::MiniMongod source({"--generate", "wc.c:500:200:3"});
    fs::path archive = test::temp_dir("restore_wc_archive") / "a.archive";
    auto d = test::bsonpipe({"dump", "--uri", source.uri(), "--archive=" + archive.string(), "--quiet"});
    ASSERT_EQ(d.exit_code, 0) << test::show(d);
    test::MiniMongod target({"--require-write-concern", "majority"});
    auto r = test::bsonpipe({"restore", "--uri", target.uri(), "--archive=" + archive.string(), "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << test::show(r);
    EXPECT_EQ(count(target.uri()), 500u);
  }
}

}  // namespace
}  // namespace bsonpipe
