// Shared helpers for tests: where the fixtures are, hex decoding, reading files, and the BSON
// corpus loaded with Boost.JSON (an independent JSON reader, so the corpus is not read by the
// code under test).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "formats/bson.hpp"

namespace bsonpipe::test {

std::filesystem::path shared_dir();
std::filesystem::path fixtures_dir();
std::filesystem::path binary_dir();
std::filesystem::path source_dir();

formats::Bytes from_hex(std::string_view hex);
std::string to_hex(formats::ByteSpan b);
formats::Bytes read_file(const std::filesystem::path& p);
std::string read_text(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, formats::ByteSpan data);

// A fresh empty directory under the build tree, removed at process exit.
std::filesystem::path temp_dir(const std::string& name);

struct CorpusValid {
  std::string description;
  std::string canonical_bson;  // hex
  std::string canonical_extjson;
  std::string relaxed_extjson;  // empty when absent
  std::string degenerate_bson;  // hex, empty when absent
  std::string degenerate_extjson;
  std::string converted_bson;
  std::string converted_extjson;
  bool lossy = false;
};
struct CorpusError {
  std::string description;
  std::string input;  // hex for decodeErrors, a string for parseErrors
};
struct CorpusFile {
  std::string name;
  std::string bson_type;
  std::string test_key;
  bool deprecated = false;
  std::vector<CorpusValid> valid;
  std::vector<CorpusError> decode_errors;
  std::vector<CorpusError> parse_errors;
};
// Every file of ../shared/fixtures/bson-corpus, sorted by name.
std::vector<CorpusFile> load_corpus();

}  // namespace bsonpipe::test
