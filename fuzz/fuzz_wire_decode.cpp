// libFuzzer target: the wire decoder over one untrusted message (OP_MSG, OP_QUERY, OP_REPLY and
// OP_COMPRESSED with zlib/zstd/noop), as the client and minimongod receive them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "formats/bson.hpp"
#include "io/wire.hpp"

using namespace bsonpipe;
using namespace bsonpipe::io;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  formats::ByteSpan in(data, size);
  for (bool validate_docs : {false, true}) {
    DecodeOptions opts;
    opts.max_message_size = 1 << 20;
    opts.validate_documents = validate_docs;
    auto v = decode_message(in, opts);
    if (v) {
      if (const OpMsgView* m = v->msg()) {
        for (const auto& seq : m->sequences) {
          auto n = formats::walk_documents(seq.documents);
          if (!n || *n != seq.count) std::abort();
        }
        // Views only walk validated documents: without validate_documents only the lengths and
        // terminators were checked (the client's hot path trusts the server that far).
        if (validate_docs) (void)m->body.find("$db");
      }
      if (const OpReplyView* r = v->reply()) (void)r->first();
      if (const OpQueryView* q = v->query(); q && validate_docs) (void)q->query.find("isMaster");
    }
    auto owned = decode_owned(formats::Bytes(in.begin(), in.end()), opts);
    (void)owned;
  }
  return 0;
}
