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
  bool complete = false;
  bool operator==(const Manifest&) const = default;
};

// Pretty JSON (relaxed Extended JSON, 2-space indent); `complete` is the last field.
std::string manifest_to_json(const Manifest& m);
Result<Manifest> manifest_from_json(std::string_view json);

}  // namespace bsonpipe::formats
