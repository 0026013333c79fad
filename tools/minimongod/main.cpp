// minimongod: the bundled MongoDB-compatible loopback server (demos, tests, benchmarks).
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "tools/minimongod/engine.hpp"
#include "tools/minimongod/generate.hpp"
#include "tools/minimongod/server.hpp"

using namespace bsonpipe::minimongod;

namespace {

bool parse_fail_rule(const std::string& text, FailRule& rule) {
  auto a = text.find(':');
  if (a == std::string::npos || a == 0) return false;
  rule.command = text.substr(0, a);
  auto b = text.find(':', a + 1);
  try {
    rule.code = std::stoi(text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
    rule.count = b == std::string::npos ? -1 : std::stoi(text.substr(b + 1));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"minimongod: a MongoDB-compatible in-memory server on a loopback address"};
  ServerOptions sopts;
  EngineOptions eopts;
  std::vector<std::string> generate, fail;
  bool not_primary = false;
  std::int64_t oplog_mb = 256;
  app.add_option("--port", sopts.port, "TCP port (0 = ephemeral)")->capture_default_str();
  app.add_option("--bind_ip", sopts.bind, "loopback address to bind (127.0.0.1 or ::1)")->capture_default_str();
  app.add_option("--replSet", eopts.repl_set, "replica-set name: hello reports a primary; keeps local.oplog.rs");
  app.add_option("--oplogSizeMB", oplog_mb, "oplog size bound in MiB (replica-set mode)")->capture_default_str();
  app.add_flag("--oplogV2Updates", eopts.oplog_v2_updates,
               "log operator updates as $v:2 deltas {\"$v\":2,\"diff\":{...}} as MongoDB 5.0+ does");
  app.add_option("--user", eopts.user, "require SCRAM-SHA-256/SHA-1 login as this user (with --password)");
  app.add_option("--password", eopts.password, "password of --user");
  app.add_option("--tlsCertificateKeyFile", sopts.tls_certificate_key_file, "PEM with certificate and key: serve TLS");
  app.add_option("--tlsCAFile", sopts.tls_ca_file,
                 "CA certificates (PEM) for client certificates: a client's certificate must verify against them, "
                 "and its subject (RFC 2253) is the $external user that MONGODB-X509 logs in as");
  app.add_flag("--tlsRequireClientCert", sopts.tls_require_client_cert,
               "refuse TLS clients without a certificate signed by --tlsCAFile");
  app.add_option("--generate", generate, "ns:count:avgBytes[:seed] documents to create at startup (repeatable)");
  app.add_option("--fault-close-after", sopts.fault_close_after, "close each connection after N replies");
  app.add_option("--fault-delay-ms", sopts.fault_delay_ms, "delay every command by D ms");
  app.add_option("--fault-delay-command", sopts.fault_delay_command,
                 "delay only the commands of this name (with --fault-delay-ms)");
  app.add_option("--fault-fail", fail, "CMD:CODE[:COUNT] fail command CMD with CODE (COUNT times)");
  app.add_option("--require-write-concern", sopts.require_write_concern,
                 "refuse inserts whose writeConcern.w differs (a test sees what a client sends)");
  app.add_option("--fault-corrupt", sopts.fault_corrupt,
                 "CMD: the first batch document of every CMD reply gets a length past the reply's end");
  app.add_flag("--fault-gate", sopts.fault_gate,
               "accept the test-only faultGate command: hold chosen commands until the test opens the gate");
  app.add_flag("--fault-not-primary", not_primary, "fail every write with NotWritablePrimary (10107)");
  app.add_option("--max-connections", sopts.max_connections, "connections served at once")->capture_default_str();
  app.add_flag("--ignore-list-filters", eopts.ignore_list_filters,
               "ignore the filter of listCollections, listDatabases and of find on system.* collections and "
               "return everything, as some MongoDB-compatible servers do (clients must match names themselves)");
  CLI11_PARSE(app, argc, argv);

  if (eopts.user.empty() != eopts.password.empty()) {
    std::cerr << "minimongod: --user and --password go together\n";
    return 2;
  }
  if ((!sopts.tls_ca_file.empty() || sopts.tls_require_client_cert) && sopts.tls_certificate_key_file.empty()) {
    std::cerr << "minimongod: --tlsCAFile and --tlsRequireClientCert need --tlsCertificateKeyFile\n";
    return 2;
  }
  if (sopts.tls_require_client_cert && sopts.tls_ca_file.empty()) {
    std::cerr << "minimongod: --tlsRequireClientCert needs --tlsCAFile\n";
    return 2;
  }
  eopts.oplog_max_bytes = oplog_mb * 1024 * 1024;
  for (auto& f : fail) {
    FailRule r;
    if (!parse_fail_rule(f, r)) {
      std::cerr << "minimongod: bad --fault-fail '" << f << "' (want CMD:CODE[:COUNT])\n";
      return 2;
    }
    eopts.fail_rules.push_back(r);
  }
  if (not_primary)
    for (const char* c : {"insert", "update", "delete", "findAndModify", "create", "drop", "createIndexes"})
      eopts.fail_rules.push_back({c, 10107, -1});
  std::vector<GenerateSpec> specs;
  for (auto& g : generate) {
    auto s = parse_generate_spec(g);
    if (!s) {
      std::cerr << "minimongod: " << s.error().message << "\n";
      return 2;
    }
    specs.push_back(*s);
  }

  // SIGINT/SIGTERM are taken synchronously by the main thread (blocked everywhere else).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Engine engine(eopts);
  for (auto& s : specs) {
    auto t0 = std::chrono::steady_clock::now();
    if (auto r = generate_into(engine, s); !r) {
      std::cerr << "minimongod: --generate failed: " << r.error().message << "\n";
      return 1;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "minimongod: generated " << s.count << " documents into " << s.db << "." << s.collection << " in "
              << ms << " ms\n";
  }
  Server server(engine, sopts);
  if (auto st = server.start(); !st) {
    std::cerr << "minimongod: " << st.to_string() << "\n";
    return 1;
  }
  std::printf("minimongod listening on %s:%u\n", sopts.bind == "::1" ? "[::1]" : "127.0.0.1",
              static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  std::cerr << "minimongod: signal " << sig << ", shutting down\n";
  engine.shutdown();
  server.stop();
  return 0;
}
