#include "tools/bsonpipe/file_mode.hpp"

#include <sys/stat.h>

#include <CLI/CLI.hpp>

namespace bsonpipe::tools {

void FileModeFlag::add_to(CLI::App& cmd) {
  cmd.add_option("--file-mode", mode,
                 "permissions of dump files, octal (default 0600: owner only; directories get x where r is set)")
      ->capture_default_str();
}

Status FileModeFlag::apply() const {
  unsigned m = 0;
  bool ok = !mode.empty() && mode.size() <= 4;
  for (char c : mode) {
    if (c < '0' || c > '7') ok = false;
    m = m * 8 + static_cast<unsigned>(c - '0');
  }
  if (!ok || m > 0777)
    return {ErrorCode::kInvalidArgument, "--file-mode '" + mode + "' is not an octal mode like 0600"};
  if ((m & 0600) != 0600)
    return {ErrorCode::kInvalidArgument, "--file-mode '" + mode + "' must let the owner read and write (0600)"};
  const unsigned dir_mode = m | ((m & 0444) >> 2);
  ::umask(static_cast<mode_t>(~dir_mode & 0777));
  return {};
}

}  // namespace bsonpipe::tools
