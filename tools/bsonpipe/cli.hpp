// The bsonpipe command line: each command lives in its own cmd_*.cpp and registers a CLI11
// subcommand here. Only tools/ includes CLI11.
#pragma once

#include <atomic>
#include <string>

namespace CLI {
class App;
}

namespace bsonpipe::tools {

// Set by SIGINT/SIGTERM; pipelines poll it and stop, cleaning up, with a non-zero exit.
const std::atomic<bool>& interrupted();
void install_signal_handlers();

// Each adds a subcommand to `app`; when it runs, its exit code goes to `exit_code`.
void add_dump_command(CLI::App& app, int& exit_code);
void add_restore_command(CLI::App& app, int& exit_code);
void add_index_command(CLI::App& app, int& exit_code);
void add_catalog_command(CLI::App& app, int& exit_code);
void add_copy_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);

// Prints "bsonpipe <command>: <message>" on stderr (one line) and returns the exit code 1.
int fail(const std::string& command, const std::string& message);

}  // namespace bsonpipe::tools
