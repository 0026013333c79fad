// libFuzzer target: the streaming mongodump archive reader, fed in small chunks so that every
// refill path runs, with full document validation and the metadata check on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "formats/archive.hpp"
#include "formats/bson.hpp"

using namespace bsonpipe::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the chunk size and the options; the rest is the archive.
  const std::uint8_t knob = data[0];
  ByteSpan in(data + 1, size - 1);
  archive::ReaderOptions opts;
  opts.max_document_size = 64 * 1024;
  opts.batch_bytes = 1 + (knob & 0x3F) * 64;
  opts.read_size = 1 + (knob & 0x0F) * 37;
  opts.validate_documents = (knob & 0x40) != 0;
  opts.strict_fields = (knob & 0x80) == 0;
  archive::Reader reader(archive::span_source(in, 1 + (knob % 13) * 11), opts);
  auto prelude = reader.read_prelude();
  if (!prelude) return 0;
  for (int i = 0; i < 100000; ++i) {
    auto ev = reader.next();
    if (!ev) break;
    if (ev->kind == archive::EventKind::kEnd) break;
    if (ev->kind == archive::EventKind::kDocuments) {
      auto walked = walk_documents(ev->documents, ev->offset);
      if (!walked || *walked != ev->document_count) std::abort();
      if (ev->entry == nullptr) std::abort();
    }
    if (reader.offset() > static_cast<std::int64_t>(in.size())) std::abort();
  }
  (void)reader.namespaces();
  return 0;
}
