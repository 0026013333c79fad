// The directory dump layout of mongodump: how collection names become file names (and back),
// the relative paths of a dump's files, <coll>.metadata.json and prelude.json. No I/O: callers
// read and write the files; this unit only names them and converts their contents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/bson.hpp"
#include "formats/codec.hpp"
#include "formats/status.hpp"

namespace bsonpipe::formats {

// mongodump keeps every file name within 255 bytes: an escaped collection name longer than 238
// bytes is cut to its first 208 bytes + "%24" + the unpadded base64url SHA-1 of the full name
// (27 bytes), and the full name is recovered from the metadata's collectionName.
inline constexpr std::size_t kMaxFileStemLength = 238;
inline constexpr std::size_t kTruncatedStemPrefix = 208;

// Go's url.QueryEscape, which mongodump applies to collection names: A-Z a-z 0-9 - _ . ~ stay,
// space becomes '+', every other byte %XX (upper-case hex).
std::string query_escape(std::string_view s);
// Go's url.QueryUnescape: '+' is a space, %XX a byte; a '%' without two hex digits is an error
// naming its index.
Result<std::string> query_unescape(std::string_view s);

// The unpadded base64url SHA-1 of a collection name (the part after "%24" in a truncated stem).
std::string collection_name_hash(std::string_view collection);

// The file stem (name without .bson / .metadata.json) mongodump uses for a collection.
std::string collection_file_stem(std::string_view collection);
// True when a stem has the truncated form, so that the collection name must come from the
// metadata file (mongorestore's rule: it contains "%24" and is exactly 238 bytes long).
bool is_truncated_stem(std::string_view stem);
// The collection name a stem stands for: the exact inverse of collection_file_stem. A truncated
// stem needs `metadata_collection_name` (the collectionName of the matching metadata.json, taken
// verbatim); it must hash to the stem, else this is an error, as is a '%' without two hex digits.
// The name may be any bytes: whether a server accepts it is archive::validate_namespace's call,
// made where the name is used.
Result<std::string> collection_from_stem(std::string_view stem, std::string_view metadata_collection_name = {});

enum class DumpFileKind : std::uint8_t { kBson, kMetadata };
// A file's compression is its codec (formats/codec.hpp: the one table of codecs).
using Compression = Codec;

std::string_view compression_suffix(Compression c);  // the codec's suffix: "", ".gz", ".zst"

// A file name of a dump directory split into stem, kind and compression: "<stem>.bson",
// "<stem>.metadata.json", each optionally + ".gz" / ".zst"; "<stem>.bin" is legacy BSON.
struct DumpFileName {
  std::string stem;
  DumpFileKind kind = DumpFileKind::kBson;
  Compression compression = Compression::kNone;
  bool operator==(const DumpFileName&) const = default;
};
std::optional<DumpFileName> split_dump_file_name(std::string_view file_name);

// "<stem>.bson[.gz]" or "<stem>.metadata.json[.gz]" for a collection.
std::string dump_file_name(std::string_view collection, DumpFileKind kind, Compression c = Compression::kNone);
// "<db>/<file name>", relative to the dump root. Fails for a database name a server refuses
// (archive::validate_database_name) and an empty collection name; any other collection name is
// fine, since only its escaped stem is used: a path built here never leaves the dump directory.
Result<std::string> dump_file_path(std::string_view db, std::string_view collection, DumpFileKind kind,
                                   Compression c = Compression::kNone);
// "prelude.json[.gz]" and "oplog.bson[.gz]", at the dump root.
std::string prelude_file_name(Compression c = Compression::kNone);
std::string oplog_file_name(Compression c = Compression::kNone);

// A collection's metadata.json: {"options":{...},"indexes":[...],"uuid":"<hex>",
// "collectionName":"...","type":"..."} in canonical Extended JSON, compact, in that key order.
struct CollectionMetadata {
  Bytes options;               // BSON document; empty vector when the file has none
  std::vector<Bytes> indexes;  // one BSON document per index, as listIndexes returned it
  std::string uuid;            // 32 lower-case hex digits, or "" (servers before 3.6)
  std::string collection_name;
  std::string type;  // "", "collection", "view" or "timeseries"
  // Which of the keys mongodump may leave out were in the file, so that an older file is written
  // back as it was. The defaults give current mongodump output: "options" only when non-empty,
  // "collectionName" always, "uuid" and "type" when non-empty.
  bool options_present = false;
  bool collection_name_present = true;

  bool operator==(const CollectionMetadata&) const = default;
};

// Parses metadata.json text (canonical, relaxed or legacy Extended JSON). An empty (or
// all-whitespace) file is valid and means "no metadata", as mongorestore treats it: the result
// has no options, no indexes and neither optional key present. Unknown keys are ignored.
Result<CollectionMetadata> parse_collection_metadata(std::string_view json);
// The exact text mongodump writes for this metadata (no trailing newline).
std::string write_collection_metadata(const CollectionMetadata& m);

// prelude.json at the dump root (mongodump 100.12+): {"ServerVersion":"...","ToolVersion":"..."}.
struct PreludeJson {
  std::string server_version;
  std::string tool_version;
  bool operator==(const PreludeJson&) const = default;
};
// mongorestore requires ServerVersion; so does this.
Result<PreludeJson> parse_prelude_json(std::string_view json);
// As Go's encoding/json writes it (HTML-significant characters escaped as \u003c and so on).
std::string write_prelude_json(const PreludeJson& p);

}  // namespace bsonpipe::formats
