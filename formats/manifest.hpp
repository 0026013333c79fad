// bsonpipe's manifest.json at a dump's root: what was dumped, from where, when, and per file its
// size, document count and XXH3-128. The stock tools ignore it. `complete` is written last: a
// dump without a manifest, or with complete=false, is not a finished dump.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/status.hpp"

namespace bsonpipe::formats {

inline constexpr std::string_view kManifestName = "manifest.json";

struct ManifestFile {
  std::string path;  // relative to the dump root, '/'-separated
  std::string ns;    // "db.collection"; "" for prelude.json and similar
  std::string kind;  // "data", "metadata", "oplog", "archive", "prelude", "file"
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;     // BSON bytes before compression
  std::uint64_t stored_bytes = 0;  // bytes of the file as stored
  std::string xxh3_128;            // of the stored bytes, 32 hex digits
  bool operator==(const ManifestFile&) const = default;
};

// Bundled files (`dump --include-path DIR`): directory trees copied beside the database dump,
// under "bsonpipe_files/<n>/" (a valid database name, so that restore tools scanning the dump
// see a database directory holding only subdirectories, which they skip; a dump that holds a
// database of that name cannot bundle files). Section "bundled" of the manifest; absent when
// nothing was bundled.
inline constexpr std::string_view kBundleDir = "bsonpipe_files";

struct BundledRoot {
  std::string dir;     // "bsonpipe_files/<n>", relative to the dump root
  std::string name;    // restored as TARGET/<name>: the source directory's base name, made unique
  std::string source;  // the --include-path as given (absolute), for information only
  bool operator==(const BundledRoot&) const = default;
};

struct BundledFile {
  std::string path;        // relative to the dump root: "<root.dir>/<relative path>", '/'-separated
  std::string type;        // "file", "dir" or "symlink"
  std::uint32_t mode = 0;  // permission bits (07777) of the original
  std::uint64_t size = 0;  // bytes (files)
  std::string xxh3_128;    // of the file's bytes, 32 hex digits (files; "" otherwise)
  std::string target;      // symlinks: where the link points, as stored in the link
  bool operator==(const BundledFile&) const = default;
};

struct Manifest {
  std::string tool = "bsonpipe";
  std::string tool_version;
  std::string source;    // the source URI, password redacted
  std::string topology;  // "standalone", "replicaSet", "sharded"
  std::string server_version;
  std::string format;         // "directory" or "archive"
  std::string compression;    // "none", "gzip", "zstd"
  std::int64_t start_ms = 0;  // UTC milliseconds since the epoch
  std::int64_t end_ms = 0;
  std::vector<ManifestFile> files;
  std::vector<BundledRoot> bundled_roots;  // "bundled": {"roots": [...], "files": [...]}
  std::vector<BundledFile> bundled;
  bool complete = false;
  bool operator==(const Manifest&) const = default;
};

// Pretty JSON (relaxed Extended JSON, 2-space indent); `complete` is the last field.
std::string manifest_to_json(const Manifest& m);
// Rejects any path that could leave the dump: absolute, empty, "." or ".." components; bundled
// paths must also lie under their root's directory.
Result<Manifest> manifest_from_json(std::string_view json);

// True if `rel` is a relative '/'-separated path with no empty, "." or ".." component.
bool is_safe_relative_path(std::string_view rel);

}  // namespace bsonpipe::formats
