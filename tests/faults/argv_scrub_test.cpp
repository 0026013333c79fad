// Passwords on the command line are blanked in bsonpipe's own argv, so `ps` (and
// /proc/PID/cmdline) of a running dump does not show them.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/cli_support.hpp"

namespace bsonpipe::test {
namespace {

TEST(ArgvScrub, PasswordsAreBlankedInTheProcessTable) {
  // Every command is delayed, so the dump is still running when its cmdline is read.
  MiniMongod server({"--fault-delay-ms", "2000"});
  auto dir = temp_dir("argv-scrub");
  // The same password in the URI and in --password (different ones are mongo-tools' "Cannot specify
  // different password" error): both places must be blanked.
  std::string uri = "mongodb://bob:sharedSecret42@127.0.0.1:" + std::to_string(server.port()) + "/";
  std::string cmd = "echo started; exec '" + program("bsonpipe").string() + "' dump --uri '" + uri +
                    "' --password=sharedSecret42 --out '" + (dir / "out").string() + "' --progress none 2>/dev/null";
  std::string line;
  Child child = Child::start({"/bin/sh", "-c", cmd}, "started", &line);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  std::string cmdline = read_text("/proc/" + std::to_string(child.pid()) + "/cmdline");
  child.signal(SIGKILL);
  child.wait();
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  ASSERT_NE(cmdline.find(" dump "), std::string::npos) << "not bsonpipe's command line: " << cmdline;
  EXPECT_EQ(cmdline.find("Secret42"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("--password="), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("mongodb://bob:***"), std::string::npos) << cmdline;
}

}  // namespace
}  // namespace bsonpipe::test
