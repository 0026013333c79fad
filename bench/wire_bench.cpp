// Wire protocol micro-benchmarks: OP_MSG encode (an insert with a 16 MB document sequence, the
// restore hot path; encoding borrows the documents) and decode (a 16 MB getMore reply, the dump
// hot path: the body is only length-checked, then the cursor batch is split into documents),
// plus the optional CRC-32C.
#include <benchmark/benchmark.h>

#include "bench/bench_data.hpp"
#include "io/commands.hpp"
#include "io/wire.hpp"

namespace {

using namespace bsonpipe;
using formats::Builder;
using formats::Bytes;

constexpr std::size_t kPayload = 16u << 20;

const Bytes& docs() {
  static const Bytes d = bench::generated_bson(1024, kPayload - 64 * 1024);
  return d;
}

void BM_EncodeInsert(benchmark::State& state) {
  const Bytes& d = docs();
  Bytes body =
      Builder().append_string("insert", "c").append_bool("ordered", false).append_string("$db", "bench").finish();
  const bool flatten = state.range(0) != 0;
  for (auto _ : state) {
    io::OpMsgOut m;
    m.body = body;
    m.sequences.push_back({"documents", d});
    auto r = io::encode_op_msg(1, 0, m);
    if (!r) state.SkipWithError("encode failed");
    if (flatten) {
      Bytes flat = r->flatten();
      benchmark::DoNotOptimize(flat.data());
    } else {
      benchmark::DoNotOptimize(r->buffers());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_EncodeInsert)->Arg(0)->Arg(1)->ArgName("flatten")->Unit(benchmark::kMicrosecond);

// A getMore reply: {cursor: {nextBatch: [docs...], id, ns}, ok: 1} as one flattened message.
Bytes reply_message() {
  Builder b;
  b.open_document("cursor").open_array("nextBatch");
  for (auto doc : bench::split_docs(docs())) b.append_document(b.next_array_key(), formats::DocView(doc));
  b.close().append_int64("id", 42).append_string("ns", "bench.c").close().append_double("ok", 1);
  Bytes body = b.finish();
  io::OpMsgOut m;
  m.body = body;
  auto r = io::encode_op_msg(2, 1, m, 64u << 20);
  return r ? r->flatten() : Bytes{};
}

void BM_DecodeReply(benchmark::State& state) {
  Bytes msg = reply_message();
  io::DecodeOptions o;
  o.max_message_size = 64u << 20;
  o.validate_documents = state.range(0) != 0;
  for (auto _ : state) {
    auto r = io::decode_message(msg, o);
    if (!r) state.SkipWithError(r.status().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}
BENCHMARK(BM_DecodeReply)->Arg(0)->Arg(1)->ArgName("validate")->Unit(benchmark::kMillisecond);

// What the dump does with every getMore reply: decode, then split the batch into documents.
void BM_DecodeReplyAndParseCursor(benchmark::State& state) {
  Bytes msg = reply_message();
  io::DecodeOptions o;
  o.max_message_size = 64u << 20;
  std::vector<formats::ByteSpan> batch;
  std::string ns;
  for (auto _ : state) {
    auto r = io::decode_message(msg, o);
    if (!r) state.SkipWithError(r.status().to_string().c_str());
    std::int64_t id = 0;
    batch.clear();
    if (auto s = io::Cursor::parse(r->msg()->body, id, ns, batch); !s) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_DecodeReplyAndParseCursor)->Unit(benchmark::kMillisecond);

// An insert as the server receives it: the kind-1 sequence is walked.
void BM_DecodeInsert(benchmark::State& state) {
  const Bytes& d = docs();
  Bytes body = Builder().append_string("insert", "c").append_string("$db", "bench").finish();
  io::OpMsgOut m;
  m.body = body;
  m.sequences.push_back({"documents", d});
  auto enc = io::encode_op_msg(3, 0, m, 64u << 20);
  Bytes msg = enc ? enc->flatten() : Bytes{};
  io::DecodeOptions o;
  o.max_message_size = 64u << 20;
  for (auto _ : state) {
    auto r = io::decode_message(msg, o);
    if (!r) state.SkipWithError(r.status().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}
BENCHMARK(BM_DecodeInsert)->Unit(benchmark::kMillisecond);

void BM_Crc32c(benchmark::State& state) {
  const Bytes& d = docs();
  for (auto _ : state) benchmark::DoNotOptimize(io::crc32c(d));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.size()));
}
BENCHMARK(BM_Crc32c)->Unit(benchmark::kMillisecond);

}  // namespace
