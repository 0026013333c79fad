// libFuzzer target: the Extended JSON parser (canonical, relaxed and the legacy shell forms
// --query takes). Whatever it accepts must be a valid BSON document that the writer can print.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"

using namespace bsonpipe::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  for (bool legacy : {true, false}) {
    auto r = extjson::parse(json, {.allow_legacy = legacy});
    if (!r) {
      if (r.status().offset() > static_cast<std::int64_t>(size)) std::abort();
      continue;
    }
    if (!validate(*r).is_ok()) std::abort();
    std::string out = extjson::to_json(DocView(*r));
    // Canonical output must parse again (no crash; a value-exact round trip is the corpus tests').
    auto again = extjson::parse(out, {.allow_legacy = false});
    if (again && !validate(*again).is_ok()) std::abort();
  }
  return 0;
}
