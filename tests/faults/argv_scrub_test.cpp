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
  MiniMongod server({"--fault-delay-ms", "5000"});
  auto dir = temp_dir("argv-scrub");
  // The same password in the URI and in --password (different ones are mongo-tools' "Cannot specify
  // different password" error): both places must be blanked.
  std::string uri = "mongodb://bob:sharedSecret42@127.0.0.1:" + std::to_string(server.port()) + "/";
  std::string cmd = "echo started; exec '" + program("bsonpipe").string() + "' dump --uri '" + uri +
                    "' --password=sharedSecret42 --out '" + (dir / "out").string() + "' --progress none 2>/dev/null";
  std::string line;
  Child child = Child::start({"/bin/sh", "-c", cmd}, "started", &line);
  // The blanking happens as bsonpipe starts, which a loaded machine may delay: read the command
  // line until it no longer shows the secret (or 10 s passed), while the dump still waits for
  // its first reply (5 s).
  auto read_cmdline = [&] {
    std::string text = read_text("/proc/" + std::to_string(child.pid()) + "/cmdline");
    for (char& c : text)
      if (c == '\0') c = ' ';
    return text;
  };
  std::string cmdline = read_cmdline();
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       (cmdline.find("Secret42") != std::string::npos || cmdline.find(" dump ") == std::string::npos) &&
       std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cmdline = read_cmdline();
  }
  child.signal(SIGKILL);
  child.wait();
  ASSERT_NE(cmdline.find(" dump "), std::string::npos) << "not bsonpipe's command line: " << cmdline;
  EXPECT_EQ(cmdline.find("Secret42"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("--password="), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("mongodb://bob:***"), std::string::npos) << cmdline;
}

}  // namespace
}  // namespace bsonpipe::test
