// libFuzzer target: the BSON validator over one untrusted document, then the read-side code that
// trusts a validated document (iteration, find_path, Extended JSON output, the re-parse of it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"

using namespace bsonpipe::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteSpan in(data, size);
  // Both option sets: the hot path (no UTF-8 check) and --objcheck (UTF-8, shallow depth limit).
  for (int pass = 0; pass < 2; ++pass) {
    ValidateOptions opts;
    opts.check_utf8 = pass == 1;
    opts.max_depth = pass == 1 ? 8 : 100;
    opts.max_size = pass == 1 ? 4096 : 0;
    bsonpipe::Status s = validate(in, opts, 7);
    if (!s.is_ok()) {
      // An error names an offset inside the input (shifted by base_offset), never past it.
      if (s.offset() >= 0 && (s.offset() < 7 || s.offset() > static_cast<std::int64_t>(size) + 7)) std::abort();
      continue;
    }
    DocView doc(in);
    std::size_t n = 0;
    for (ElementView e : doc) {
      (void)e.key();
      (void)e.value();
      ++n;
    }
    if (n != doc.count()) std::abort();
    (void)doc.find_path("a.b.0.c");
    std::string relaxed = extjson::to_json(doc, {.mode = extjson::Mode::kRelaxed});
    std::string canonical = extjson::to_json(doc);
    // The parser must take whatever the writer wrote without crashing (whether every BSON value
    // round-trips exactly is the corpus tests' job, not the fuzzer's).
    auto back = extjson::parse(canonical);
    if (back && !validate(*back).is_ok()) std::abort();
  }
  auto walked = walk_documents(in, 0);
  (void)walked;
  return 0;
}
