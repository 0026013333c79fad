// A loopback TCP proxy for fault tests of the S3 client: it forwards bytes both ways between its
// clients and one upstream port (s3rver), and on request cuts, answers 503 SlowDown to, or holds
// S3 UploadPart requests (HTTP/1.1 `PUT ...?partNumber=...`, bodies sized by Content-Length).
// Header-only (the test support library's sources are fixed in tests/CMakeLists.txt).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bsonpipe::test {

// Threading: the forwarding loop runs on one thread of its own, started by the constructor and
// joined by the destructor; the fault controls and counters may be used from any thread.
class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(0);
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_, 64) != 0)
      throw std::runtime_error("tcp proxy: cannot listen on loopback");
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (::pipe(wake_) != 0) throw std::runtime_error("tcp proxy: cannot create a pipe");
    nonblocking(listen_);
    nonblocking(wake_[0]);
    loop_ = std::thread([this] { run(); });
  }
  ~TcpProxy() {
    stop_ = true;
    (void)!::write(wake_[1], "x", 1);
    loop_.join();
    for (auto& c : conns_) close_conn(c);
    ::close(listen_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `count` UploadPart requests are cut: their connection is reset once their headers
  // and `after_body_bytes` bytes of their body have been forwarded.
  void cut_parts(int count, std::uint64_t after_body_bytes) {
    std::lock_guard lk(mu_);
    cut_count_ = count;
    cut_after_ = after_body_bytes;
  }
  // The next `count` UploadPart requests are answered "503 SlowDown" by the proxy (never
  // forwarded), and their connection closed.
  void slow_down_parts(int count) {
    std::lock_guard lk(mu_);
    slow_count_ = count;
  }
  // While on, UploadPart requests are held: not forwarded, their connection left waiting.
  void hold_parts(bool on) {
    std::lock_guard lk(mu_);
    hold_ = on;
  }
  int parts_seen() const { return parts_seen_; }    // UploadPart requests that reached the proxy
  int faults_done() const { return faults_done_; }  // cut or answered 503
  int parts_held() const { return parts_held_; }

 private:
  enum class Mode { kPass, kCut, kSwallow, kHold };
  struct Conn {
    int client = -1, server = -1;
    std::string to_server, to_client;
    std::string head;             // request headers being gathered
    std::uint64_t body_left = 0;  // body bytes of the current request still to come
    Mode mode = Mode::kPass;
    std::uint64_t cut_left = 0;
    bool client_done = false;  // no more reading from the client (EOF, cut, answered, held)
    bool close_when_flushed = false;
    bool dead = false;
  };
  static constexpr std::size_t kWindow = 1 << 20;  // buffered bytes per direction before reading pauses

  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  static void nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }
  static void close_conn(Conn& c) {
    // A reset, not an orderly close: the client sees the connection cut.
    linger l{1, 0};
    for (int fd : {c.client, c.server})
      if (fd >= 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
      }
    c.client = c.server = -1;
    c.dead = true;
  }

  void accept_all() {
    while (true) {
      int fd = ::accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      int up = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loopback(upstream_port_);
      if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(up);
        ::close(fd);
        continue;
      }
      nonblocking(fd);
      nonblocking(up);
      Conn c;
      c.client = fd;
      c.server = up;
      conns_.push_back(std::move(c));
    }
  }

  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return s;
  }
  static std::uint64_t content_length(const std::string& lower_head) {
    auto p = lower_head.find("\r\ncontent-length:");
    if (p == std::string::npos) return 0;
    return std::stoull(lower_head.substr(p + 17, lower_head.find("\r\n", p + 2) - p - 17));
  }
  static std::string slow_down_answer() {
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
        "<Message>Please reduce your request rate.</Message></Error>";
    return "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  }
  void answer_slow_down(Conn& c) {
    c.to_client += slow_down_answer();
    c.client_done = true;
    c.close_when_flushed = true;
  }

  // A request's headers are complete: decide what happens to it.
  void on_request_head(Conn& c) {
    std::string l = lower(c.head);
    c.body_left = content_length(l);
    c.mode = Mode::kPass;
    bool part =
        c.head.rfind("PUT ", 0) == 0 && c.head.substr(0, c.head.find("\r\n")).find("partNumber=") != std::string::npos;
    if (part) {
      ++parts_seen_;
      std::lock_guard lk(mu_);
      if (cut_count_ > 0) {
        --cut_count_;
        ++faults_done_;
        c.mode = Mode::kCut;
        c.cut_left = cut_after_;
      } else if (slow_count_ > 0) {
        --slow_count_;
        ++faults_done_;
        c.mode = Mode::kSwallow;
      } else if (hold_) {
        ++parts_held_;
        c.mode = Mode::kHold;
      }
    }
    if (c.mode == Mode::kHold) {
      c.client_done = true;  // nothing more is read from it: the upload stays in flight
    } else if (c.mode == Mode::kSwallow) {
      if (c.body_left == 0 || l.find("\r\nexpect: 100-continue") != std::string::npos) answer_slow_down(c);
    } else {
      c.to_server += c.head;
      if (c.mode == Mode::kCut && c.cut_left == 0) cut(c);
    }
    c.head.clear();
  }
  void cut(Conn& c) {
    c.client_done = true;
    c.close_when_flushed = true;
    c.to_client.clear();
  }

  void from_client(Conn& c, const char* p, std::size_t n) {
    while (n > 0 && !c.client_done) {
      if (c.body_left == 0) {  // in a request's headers
        std::size_t before = c.head.size();
        c.head.append(p, n);
        auto end = c.head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
        if (end == std::string::npos) return;
        std::size_t used = end + 4 - before;
        c.head.resize(end + 4);
        p += used;
        n -= used;
        on_request_head(c);
        continue;
      }
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(c.body_left, n));
      c.body_left -= take;
      if (c.mode == Mode::kCut) {
        std::size_t pass = static_cast<std::size_t>(std::min<std::uint64_t>(c.cut_left, take));
        c.to_server.append(p, pass);
        c.cut_left -= pass;
        if (c.cut_left == 0) cut(c);
      } else if (c.mode == Mode::kSwallow) {
        if (c.body_left == 0) answer_slow_down(c);
      } else {
        c.to_server.append(p, take);
      }
      p += take;
      n -= take;
    }
  }

  // Writes what is pending to `fd`; false on a failed socket.
  static bool flush(int fd, std::string& pending) {
    while (!pending.empty()) {
      ssize_t w = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      pending.erase(0, static_cast<std::size_t>(w));
    }
    return true;
  }

  void service(Conn& c, short client_events, short server_events) {
    char buf[64 * 1024];
    if (client_events & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::recv(c.client, buf, sizeof buf, 0);
      if (r > 0) {
        from_client(c, buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        return close_conn(c);
      }
    }
    if (server_events & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::recv(c.server, buf, sizeof buf, 0);
      if (r > 0) {
        if (c.mode != Mode::kCut || !c.close_when_flushed) c.to_client.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        flush(c.client, c.to_client);  // the server's last words, then the end
        return close_conn(c);
      }
    }
    if (!flush(c.server, c.to_server) || !flush(c.client, c.to_client)) return close_conn(c);
    if (c.close_when_flushed && c.to_server.empty() && c.to_client.empty()) close_conn(c);
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_, POLLIN, 0}};
      for (auto& c : conns_) {
        short ce = 0, se = 0;
        if (!c.client_done && c.to_server.size() < kWindow) ce |= POLLIN;
        if (!c.to_client.empty()) ce |= POLLOUT;
        if (c.to_client.size() < kWindow) se |= POLLIN;
        if (!c.to_server.empty()) se |= POLLOUT;
        fds.push_back({c.client, ce, 0});
        fds.push_back({c.server, se, 0});
      }
      if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
      if (fds[1].revents & POLLIN) accept_all();
      std::size_t i = 2;
      for (auto& c : conns_) {
        if (i + 1 >= fds.size()) break;  // accepted during this round: next round
        service(c, fds[i].revents, fds[i + 1].revents);
        i += 2;
      }
      conns_.remove_if([](const Conn& c) { return c.dead; });
    }
  }

  int upstream_port_;
  int listen_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::list<Conn> conns_;  // the loop thread's only
  std::mutex mu_;          // guards the fault settings below
  int cut_count_ = 0;
  std::uint64_t cut_after_ = 0;
  int slow_count_ = 0;
  bool hold_ = false;
  std::atomic<int> parts_seen_{0}, faults_done_{0}, parts_held_{0};
  std::thread loop_;
};

}  // namespace bsonpipe::test
