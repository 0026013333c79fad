// bsonpipe: parallel, streaming dump and restore for MongoDB. Invoked as `mongodump` or
// `mongorestore` (a link named so), it takes those tools' command lines.
#include <CLI/CLI.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstring>
#include <string>
#include <vector>

#include "tools/bsonpipe/cli.hpp"

namespace {

using namespace bsonpipe::tools;

void blank(char* from) {
  std::memset(from, '*', std::strlen(from));
}

// A connection string's password (after the "user:") and its client certificate key password options.
void blank_uri_passwords(std::string_view a, char* arg) {
  auto scheme = a.find("://");
  auto at = a.find('@', scheme);
  auto colon = a.find(':', scheme + 3);
  if (at != std::string_view::npos && colon != std::string_view::npos && colon < at)
    std::memset(arg + colon + 1, '*', at - colon - 1);
  for (std::string_view opt : {"tlsCertificateKeyFilePassword=", "sslPEMKeyPassword="}) {
    // Option names are case-insensitive; the usual spellings are enough for the process table.
    for (auto p = a.find(opt); p != std::string_view::npos; p = a.find(opt, p + 1)) {
      auto from = p + opt.size();
      auto end = a.find_first_of("&;", from);
      if (end == std::string_view::npos) end = a.size();
      std::memset(arg + from, '*', end - from);
    }
  }
}

// Passwords given on the command line are blanked in our own argv (what `ps` and
// /proc/PID/cmdline show) as soon as they are copied; $BSONPIPE_PASSWORD or the prompt keep them
// out of the process table entirely. URIs with a password are blanked after the "user:".
void blank_passwords(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    // The client certificate key's password likewise, as a flag or a URI option.
    auto key_flag = [&](std::string_view f) { return a == f || (a.rfind(f, 0) == 0 && a[f.size()] == '='); };
    const bool key_password = key_flag("--tlsCertificateKeyFilePassword") || key_flag("--sslPEMKeyPassword");
    if (((a == "--password" || a == "-p") || (key_password && a.find('=') == std::string_view::npos)) && i + 1 < argc) {
      blank(argv[i + 1]);
    } else if (a.rfind("--password=", 0) == 0 || key_password) {
      blank(argv[i] + a.find('=') + 1);
    } else if (a.size() > 2 && a[0] == '-' && a[1] == 'p') {  // -pSECRET, -p=SECRET (go-flags forms)
      blank(argv[i] + 2);
    } else if (a.find("://") != std::string_view::npos) {
      blank_uri_passwords(a, argv[i]);
    }
  }
}

// argv[0] dispatch: "mongodump ARGS" == "bsonpipe dump ARGS" (likewise mongorestore, and the
// bsonpipe-dump / bsonpipe-restore aliases).
void insert_alias_command(std::vector<std::string>& args) {
  std::string self = args[0].substr(args[0].find_last_of('/') + 1);
  for (auto [alias, cmd] : {std::pair{"mongodump", "dump"},
                            {"bsonpipe-dump", "dump"},
                            {"mongorestore", "restore"},
                            {"bsonpipe-restore", "restore"}})
    // "mongodump --version" is the program's version, not a dump flag.
    if (self == alias && !(args.size() == 2 && args[1] == "--version")) args.insert(args.begin() + 1, cmd);
}

// dump and restore read mongodump's/mongorestore's command lines (tools/bsonpipe/mongo_args.cpp):
// rewrites their arguments in place. Returns an exit code (0: go on).
int normalize_command_line(CLI::App& app, std::vector<std::string>& args) {
  if (args.size() <= 1 || (args[1] != "dump" && args[1] != "restore")) return 0;
  auto tool = args[1] == "dump" ? MongoTool::kDump : MongoTool::kRestore;
  auto normalized = normalize_mongo_args(*app.get_subcommand(args[1]), {args.begin() + 2, args.end()}, tool);
  if (!normalized) {
    std::fprintf(stderr, "bsonpipe %s: %s\n", args[1].c_str(), normalized.status().message().c_str());
    return usage_exit_code(args[1]);
  }
  args.resize(2);
  args.insert(args.end(), normalized->begin(), normalized->end());
  return 0;
}

// Replies, batches and blocks are 1-17 MiB buffers, allocated and freed all run long on several
// threads. glibc serves such sizes with mmap and gives freed heap tops back to the kernel, so the
// same memory is mapped, faulted in, zeroed and unmapped again and again. Kept in the heap, it is
// reused: a plain dump 1.10 -> 0.90 CPU s/GB, copy 1.60 -> 1.22 (bench/RESULTS.md, session 10).
void tune_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}
}  // namespace

int main(int argc, char** argv) {
  tune_allocator();
  install_signal_handlers();
  std::vector<std::string> args(argv, argv + argc);
  blank_passwords(argc, argv);
  insert_alias_command(args);

  CLI::App app{"bsonpipe: fast, parallel dump and restore for MongoDB (mongodump/mongorestore compatible)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bsonpipe 0.1.0");
  int exit_code = 0;
  add_dump_command(app, exit_code);
  add_restore_command(app, exit_code);
  add_index_command(app, exit_code);
  add_catalog_command(app, exit_code);
  add_copy_command(app, exit_code);
  add_verify_command(app, exit_code);

  if (int rc = normalize_command_line(app, args); rc != 0) return rc;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bsonpipe: %s (see --help)\n", e.what());
    return usage_exit_code(args.size() > 1 ? args[1] : std::string());
  }
  return exit_code;
}
