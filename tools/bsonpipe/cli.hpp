// The bsonpipe command line: each command lives in its own cmd_*.cpp and registers a CLI11
// subcommand here. Only tools/ includes CLI11.
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "formats/status.hpp"

namespace CLI {
class App;
}

namespace bsonpipe::tools {

// SIGINT/SIGTERM: interrupted() is true from the signal on; interrupt_token() is stopped (the
// operations' options take it, and their waits wake on it: they stop, clean up, exit non-zero).
bool interrupted();
std::stop_token interrupt_token();
// Call first in main, before any thread starts.
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
// The same for a bad command line: returns usage_exit_code(command).
int usage_error(const std::string& command, const std::string& message);
// The exit status of a command line `command` cannot use: 1 for dump and restore (as mongodump
// and mongorestore), 2 for bsonpipe's own commands.
int usage_exit_code(const std::string& command);

enum class MongoTool : std::uint8_t { kDump, kRestore };
// Reads a dump/restore command line (the arguments after the command) as mongodump/mongorestore
// do (go-flags: --archive alone vs --archive=FILE, bool flags without values, -dNAME, -vvv, a
// positional connection string, ...) and returns it rewritten for CLI11's parse of `cmd`. Errors
// are mongo-tools' messages ("error parsing command line options: ..."), for exit code 2.
Result<std::vector<std::string>> normalize_mongo_args(const CLI::App& cmd, const std::vector<std::string>& args,
                                                      MongoTool tool);

}  // namespace bsonpipe::tools
