#include <csignal>
#include <cstdio>

#include "tools/bsonpipe/cli.hpp"

namespace bsonpipe::tools {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted.store(true);
}
}  // namespace

const std::atomic<bool>& interrupted() {
  return g_interrupted;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout becomes a write error, not a silent death
  std::signal(SIGXFSZ, SIG_IGN);  // a file size limit becomes EFBIG, reported like a full disk
}

int fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "bsonpipe %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

int usage_exit_code(const std::string& command) {
  // mongodump and mongorestore exit 1 (util.ExitFailure) on a command line they cannot use, as
  // on any failure: scripts written for them test for it. bsonpipe's own commands use 2.
  return command == "dump" || command == "restore" ? 1 : 2;
}

int usage_error(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "bsonpipe %s: %s\n", command.c_str(), message.c_str());
  return usage_exit_code(command);
}

}  // namespace bsonpipe::tools
