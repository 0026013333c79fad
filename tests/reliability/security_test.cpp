// Security checks through the real binaries: where the password may come from (URI, --password,
// $BSONPIPE_PASSWORD, a no-echo prompt on the terminal) and that it is never printed; redacted
// URIs; TLS verification on by default and a loud warning when --tlsInsecure turns it off;
// owner-only dump files unless --file-mode says otherwise; malformed server replies refused before
// they are read; minimongod on loopback only and
// refusing unauthenticated commands when it has a user.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "io/commands.hpp"
#include "tests/support/cli_support.hpp"
#include "tests/support/test_support.hpp"

namespace bsonpipe {
namespace {

namespace fs = std::filesystem;
using test::bsonpipe;
using test::show;

constexpr const char* kUser = "dumper";
constexpr const char* kPassword = "Pw-Secret-7781";

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string octal(unsigned m) {
  std::ostringstream o;
  o << std::oct << m;
  return o.str();
}

class AuthServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::MiniMongod({"--user", kUser, "--password", kPassword, "--generate", "sec.data:50:100"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string host() { return "127.0.0.1:" + std::to_string(server_->port()); }
  static test::MiniMongod* server_;
};
test::MiniMongod* AuthServer::server_ = nullptr;

// ---- credentials ------------------------------------------------------------------------------------

TEST_F(AuthServer, PasswordFromUriFlagAndEnvironment) {
  fs::path tmp = test::temp_dir("sec_sources");
  // URI
  auto r1 = bsonpipe({"dump", "--uri",
                      std::string("mongodb://") + kUser + ":" + kPassword + "@" + host() + "/?authSource=admin", "--db",
                      "sec", "--out", (tmp / "uri").string(), "--quiet"});
  EXPECT_EQ(r1.exit_code, 0) << show(r1);
  EXPECT_TRUE(fs::exists(tmp / "uri/sec/data.bson"));
  // --password
  auto r2 = bsonpipe({"dump", "--host", host(), "-u", kUser, "--password", kPassword, "--authenticationDatabase",
                      "admin", "--db", "sec", "--out", (tmp / "flag").string(), "--quiet"});
  EXPECT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_TRUE(fs::exists(tmp / "flag/sec/data.bson"));
  // $BSONPIPE_PASSWORD (stdin is not a terminal here, so no prompt)
  auto r3 =
      test::run_shell("BSONPIPE_PASSWORD=" + quote(kPassword) + " " + quote(test::program("bsonpipe").string()) +
                      " dump --host " + host() + " -u " + kUser + " --authenticationDatabase admin --db sec --out " +
                      quote((tmp / "env").string()) + " --quiet </dev/null");
  EXPECT_EQ(r3.exit_code, 0) << show(r3);
  EXPECT_TRUE(fs::exists(tmp / "env/sec/data.bson"));
  for (auto* r : {&r1, &r2, &r3}) {
    EXPECT_EQ(r->out.find(kPassword), std::string::npos);
    EXPECT_EQ(r->err.find(kPassword), std::string::npos);
  }
}

// With -u and no password, standard input not a terminal: its first line is the password, as
// mongo-tools reads it (common/password/password.go, readPassNonInteractively), byte by byte, so
// an archive after that line is still there for restore.
TEST_F(AuthServer, PasswordFromStandardInputWhenItIsNotATerminal) {
  fs::path tmp = test::temp_dir("sec_stdin");
  const std::string bin = quote(test::program("bsonpipe").string());
  const std::string login = " --host " + host() + " -u " + kUser + " --authenticationDatabase admin";
  auto dump = test::run_shell("printf '%s\\n' " + quote(kPassword) + " | " + bin + " dump" + login +
                              " --db sec --out " + quote((tmp / "dir").string()) + " --quiet");
  EXPECT_EQ(dump.exit_code, 0) << show(dump);
  EXPECT_TRUE(fs::exists(tmp / "dir/sec/data.bson"));
  fs::path archive = tmp / "sec.archive";
  auto a = bsonpipe({"dump", "--uri",
                     std::string("mongodb://") + kUser + ":" + kPassword + "@" + host() + "/?authSource=admin", "--db",
                     "sec", "--archive=" + archive.string(), "--quiet"});
  ASSERT_EQ(a.exit_code, 0) << show(a);
  auto restore = test::run_shell("(printf '%s\\n' " + quote(kPassword) + "; cat " + quote(archive.string()) + ") | " +
                                 bin + " restore" + login + " --archive --nsFrom 'sec.*' --nsTo 'sec_stdin.*'");
  EXPECT_EQ(restore.exit_code, 0) << show(restore);
  EXPECT_NE(restore.err.find("50 document(s) restored successfully"), std::string::npos) << show(restore);
  for (auto* r : {&dump, &restore}) {
    EXPECT_EQ(r->out.find(kPassword), std::string::npos);
    EXPECT_EQ(r->err.find(kPassword), std::string::npos);
  }
}

// With -u and no password, on a terminal: asks on /dev/tty with echo off. Run under a pty.
TEST_F(AuthServer, PromptOnTerminalWithoutEcho) {
  fs::path tmp = test::temp_dir("sec_prompt");
  fs::path script = tmp / "tty_driver.py";  // not pty.py: that would shadow the module
  std::ofstream(script) << R"PY(
import os, pty, sys, time, select
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def pump(until, secs):
    global out
    end = time.time() + secs
    while time.time() < end and until not in out:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
pump(b"assword", 60)
os.write(fd, sys.argv[1].encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  auto r = test::run({"/usr/bin/python3", script.string(), kPassword, test::program("bsonpipe").string(), "dump",
                      "--host", host(), "-u", kUser, "--authenticationDatabase", "admin", "--db", "sec", "--out",
                      (tmp / "out").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_NE(r.out.find("Enter password for dumper:"), std::string::npos) << r.out;
  // No echo: the terminal never shows the typed password.
  EXPECT_EQ(r.out.find(kPassword), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp / "out/sec/data.bson"));
}

TEST_F(AuthServer, WrongPasswordIsNeverPrinted) {
  fs::path tmp = test::temp_dir("sec_wrong");
  const std::string wrong = "Wrong-Pw-5512";
  std::vector<std::vector<std::string>> cmds = {
      {"dump", "--uri", std::string("mongodb://") + kUser + ":" + wrong + "@" + host() + "/", "--out",
       (tmp / "a").string()},
      {"dump", "--host", host(), "-u", kUser, "-p", wrong, "--out", (tmp / "b").string(), "-v"},
      {"restore", "--uri", std::string("mongodb://") + kUser + ":" + wrong + "@" + host() + "/", "-v",
       (tmp / "nothing").string()},
      {"copy", "--from", std::string("mongodb://") + kUser + ":" + wrong + "@" + host() + "/", "--to",
       std::string("mongodb://") + kUser + ":" + wrong + "@127.0.0.1:1/"},
      {"dump", "--uri", std::string("mongodb://") + kUser + ":" + wrong + "@127.0.0.1:1/?serverSelectionTimeoutMS=1000",
       "--out", (tmp / "c").string()},
  };
  for (auto& args : cmds) {
    auto r = bsonpipe(args);
    SCOPED_TRACE(args[0] + " " + args[2]);
    EXPECT_NE(r.exit_code, 0) << show(r);
    EXPECT_EQ(r.err.find(wrong), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find(wrong), std::string::npos) << r.out;
    std::printf("[security] %s", r.err.c_str());
  }
}

TEST(Security, UriShownRedacted) {
  const std::string secret = "Redact-Me-2231";
  auto r = bsonpipe({"dump", "--uri", "mongodb://someone:" + secret + "@127.0.0.1:1/?serverSelectionTimeoutMS=1000",
                     "--out", (test::temp_dir("sec_redact") / "o").string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mongodb://someone:***@127.0.0.1:1/"), std::string::npos) << r.err;
}

// ---- TLS --------------------------------------------------------------------------------------------

class TlsServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::temp_dir("sec_tls"));
    fs::path pem = *dir_ / "server.pem";
    auto r = test::run_shell("cd " + quote(dir_->string()) +
                             " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
                             " -keyout key.pem -out cert.pem 2>/dev/null && cat cert.pem key.pem > server.pem");
    ASSERT_EQ(r.exit_code, 0) << show(r);
    server_ = new test::MiniMongod({"--tlsCertificateKeyFile", pem.string(), "--generate", "tls.data:20:100"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static std::string host() { return "localhost:" + std::to_string(server_->port()); }
  static test::MiniMongod* server_;
  static fs::path* dir_;
};
test::MiniMongod* TlsServer::server_ = nullptr;
fs::path* TlsServer::dir_ = nullptr;

TEST_F(TlsServer, VerificationIsOnByDefault) {
  // A self-signed certificate that no trust store holds: refused.
  auto r = bsonpipe({"dump", "--host", host(), "--tls", "--db", "tls", "--out", (*dir_ / "o1").string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(*dir_ / "o1/tls/data.bson"));
  // Trusting that certificate explicitly: accepted, no warning.
  auto r2 = bsonpipe({"dump", "--host", host(), "--tls", "--tlsCAFile", (*dir_ / "cert.pem").string(), "--db", "tls",
                      "--out", (*dir_ / "o2").string(), "--quiet"});
  EXPECT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_EQ(r2.err.find("WARNING"), std::string::npos) << r2.err;
  EXPECT_TRUE(fs::exists(*dir_ / "o2/tls/data.bson"));
}

TEST_F(TlsServer, InsecureWarnsLoudlyInOneLine) {
  auto r =
      bsonpipe({"dump", "--host", host(), "--tlsInsecure", "--db", "tls", "--out", (*dir_ / "o3").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(*dir_ / "o3/tls/data.bson"));
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find("WARNING: TLS certificate and host name verification are OFF"), std::string::npos) << err;
  // Same through the URI option.
  auto r2 = bsonpipe({"dump", "--uri", "mongodb://" + host() + "/?tls=true&tlsAllowInvalidCertificates=true", "--db",
                      "tls", "--out", (*dir_ / "o4").string(), "--quiet"});
  EXPECT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_NE(r2.err.find("WARNING: TLS certificate verification is OFF"), std::string::npos) << r2.err;
  std::printf("[security] %s\n", err.c_str());
}

// mongo-tools' hidden --sslAllowInvalidCertificates/--sslAllowInvalidHostnames (deprecated, still
// in scripts): they work as the URI options do, with the same warning.
TEST_F(TlsServer, HiddenSslAllowInvalidFlags) {
  auto r = bsonpipe({"dump", "--host", host(), "--ssl", "--sslAllowInvalidCertificates", "--sslAllowInvalidHostnames",
                     "--db", "tls", "--out", (*dir_ / "o5").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << show(r);
  EXPECT_TRUE(fs::exists(*dir_ / "o5/tls/data.bson"));
  EXPECT_NE(r.err.find("WARNING: TLS certificate and host name verification are OFF"), std::string::npos) << r.err;
}

// ---- file permissions ---------------------------------------------------------------------------------

TEST(Security, DumpFilesAreOwnerOnly) {
  test::MiniMongod server({"--generate", "perm.data:30:100"});
  fs::path tmp = test::temp_dir("sec_perms");
  auto r = bsonpipe({"dump", "--uri", server.uri(), "--db", "perm", "--out", (tmp / "d").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << show(r);
  ASSERT_TRUE(fs::exists(tmp / "d/perm/data.bson"));
  int files = 0;
  EXPECT_EQ(octal(mode_of(tmp / "d")), "700");
  for (auto& e : fs::recursive_directory_iterator(tmp / "d")) {
    SCOPED_TRACE(e.path().string());
    EXPECT_EQ(octal(mode_of(e.path())), e.is_directory() ? "700" : "600");
    ++files;
  }
  EXPECT_GE(files, 3);  // perm/, data.bson, data.metadata.json at least
  auto a =
      bsonpipe({"dump", "--uri", server.uri(), "--db", "perm", "--archive=" + (tmp / "x.archive").string(), "--quiet"});
  ASSERT_EQ(a.exit_code, 0) << show(a);
  EXPECT_EQ(octal(mode_of(tmp / "x.archive")), "600");

  // Opt-out.
  auto r2 = bsonpipe({"dump", "--uri", server.uri(), "--db", "perm", "--out", (tmp / "shared").string(), "--quiet",
                      "--file-mode", "0644"});
  ASSERT_EQ(r2.exit_code, 0) << show(r2);
  EXPECT_EQ(octal(mode_of(tmp / "shared/perm")), "755");
  EXPECT_EQ(octal(mode_of(tmp / "shared/perm/data.bson")), "644");
  auto r3 = bsonpipe(
      {"dump", "--uri", server.uri(), "--db", "perm", "--out", (tmp / "g").string(), "--quiet", "--file-mode", "0640"});
  ASSERT_EQ(r3.exit_code, 0) << show(r3);
  EXPECT_EQ(octal(mode_of(tmp / "g/perm")), "750");
  EXPECT_EQ(octal(mode_of(tmp / "g/perm/data.bson")), "640");
  // Nonsense is refused before anything is written.
  auto r4 = bsonpipe({"dump", "--uri", server.uri(), "--out", (tmp / "bad").string(), "--file-mode", "rw-r--r--"});
  EXPECT_NE(r4.exit_code, 0);
  EXPECT_NE(r4.err.find("--file-mode 'rw-r--r--' is not an octal mode"), std::string::npos) << r4.err;
  EXPECT_FALSE(fs::exists(tmp / "bad"));
}

// ---- a server sending malformed replies --------------------------------------------------------------

// minimongod --fault-corrupt CMD sends CMD's cursor batch with a first document whose length runs
// past the reply, as a hostile or broken server could. The client checks every reply before it
// reads it (this suite runs under ASan: a read out of bounds would abort with a report).
TEST(Security, MalformedServerRepliesAreRefused) {
  // A dump of bad.c (300 documents, 50 a batch) from `server`.
  auto dump_bad = [](test::MiniMongod& server, const fs::path& out) {
    return bsonpipe({"dump", "--uri", server.uri(), "--db", "bad", "--out", out.string(), "--batchSize", "50",
                     "--retries", "1", "--progress", "none"});
  };
  // Every find reply is bad: one line naming the server, a non-zero exit, no dump left.
  {
    test::MiniMongod server({"--generate", "bad.c:300:200", "--fault-corrupt", "find"});
    fs::path tmp = test::temp_dir("sec_malformed_find");
    auto r = dump_bad(server, tmp / "d");
    EXPECT_NE(r.exit_code, 0) << show(r);
    EXPECT_NE(r.err.find("malformed reply from 127.0.0.1:" + std::to_string(server.port())), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("bad.c"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "d"));
  }
  // Every getMore reply is bad: each one is refused and the read resumes after the last _id taken
  // from a good reply (a new find), so the dump still completes with every document exactly once.
  {
    test::MiniMongod server({"--generate", "bad.c:300:200", "--fault-corrupt", "getMore"});
    fs::path tmp = test::temp_dir("sec_malformed_getmore");
    auto r = dump_bad(server, tmp / "d");
    ASSERT_EQ(r.exit_code, 0) << show(r);
    EXPECT_NE(r.err.find("malformed reply from 127.0.0.1:" + std::to_string(server.port())), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
    std::set<std::string> ids;
    auto docs = test::split_documents(test::read_file(tmp / "d" / "bad" / "c.bson"));
    for (auto& d : docs) {
      auto raw = formats::DocView(d).find("_id").raw();
      ids.insert(std::string(raw.begin(), raw.end()));
    }
    EXPECT_EQ(docs.size(), 300u);
    EXPECT_EQ(ids.size(), 300u);
  }
}

// ---- minimongod -------------------------------------------------------------------------------------

// The listening sockets of /proc/net/tcp{,6} on `port`, as "addr:port" in the kernel's hex.
std::vector<std::string> listeners(const std::string& table, int port) {
  std::vector<std::string> out;
  std::ifstream in(table);
  std::string line;
  char hexport[8];
  std::snprintf(hexport, sizeof hexport, "%04X", port);
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string sl, local, remote, st;
    ls >> sl >> local >> remote >> st;
    if (st == "0A" && local.size() > 5 && local.substr(local.size() - 4) == hexport) out.push_back(local);
  }
  return out;
}

TEST(Security, MinimongodBindsLoopbackOnly) {
  test::MiniMongod v4;
  EXPECT_EQ(listeners("/proc/net/tcp", v4.port()), std::vector<std::string>{"0100007F:" + [&] {
              char h[8];
              std::snprintf(h, sizeof h, "%04X", v4.port());
              return std::string(h);
            }()});
  EXPECT_TRUE(listeners("/proc/net/tcp6", v4.port()).empty());
  // --bind_ip ::1: the IPv6 loopback only.
  test::MiniMongod v6({"--bind_ip", "::1"});
  EXPECT_TRUE(listeners("/proc/net/tcp", v6.port()).empty());
  auto l6 = listeners("/proc/net/tcp6", v6.port());
  ASSERT_EQ(l6.size(), 1u);
  EXPECT_EQ(l6[0].substr(0, 32), "00000000000000000000000001000000");
  // Anything but a loopback address is refused at start.
  for (const char* addr : {"0.0.0.0", "::"}) {
    auto r =
        test::run({test::program("minimongod").string(), "--port", "0", "--bind_ip", addr}, std::chrono::seconds(30));
    EXPECT_NE(r.exit_code, 0) << addr << show(r);
    EXPECT_NE(r.err.find("loopback addresses only"), std::string::npos) << r.err;
  }
}

TEST_F(AuthServer, UnauthenticatedCommandsRefused) {
  auto c = test::connect("mongodb://" + host() + "/");
  ASSERT_TRUE(c);
  auto dbs = io::list_databases(*c);
  ASSERT_FALSE(dbs.is_ok());
  EXPECT_NE(dbs.error().to_string().find("requires authentication"), std::string::npos) << dbs.error().to_string();
  io::FindOptions fo;
  auto cur = io::find(*c, "sec", "data", fo);
  ASSERT_FALSE(cur.is_ok());
  EXPECT_NE(cur.error().to_string().find("requires authentication"), std::string::npos);
  // And through the CLI: no partial output.
  fs::path out = test::temp_dir("sec_noauth") / "o";
  auto r = bsonpipe({"dump", "--uri", "mongodb://" + host() + "/", "--out", out.string()});
  EXPECT_NE(r.exit_code, 0) << show(r);
  EXPECT_NE(r.err.find("requires authentication"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "sec/data.bson"));
}

}  // namespace
}  // namespace bsonpipe
