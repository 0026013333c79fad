#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/test_support.hpp"

namespace bsonpipe::test {

namespace {

std::vector<char*> cargv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

// The child's side of fork(), in a test process that has other threads: only async-signal-safe
// calls until exec. Anything that allocates (building argv, formatting a message) can block for
// good on a lock (the allocator's) that another thread of the parent held at the fork; argv is
// therefore built before the fork.
[[noreturn]] void exec_child(const std::vector<char*>& v) {
  execvp(v[0], v.data());
  static const char kMsg[] = "[test harness] exec failed\n";
  ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
  (void)ignored;
  _exit(127);
}

// What the timed-out process was running (its executable; the test binary itself if the child
// never reached exec) and how many threads it had.
std::string describe_process(pid_t pid) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  std::size_t threads = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++threads;
  return (exe.empty() ? std::string("?") : exe.string()) + ", " + std::to_string(threads) + " thread(s)";
}

int decode_status(int status, int* sig) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    if (sig) *sig = WTERMSIG(status);
    return -1;
  }
  return -1;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout, const std::string& stdin_data) {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  auto v = cargv(argv);  // before fork: see exec_child
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    exec_child(v);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  std::thread writer([fd = in[1], data = stdin_data] {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(fd);
  });
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  bool timed_out = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      r.err += "\n[test harness] timed out running " + describe_process(pid);
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  writer.join();
  r.exit_code = decode_status(status, &r.signal);
  if (timed_out) r.err += "\n[test harness] killed after timeout\n";
  return r;
}

RunResult run_shell(const std::string& command, std::chrono::seconds timeout) {
  return run({"/bin/sh", "-c", command}, timeout);
}

std::filesystem::path program(const std::string& name) {
  if (name == "minimongod") return binary_dir() / "tools" / "minimongod" / "minimongod";
  if (name == "bsonpipe") return binary_dir() / "tools" / "bsonpipe" / "bsonpipe";
  return binary_dir() / name;
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), out_fd_(std::exchange(o.out_fd_, -1)), drain_(std::move(o.drain_)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    reap();
    pid_ = std::exchange(o.pid_, -1);
    out_fd_ = std::exchange(o.out_fd_, -1);
    drain_ = std::move(o.drain_);
  }
  return *this;
}

Child::~Child() {
  reap();
}

void Child::reap() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (drain_) {
    drain_->join();  // the pipe reaches EOF once the child is gone
    drain_.reset();
  }
  if (out_fd_ >= 0) close(std::exchange(out_fd_, -1));
}

Child Child::start(const std::vector<std::string>& argv, const std::string& ready, std::string* ready_line,
                   std::chrono::seconds timeout) {
  int out[2];
  if (pipe2(out, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  auto v = cargv(argv);  // before fork: see exec_child
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(out[1], 1);
    exec_child(v);
  }
  close(out[1]);
  Child c;
  c.pid_ = pid;
  c.out_fd_ = out[0];
  std::string line, all;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char ch;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{c.out_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    ssize_t n = read(c.out_fd_, &ch, 1);
    if (n <= 0) throw std::runtime_error("child exited before it was ready: " + argv[0] + "; output: " + all);
    all.push_back(ch);
    if (ch != '\n') {
      line.push_back(ch);
      continue;
    }
    if (line.find(ready) != std::string::npos) {
      if (ready_line) *ready_line = line;
      c.drain_ = std::make_unique<std::thread>([fd = c.out_fd_] {
        char buf[4096];
        while (read(fd, buf, sizeof buf) > 0) {
        }
      });
      return c;
    }
    line.clear();
  }
  throw std::runtime_error("child not ready in time: " + argv[0] + "; output: " + all);
}

void Child::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

int Child::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  reap();
  int sig = 0;
  int code = decode_status(status, &sig);
  return sig ? -sig : code;
}

MiniMongod::MiniMongod(const std::vector<std::string>& flags) {
  std::vector<std::string> argv{program("minimongod").string(), "--port", "0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::string line;
  child_ = Child::start(argv, "listening on", &line);
  auto colon = line.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no port in: " + line);
  port_ = std::stoi(line.substr(colon + 1));
}

}  // namespace bsonpipe::test
