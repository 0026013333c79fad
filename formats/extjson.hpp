// Extended JSON v2 (canonical and relaxed) writer and parser, straight between JSON text and BSON
// bytes. The parser also takes the legacy forms mongodump's --query accepts.
#pragma once

#include <string>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/status.hpp"

namespace bsonpipe::formats::extjson {

enum class Mode : std::uint8_t { kCanonical, kRelaxed };

struct WriteOptions {
  Mode mode = Mode::kCanonical;  // default: canonical, as metadata.json needs
  // Indent nested values with this many spaces per level; 0 = compact ("{"a":1}"), as mongodump
  // writes metadata.json.
  int indent = 0;
};

// One document as Extended JSON. `doc` must be validated.
std::string to_json(DocView doc, const WriteOptions& opts = {});
// Appends one document's Extended JSON to `out` (no allocation of an intermediate string).
void append_json(std::string& out, DocView doc, const WriteOptions& opts = {});
// One array (BSON array document) as a JSON array.
void append_json_array(std::string& out, DocView arr, const WriteOptions& opts = {});

struct ParseOptions {
  // Accept the legacy/shell forms mongodump --query takes (ObjectId("..."), ISODate("..."),
  // NumberLong(...), {"$date": <millis>}, {"$binary": "..", "$type": ".."}, ...).
  bool allow_legacy = true;
};

// Parses a JSON object into a BSON document. Errors carry the byte offset into `json`.
Result<Bytes> parse(std::string_view json, const ParseOptions& opts = {});

}  // namespace bsonpipe::formats::extjson
