// Subprocesses for integration tests: run a command and capture its output and exit code, or
// keep a server (minimongod) running on an ephemeral loopback port for a test's lifetime.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace bsonpipe::test {

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal (see signal)
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs argv[0] with arguments (no shell), waits up to `timeout`, captures stdout and stderr.
// `stdin_data` is written to its standard input.
RunResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(300),
              const std::string& stdin_data = {});
// Runs `sh -c command`.
RunResult run_shell(const std::string& command, std::chrono::seconds timeout = std::chrono::seconds(300));

// Path of a built program of this project (e.g. "minimongod", "bsonpipe").
std::filesystem::path program(const std::string& name);

// A child process started in the background; killed (SIGKILL) on destruction if still running.
class Child {
 public:
  Child() = default;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();
  // Starts argv with stdout piped; waits up to `timeout` for a stdout line containing `ready`
  // and returns that line in `ready_line`. Fails the test (via exception) otherwise.
  static Child start(const std::vector<std::string>& argv, const std::string& ready, std::string* ready_line,
                     std::chrono::seconds timeout = std::chrono::seconds(120));
  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for exit; returns the exit code (or -signal).
  int wait();

 private:
  void reap();
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::unique_ptr<std::thread> drain_;  // reads the child's stdout after it is ready
};

// A running minimongod; `uri()` connects to it.
class MiniMongod {
 public:
  // Extra flags, e.g. {"--generate", "test.c:1000:512"}.
  explicit MiniMongod(const std::vector<std::string>& flags = {});
  int port() const { return port_; }
  std::string uri() const { return "mongodb://127.0.0.1:" + std::to_string(port_) + "/"; }
  Child& child() { return child_; }

 private:
  Child child_;
  int port_ = 0;
};

}  // namespace bsonpipe::test
