// Permissions of what `bsonpipe dump` creates: owner-only by default (files 0600, directories
// 0700), since a dump holds a whole database; `--file-mode 0644` (or 0640, ...) opts out.
#pragma once

#include <string>

#include "formats/status.hpp"

namespace CLI {
class App;
}

namespace bsonpipe::tools {

struct FileModeFlag {
  std::string mode = "0600";

  void add_to(CLI::App& cmd);
  // Sets the process umask so that new files get at most `mode` (and never more than 0644, the
  // mode files are opened with) and new directories `mode` plus x wherever r is set. Process-wide
  // on purpose: io::Storage has no file modes, so the umask is how every file a dump creates
  // (through any storage call, on any worker thread) gets them; `dump` sets it before anything
  // is written and exits after.
  Status apply() const;
};

}  // namespace bsonpipe::tools
