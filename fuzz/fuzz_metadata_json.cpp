// libFuzzer target: metadata.json and prelude.json parsing (formats/dump_layout), and the writer
// over whatever the parser accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/dump_layout.hpp"

using namespace bsonpipe::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto m = parse_collection_metadata(json);
  if (m) {
    if (!m->options.empty() && !validate(m->options).is_ok()) std::abort();
    for (const auto& ix : m->indexes) {
      if (!validate(ix).is_ok()) std::abort();
    }
    std::string text = write_collection_metadata(*m);
    // What we write must be readable by us again.
    if (!parse_collection_metadata(text)) std::abort();
  }
  auto p = parse_prelude_json(json);
  if (p) (void)write_prelude_json(*p);
  // Collection names from file stems (restore derives names from untrusted file names).
  auto c = collection_from_stem(json);
  (void)c;
  auto u = query_unescape(json);
  (void)u;
  return 0;
}
