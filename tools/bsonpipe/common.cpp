#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <thread>

#include "tools/bsonpipe/cli.hpp"

namespace bsonpipe::tools {

namespace {
// SIGINT/SIGTERM: the handler (async-signal-safe) raises the flag and writes a byte to a pipe; a
// watcher thread reads it and requests the stop that the running operation's waits wake on. The
// handler stays installed on every thread, so a blocking read (the password prompt) still ends
// with EINTR as before.
std::atomic<bool> g_interrupted{false};
int g_wake[2] = {-1, -1};
std::stop_source& stop_source() {
  static std::stop_source source;
  return source;
}
extern "C" void on_signal(int) {
  const int saved = errno;
  g_interrupted.store(true);
  if (g_wake[1] >= 0) (void)!::write(g_wake[1], "x", 1);
  errno = saved;
}
void watch_signals() {
  char c;
  for (;;) {
    const ssize_t n = ::read(g_wake[0], &c, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return;  // the pipe failed: the flag alone still tells the command it was interrupted
  }
  stop_source().request_stop();
}
}  // namespace

bool interrupted() {
  return g_interrupted.load();
}

std::stop_token interrupt_token() {
  return stop_source().get_token();
}

void install_signal_handlers() {
  (void)stop_source();  // made before any signal can ask for it
  if (::pipe2(g_wake, O_CLOEXEC) == 0) std::thread(watch_signals).detach();
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
