// Bundled files: directory trees copied into a dump beside the database (`dump --include-path`)
// and put back under a target directory (`restore --restore-paths`), each file listed in the
// manifest's "bundled" section with its size, permissions and XXH3-128.
//
// Storage: what is written into the dump and read back from it goes through io::Storage
// (BundleOptions::storage, restore_bundle's `storage`). The source trees (--include-path) and
// the --restore-paths target are the local file system: bundling is about local files, their
// symbolic links and permission bits, which a Storage does not model. Symbolic links in the dump
// are made directly (Storage has no links). Threading: each function runs on the calling thread;
// distinct calls may run at the same time on distinct dumps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "formats/manifest.hpp"
#include "formats/status.hpp"
#include "io/storage.hpp"

namespace bsonpipe::pipeline {

struct BundleOptions {
  // Directories to copy (--include-path, repeatable). Default: none (nothing is bundled).
  std::vector<std::filesystem::path> include_paths;
  // Globs (fnmatch) matched against each entry's path relative to its include directory and
  // against its base name; a matching directory is left out with everything under it. Default: none.
  std::vector<std::string> excludes;
  // SIGINT/SIGTERM (a stop request); stops the copy with kCancelled. Default: none.
  std::stop_token interrupt;
  // Where the dump is written (directories, copied files; the staging rename of move_bundle).
  // Null = io::local_storage(). Copied files get the storage's default mode (the process umask
  // locally); their original bits are in the manifest.
  io::Storage* storage = nullptr;
  // Whether `storage` can hold the trees' symbolic links (made directly: the local file system).
  // False for object storage, which has no links: a symbolic link in an include tree is then
  // refused in one line naming it. Default: true.
  bool links = true;
};

struct BundleResult {
  std::vector<formats::BundledRoot> roots;
  std::vector<formats::BundledFile> files;  // directories first within each tree, sorted by path
  std::vector<std::string> notices;         // entries not copied (sockets, devices, fifos)
  std::uint64_t bytes = 0;
  // The storage the copy went to (BundleOptions::storage), for move_bundle. Null = local.
  io::Storage* storage = nullptr;
};

// Copies every include path into `dump_root`/bsonpipe_files/<n>/ (n = 0, 1, ... in the order
// given). Symbolic links are stored as links, never followed; permission bits are kept. Fails
// naming the file on any read or write error. Runs on the calling thread.
Result<BundleResult> copy_bundle(const std::filesystem::path& dump_root, const BundleOptions& opts);

// Moves the copied trees from a staging directory to the finished dump (replacing an older
// bsonpipe_files there), through bundle.storage. Nothing to do when nothing was bundled.
Status move_bundle(const std::filesystem::path& staging, const std::filesystem::path& out, const BundleResult& bundle);

struct RestorePathsReport {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t bytes = 0;
};

// Puts a dump's bundled files back: each root's tree goes to `target`/<root.name>/. Every path
// is checked to stay under `target` (no "..", no absolute path, no symbolic link on the way)
// and every file's size and XXH3-128 are checked before it is moved into place (written under a
// temporary name first). Existing files are replaced. Fails at the first problem, naming it.
// `storage`: where the dump is read (null = io::local_storage()); `target` is local.
Result<RestorePathsReport> restore_bundle(const std::filesystem::path& dump_root, const formats::Manifest& manifest,
                                          const std::filesystem::path& target, const std::stop_token& interrupt = {},
                                          io::Storage* storage = nullptr);

}  // namespace bsonpipe::pipeline
