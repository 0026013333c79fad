// --rate-limit through the real binary: dump, restore and copy accept it and the data arrives
// whole; a bad value is a command-line error.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/cli_support.hpp"

namespace bsonpipe {
namespace {

// --rate-limit is accepted by dump, restore and copy, and the data arrives whole; a bad value is a
// command-line error. (That the limit holds is shown on an injected clock in rate_limiter_test.)
TEST(RateLimit, FlagIsAcceptedAndDataIsIntact) {
  test::MiniMongod server({"--generate", "rl.c:2000:500:3"});
  auto dir = test::temp_dir("dump-rate-limit");
  auto c = test::connect(server.uri());
  ASSERT_TRUE(c);
  const auto before = test::server_digest(*c, "rl", "c");
  auto r = test::bsonpipe(
      {"dump", "--uri", server.uri(), "--out", (dir / "d").string(), "--rate-limit", "500", "--gzip", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  r = test::bsonpipe({"restore", "--uri", server.uri(), "--nsFrom", "rl.*", "--nsTo", "rl2.*", "--rate-limit", "500",
                      (dir / "d").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  EXPECT_EQ(test::server_digest(*c, "rl2", "c"), before);
  r = test::bsonpipe({"copy", "--from", server.uri(), "--to", server.uri(), "--db", "rl", "--nsFrom", "rl.*", "--nsTo",
                      "rl3.*", "--rate-limit", "500", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << test::show(r);
  EXPECT_EQ(test::server_digest(*c, "rl3", "c"), before);
  r = test::bsonpipe({"dump", "--uri", server.uri(), "--out", (dir / "e").string(), "--rate-limit", "-1"});
  EXPECT_EQ(r.exit_code, 1) << test::show(r);  // dump's usage errors exit 1, as mongodump's
}

}  // namespace
}  // namespace bsonpipe
